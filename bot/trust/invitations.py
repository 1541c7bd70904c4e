"""One-time codes: registration invitations and account links.

A code is 80 random bits written as 16 base-32 characters in groups of four
(`K7QD-M2XA-...`), valid for a limited time, single-use, stored only as its SHA-256. A link
code carries a visible `LINK-` prefix (`LINK-K7QD-M2XA-...`) so that nobody takes it for an
invitation. Each chat identity may send a limited number of wrong codes per hour; past that
every code, right or wrong, is refused until the window has passed, so guessing gains nothing.

A code is consumed by one conditional `UPDATE ... WHERE used_at IS NULL` whose row count
decides who got it: of several people sending the same code at the same instant, on SQLite or
PostgreSQL, exactly one succeeds.

A link code never links at once: the chat identity that would move is shown whose account it
joins and what moves with it, and must confirm. An identity whose account has a higher role
than the code's account is refused outright (a bootstrap admin tricked into "registering" with
a staff member's link code would otherwise make that account admin)."""
from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any
from collections.abc import Awaitable, Callable

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.clock import Clock
from bot.people import Identity, User
from bot.policy import Role
from bot.rowcount import rows_touched
from bot.trust import audit
from bot.trust.models import LINK, REGISTER, Invitation, RegistrationFailure

CODE_BYTES = 10  # 80 bits
LINK_PREFIX = "LINK"
_CODE = re.compile(r"[A-Z2-7]{16}")
# Letters people mistake for digits base 32 does not use.
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})


def new_code(prefix: str = "") -> str:
    raw = base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode("ascii").rstrip("=")
    groups = [raw[i:i + 4] for i in range(0, len(raw), 4)]
    return "-".join([prefix, *groups] if prefix else groups)


def normalise_code(text: str) -> str | None:
    """The 16 random characters of a code, without the `LINK-` prefix of link codes (the
    stored kind, not the prefix, decides what a code does)."""
    cleaned = re.sub(r"[\s\-_.]", "", text or "").upper().translate(_LOOKALIKES)
    if len(cleaned) == 16 + len(LINK_PREFIX) and cleaned.startswith(LINK_PREFIX):
        cleaned = cleaned[len(LINK_PREFIX):]
    return cleaned if _CODE.fullmatch(cleaned) else None


def hash_code(code: str) -> str:
    normalised = normalise_code(code)
    if normalised is None:
        raise ValueError("not a code")
    return hashlib.sha256(normalised.encode("ascii")).hexdigest()


class Outcome(Enum):
    REGISTERED = "registered"
    LINK_ASKED = "link_asked"  # a link code: the identity must confirm (see LinkPreview)
    LINK_REFUSED = "link_refused"  # a link code this identity may not use
    LINKED = "linked"
    ALREADY_LINKED = "already_linked"
    INVALID = "invalid"
    THROTTLED = "throttled"


@dataclass
class LinkPreview:
    """What confirming a link code would do to the chat identity that sent it."""

    invitation_id: int
    target: User  # the account the identity would join (the one that made the code)
    own_role: Role  # the role of the identity's account now
    own_organisation: str | None
    own_entry: str | None  # the directory entry the account stands for
    merges: bool  # the identity's account has no other identity: it is merged and ends
    registered: bool  # ...and it has its own role, organisation or entry, which end with it
    moves: dict[str, int] = field(default_factory=dict)  # what merging moves, per data kind


@dataclass
class Redemption:
    outcome: Outcome
    user: User | None = None
    invitation: Invitation | None = None
    wait: timedelta | None = None
    preview: LinkPreview | None = None


@dataclass
class IssuedCode:
    code: str
    invitation: Invitation


Merger = Callable[[AsyncSession, int, int], Awaitable[None]]
Holdings = Callable[[AsyncSession, User], Awaitable[dict[str, int]]]


