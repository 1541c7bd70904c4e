"""One-time codes: registration invitations and account links.

A code is 80 random bits written as 16 base-32 characters in groups of four
(`K7QD-M2XA-...`), valid for a limited time, single-use, stored only as its SHA-256. Each
chat identity may send a limited number of wrong codes per hour; past that every code, right
or wrong, is refused until the window has passed, so guessing gains nothing."""
from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Awaitable, Callable

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.people import Identity, User
from bot.policy import Role
from bot.trust import audit
from bot.trust.audit import aware
from bot.trust.models import LINK, REGISTER, Invitation, RegistrationFailure

CODE_BYTES = 10  # 80 bits
_CODE = re.compile(r"[A-Z2-7]{16}")
# Letters people mistake for digits base 32 does not use.
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})


def new_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode("ascii").rstrip("=")
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def normalise_code(text: str) -> str | None:
    cleaned = re.sub(r"[\s\-_.]", "", text or "").upper().translate(_LOOKALIKES)
    return cleaned if _CODE.fullmatch(cleaned) else None


def hash_code(code: str) -> str:
    normalised = normalise_code(code)
    if normalised is None:
        raise ValueError("not a code")
    return hashlib.sha256(normalised.encode("ascii")).hexdigest()


class Outcome(Enum):
    REGISTERED = "registered"
    LINKED = "linked"
    ALREADY_LINKED = "already_linked"
    INVALID = "invalid"
    THROTTLED = "throttled"


@dataclass
class Redemption:
    outcome: Outcome
    user: User | None = None
    invitation: Invitation | None = None
    wait: timedelta | None = None


@dataclass
class IssuedCode:
    code: str
    invitation: Invitation


Merger = Callable[[AsyncSession, int, int], Awaitable[None]]


class Invitations:
    def __init__(self, clock, *, valid_for: timedelta = timedelta(days=7),
                 failures_per_hour: int = 5, merge: Merger | None = None):
        self.clock = clock
        self.valid_for = valid_for
        self.failures_per_hour = failures_per_hour
        self.window = timedelta(hours=1)
        # Moves a person's data from an emptied account to the one their identity joined.
        self.merge = merge

    async def create(self, session: AsyncSession, *, created_by: int, role: Role,
                     organisation_id: str, entry_id: str | None = None) -> IssuedCode:
        issued = await self._issue(session, kind=REGISTER, created_by=created_by,
                                   role=role.code, organisation_id=organisation_id,
                                   entry_id=entry_id)
        await audit.record(session, created_by, "invitation.create",
                           f"invitation:{issued.invitation.id}",
                           {"role": role.code, "organisation_id": organisation_id,
                            "entry_id": entry_id}, at=self.clock.now())
        return issued

    async def create_link(self, session: AsyncSession, user: User) -> IssuedCode:
        # One live link code per person: a new one replaces the previous one.
        await session.execute(delete(Invitation).where(
            Invitation.kind == LINK, Invitation.user_id == user.id, Invitation.used_at.is_(None)))
        issued = await self._issue(session, kind=LINK, created_by=user.id, user_id=user.id)
        await audit.record(session, user.id, "link.create", f"invitation:{issued.invitation.id}",
                           at=self.clock.now())
        return issued

    async def _issue(self, session: AsyncSession, **values) -> IssuedCode:
        now = self.clock.now()
        code = new_code()
        invitation = Invitation(code_hash=hash_code(code), created_at=now,
                                expires_at=now + self.valid_for, **values)
        session.add(invitation)
        await session.flush()
        return IssuedCode(code, invitation)

    async def redeem(self, session: AsyncSession, identity: Identity, user: User,
                     text: str) -> Redemption:
        wait = await self.throttled_for(session, identity.key)
        if wait is not None:
            return Redemption(Outcome.THROTTLED, wait=wait)
        invitation = await self._live(session, text)
        if invitation is None or (invitation.kind == LINK and invitation.user_id is None):
            await self._fail(session, identity.key)
            return Redemption(Outcome.INVALID)
        if invitation.kind == LINK:
            return await self._link(session, identity, user, invitation)
        return await self._register(session, identity, user, invitation)

    async def _live(self, session: AsyncSession, text: str) -> Invitation | None:
        if normalise_code(text) is None:
            return None
        invitation = await session.scalar(select(Invitation).where(
            Invitation.code_hash == hash_code(text)))
        if invitation is None or invitation.used_at is not None \
                or aware(invitation.expires_at) <= self.clock.now():
            return None
        return invitation

    async def _register(self, session: AsyncSession, identity: Identity, user: User,
                        invitation: Invitation) -> Redemption:
        before = user.role
        invited = Role.parse(invitation.role) or Role.GUEST
        # A code never lowers a role: an admin who redeems a staff code stays admin.
        user.role = max(before, invited)
        user.organisation_id = invitation.organisation_id
        user.entry_id = invitation.entry_id
        self._consume(invitation, user.id)
        await audit.record(session, user.id, "invitation.redeem", f"invitation:{invitation.id}",
                           {"user": audit.user_target(user.id), "identity": identity.id,
                            "role_from": before.code, "role_to": user.role.code,
                            "organisation_id": invitation.organisation_id,
                            "entry_id": invitation.entry_id}, at=self.clock.now())
        await session.flush()
        return Redemption(Outcome.REGISTERED, user=user, invitation=invitation)

    async def _link(self, session: AsyncSession, identity: Identity, user: User,
                    invitation: Invitation) -> Redemption:
        target = await session.get(User, invitation.user_id)
        if target is None:
            await self._fail(session, identity.key)
            return Redemption(Outcome.INVALID)
        if target.id == user.id:
            return Redemption(Outcome.ALREADY_LINKED, user=user, invitation=invitation)
        identity_id, old_user_id = identity.id, user.id
        await session.execute(update(Identity).where(Identity.id == identity_id)
                              .values(user_id=target.id))
        session.expire(identity)
        self._consume(invitation, target.id)
        await audit.record(session, target.id, "identity.link", audit.user_target(target.id),
                           {"identity": identity_id, "from_user": old_user_id,
                            "invitation": invitation.id}, at=self.clock.now())
        remaining = await session.scalar(select(func.count()).select_from(Identity).where(
            Identity.user_id == old_user_id))
        if not remaining:
            if self.merge is not None:
                await self.merge(session, old_user_id, target.id)
            await session.execute(delete(User).where(User.id == old_user_id))
        await session.flush()
        return Redemption(Outcome.LINKED, user=target, invitation=invitation)

    def _consume(self, invitation: Invitation, user_id: int) -> None:
        invitation.used_at = self.clock.now()
        invitation.used_by = user_id

    async def _fail(self, session: AsyncSession, identity_key: str) -> None:
        session.add(RegistrationFailure(identity=identity_key, at=self.clock.now()))
        await session.flush()

    async def throttled_for(self, session: AsyncSession, identity_key: str) -> timedelta | None:
        """How long this identity must wait before sending a code again, or None."""
        since = self.clock.now() - self.window
        times = list(await session.scalars(
            select(RegistrationFailure.at).where(RegistrationFailure.identity == identity_key,
                                                 RegistrationFailure.at > since)
            .order_by(RegistrationFailure.at)))
        if len(times) < self.failures_per_hour:
            return None
        oldest_counted = aware(times[len(times) - self.failures_per_hour])
        return max(oldest_counted + self.window - self.clock.now(), timedelta(seconds=1))

    async def purge(self, session: AsyncSession, now: datetime) -> int:
        """Retention: failures older than a day; codes used or expired more than 30 days ago."""
        failures = await session.execute(delete(RegistrationFailure).where(
            RegistrationFailure.at < now - timedelta(days=1)))
        old = now - timedelta(days=30)
        codes = await session.execute(delete(Invitation).where(
            (Invitation.expires_at < old) | (Invitation.used_at < old)))
        return (failures.rowcount or 0) + (codes.rowcount or 0)