class Invitations:
    def __init__(self, clock: Clock, *, valid_for: timedelta = timedelta(days=7),
                 failures_per_hour: int = 5, merge: Merger | None = None,
                 holdings: Holdings | None = None) -> None:
        self.clock = clock
        self.valid_for = valid_for
        self.failures_per_hour = failures_per_hour
        self.window = timedelta(hours=1)
        # Moves a person's data from an emptied account to the one their identity joined.
        self.merge = merge
        # Counts a person's own data (reminders, answers, ...) that a merge would move.
        self.holdings = holdings

    async def inviter(self, session: AsyncSession, invitation: Invitation) -> User | None:
        """Who made the code (None once their account is gone)."""
        if invitation.created_by is None:
            return None
        return await session.get(User, invitation.created_by)

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
        issued = await self._issue(session, kind=LINK, created_by=user.id, user_id=user.id,
                                   prefix=LINK_PREFIX)
        await audit.record(session, user.id, "link.create", f"invitation:{issued.invitation.id}",
                           at=self.clock.now())
        return issued

    async def _issue(self, session: AsyncSession, *, prefix: str = "",
                     **values: Any) -> IssuedCode:
        now = self.clock.now()
        code = new_code(prefix)
        invitation = Invitation(code_hash=hash_code(code), created_at=now,
                                expires_at=now + self.valid_for, **values)
        session.add(invitation)
        await session.flush()
        return IssuedCode(code, invitation)

    async def redeem(self, session: AsyncSession, identity: Identity, user: User,
                     text: str) -> Redemption:
        """`/start CODE`: an invitation registers at once; a link code only asks (see
        `confirm_link`)."""
        wait = await self.throttled_for(session, identity.key)
        if wait is not None:
            return Redemption(Outcome.THROTTLED, wait=wait)
        invitation = await self._live(session, text)
        if invitation is None or (invitation.kind == LINK and invitation.user_id is None):
            await self._fail(session, identity.key)
            return Redemption(Outcome.INVALID)
        if invitation.kind == LINK:
            return await self._ask_link(session, identity, user, invitation)
        return await self._register(session, identity, user, invitation)

    async def _live(self, session: AsyncSession, text: str) -> Invitation | None:
        if normalise_code(text) is None:
            return None
        invitation = await session.scalar(select(Invitation).where(
            Invitation.code_hash == hash_code(text)))
        return invitation if self._usable(invitation) else None

    def _usable(self, invitation: Invitation | None) -> bool:
        return invitation is not None and invitation.used_at is None \
            and invitation.expires_at > self.clock.now()

    async def _register(self, session: AsyncSession, identity: Identity, user: User,
                        invitation: Invitation) -> Redemption:
        if not await self._claim(session, invitation, user.id):
            await self._fail(session, identity.key)
            return Redemption(Outcome.INVALID)
        before = user.role
        invited = Role.parse(invitation.role) or Role.GUEST
        # A code never lowers a role: an admin who redeems a staff code stays admin.
        user.role = max(before, invited)
        user.organisation_id = invitation.organisation_id
        user.entry_id = invitation.entry_id
        await audit.record(session, user.id, "invitation.redeem", f"invitation:{invitation.id}",
                           {"user": audit.user_target(user.id), "identity": identity.id,
                            "role_from": before.code, "role_to": user.role.code,
                            "organisation_id": invitation.organisation_id,
                            "entry_id": invitation.entry_id}, at=self.clock.now())
        await session.flush()
        return Redemption(Outcome.REGISTERED, user=user, invitation=invitation)

    async def _ask_link(self, session: AsyncSession, identity: Identity, user: User,
                        invitation: Invitation) -> Redemption:
        result = await self._check_link(session, identity, user, invitation)
        if result.outcome is Outcome.INVALID:
            await self._fail(session, identity.key)
        return result

    async def confirm_link(self, session: AsyncSession, identity: Identity, user: User,
                           invitation_id: object) -> Redemption:
        """The identity confirmed: the same checks again (the code may have been used, or a
        role changed, meanwhile), then the link."""
        invitation = await session.get(Invitation, invitation_id) \
            if isinstance(invitation_id, int) else None
        if invitation is None or not self._usable(invitation) or invitation.kind != LINK \
                or invitation.user_id is None:
            return Redemption(Outcome.INVALID)
        result = await self._check_link(session, identity, user, invitation)
        if result.outcome is not Outcome.LINK_ASKED or result.preview is None:
            return result
        if not await self._claim(session, invitation, invitation.user_id):
            return Redemption(Outcome.INVALID)
        return await self._link(session, identity, user, invitation, result.preview)

    async def _check_link(self, session: AsyncSession, identity: Identity, user: User,
                          invitation: Invitation) -> Redemption:
        """LINK_ASKED with what linking would do, or why it cannot be done."""
        target = await session.get(User, invitation.user_id)
        if target is None:
            return Redemption(Outcome.INVALID)
        if target.id == user.id:
            return Redemption(Outcome.ALREADY_LINKED, user=user, invitation=invitation)
        preview = await self._preview(session, user, target, invitation)
        if self._refused(preview):
            await self._record_refusal(session, identity, user, invitation)
            return Redemption(Outcome.LINK_REFUSED, user=target, preview=preview)
        return Redemption(Outcome.LINK_ASKED, user=target, invitation=invitation,
                          preview=preview)

    async def _preview(self, session: AsyncSession, user: User, target: User,
                       invitation: Invitation) -> LinkPreview:
        others = await session.scalar(select(func.count()).select_from(Identity).where(
            Identity.user_id == user.id))
        merges = (others or 0) <= 1
        moves = await self.holdings(session, user) if merges and self.holdings else {}
        registered = merges and (user.role > Role.GUEST or bool(user.organisation_id)
                                 or bool(user.entry_id))
        return LinkPreview(invitation.id, target, user.role, user.organisation_id,
                           user.entry_id, merges, registered, moves)

    @staticmethod
    def _refused(preview: LinkPreview) -> bool:
        # Joining an account with a lower role would hand this identity, and whatever makes
        # its role (COORDBOT_ADMINS re-promotes the account it is in), to that account.
        return preview.own_role > preview.target.role

    async def _record_refusal(self, session: AsyncSession, identity: Identity, user: User,
                              invitation: Invitation) -> None:
        await audit.record(session, user.id, "identity.link_refused",
                           f"user:{invitation.user_id}",
                           {"identity": identity.id, "platform": identity.platform,
                            "invitation": invitation.id, "reason": "higher_role",
                            "role": user.role.code}, at=self.clock.now())

    async def _link(self, session: AsyncSession, identity: Identity, user: User,
                    invitation: Invitation, preview: LinkPreview) -> Redemption:
        target = preview.target
        identity_id, platform, old_user_id = identity.id, identity.platform, user.id
        await session.execute(update(Identity).where(Identity.id == identity_id)
                              .values(user_id=target.id))
        session.expire(identity)
        await audit.record(session, old_user_id, "identity.link", audit.user_target(target.id),
                           {"identity": identity_id, "platform": platform,
                            "from_user": old_user_id, "into_user": target.id,
                            "invitation": invitation.id, "role_from": preview.own_role.code,
                            "role_to": target.role.code}, at=self.clock.now())
        if preview.merges:
            await self._merge(session, identity_id, old_user_id, target.id, preview.moves)
        await session.flush()
        return Redemption(Outcome.LINKED, user=target, invitation=invitation)

    async def _merge(self, session: AsyncSession, identity_id: int, old_user_id: int,
                     target_id: int, moves: dict[str, int]) -> None:
        if self.merge is not None:
            await self.merge(session, old_user_id, target_id)
        await audit.record(session, old_user_id, "account.merge", audit.user_target(target_id),
                           {"from_user": old_user_id, "into_user": target_id,
                            "identity": identity_id, "moved": dict(moves)},
                           at=self.clock.now())
        await session.execute(delete(User).where(User.id == old_user_id))

    async def _claim(self, session: AsyncSession, invitation: Invitation, user_id: int) -> bool:
        """Consumes the code if nobody else has: the row count of one conditional UPDATE
        decides (on PostgreSQL a concurrent claimer waits for the row lock, then finds it
        used; SQLite serialises writers)."""
        now = self.clock.now()
        result = await session.execute(
            update(Invitation).where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
            .values(used_at=now, used_by=user_id).execution_options(synchronize_session=False))
        if rows_touched(result) != 1:
            return False
        set_committed_value(invitation, "used_at", now)
        set_committed_value(invitation, "used_by", user_id)
        return True

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
        oldest_counted = times[len(times) - self.failures_per_hour]
        return max(oldest_counted + self.window - self.clock.now(), timedelta(seconds=1))

    async def purge(self, session: AsyncSession, now: datetime) -> int:
        """Retention: failures older than a day; codes used or expired more than 30 days ago."""
        failures = await session.execute(delete(RegistrationFailure).where(
            RegistrationFailure.at < now - timedelta(days=1)))
        old = now - timedelta(days=30)
        codes = await session.execute(delete(Invitation).where(
            (Invitation.expires_at < old) | (Invitation.used_at < old)))
        return rows_touched(failures) + rows_touched(codes)
