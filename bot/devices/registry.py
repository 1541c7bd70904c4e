"""Device verification requests and admins' approvals, shared by the Matrix transport (which runs
the emoji verification, bot/transports/matrix_verification.py) and the `!verify-device` handler
(bot/handlers/devices.py), which never reach each other directly.

The registry lives in memory on purpose: a verification in progress is a live exchange of keys
held by the transport's encryption machine (it cannot survive a restart or move to another
instance), and Element gives up on it within minutes. What must last — who approved which device
— goes to the audit log. The admin's role comes from the database, through `People`."""
from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db import Database
from bot.people import People
from bot.policy import Role

log = logging.getLogger("coordbot.devices")

APPROVAL_SECONDS = 600.0    # an approval given before the person starts is good this long
KEEP_FINISHED_SECONDS = 3600.0
MAX_KEPT = 50


class VerificationState(enum.Enum):
    WAITING = "waiting"        # emoji shown, waiting for an admin's approval
    ACCEPTED = "accepted"      # the bot confirmed its emoji; the person's app must confirm too
    VERIFIED = "verified"
    CANCELLED = "cancelled"


@dataclass
class Verification:
    """One emoji verification of a person's device, as an admin sees it."""

    user_id: str
    device_id: str
    emoji: list[str]
    state: VerificationState
    reason: str = ""       # why it was cancelled (the Matrix cancel code's reason)
    started: float = field(default_factory=time.monotonic)
    updated: float = field(default_factory=time.monotonic)

    @property
    def key(self) -> tuple[str, str]:
        return self.user_id, self.device_id


# Called with (user id, device id, approved) when an admin decides on a waiting verification.
DecisionListener = Callable[[str, str, bool], None]
# Called when a verification starts waiting for an admin (bot/devices/notices.py tells them).
WaitingHook = Callable[["Verification"], Awaitable[None]]


class DeviceVerifications:
    """Waiting verifications with their emoji, and admins' approvals of a device."""

    def __init__(self, db: Database, people: People, clock: Clock, *,
                 monotonic: Callable[[], float] = time.monotonic,
                 approval_seconds: float = APPROVAL_SECONDS,
                 on_waiting: WaitingHook | None = None) -> None:
        self.db = db
        self.people = people
        self.clock = clock
        self.on_waiting = on_waiting
        self._tasks: set[asyncio.Task[None]] = set()
        self.monotonic = monotonic
        self.approval_seconds = approval_seconds
        self._verifications: dict[tuple[str, str], Verification] = {}
        self._approved_until: dict[tuple[str, str], float] = {}
        self._listeners: list[DecisionListener] = []

    # ---- the transport's side --------------------------------------------------------------

    def listen(self, listener: DecisionListener) -> None:
        self._listeners.append(listener)

    def unlisten(self, listener: DecisionListener) -> None:
        """A stopped transport (restart, another instance took over) decides nothing more."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    async def is_admin(self, platform: str, user_id: str) -> bool:
        """An admin in the database, or named by `COORDBOT_ADMINS` (before their first word)."""
        if f"{platform}:{user_id}" in self.people.admins:
            return True
        async with self.db.session() as session:
            identity = await self.people.identity(session, platform, user_id)
            return identity is not None and identity.user.role == Role.ADMIN

    async def accepts_at_once(self, platform: str, user_id: str, device_id: str) -> bool:
        """True for an admin's own device and for a device an admin approved beforehand (the
        approval is used up)."""
        until = self._approved_until.pop((user_id, device_id), None)
        if until is not None and until >= self.monotonic():
            return True
        return await self.is_admin(platform, user_id)

    def shown(self, user_id: str, device_id: str, emoji: list[str], *,
              accepted: bool) -> Verification:
        state = VerificationState.ACCEPTED if accepted else VerificationState.WAITING
        verification = Verification(user_id, device_id, list(emoji), state,
                                    started=self.monotonic(), updated=self.monotonic())
        self._verifications[verification.key] = verification
        self._forget_old()
        if not accepted and self.on_waiting is not None:
            task = asyncio.get_running_loop().create_task(self._tell(verification))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return verification

    async def _tell(self, verification: Verification) -> None:
        assert self.on_waiting is not None
        try:
            await self.on_waiting(verification)
        except Exception:  # noqa: BLE001 - the verification itself goes on without it
            log.exception("admins not told of a waiting verification")

    def finished(self, user_id: str, device_id: str, *, verified: bool,
                 reason: str = "") -> None:
        verification = self._verifications.get((user_id, device_id))
        if verification is None or verification.state in (VerificationState.VERIFIED,
                                                          VerificationState.CANCELLED):
            return
        verification.state = VerificationState.VERIFIED if verified \
            else VerificationState.CANCELLED
        verification.reason = reason
        verification.updated = self.monotonic()

    # ---- the handler's side ----------------------------------------------------------------

    def get(self, user_id: str, device_id: str) -> Verification | None:
        return self._verifications.get((user_id, device_id))

    def recent(self) -> list[Verification]:
        """Waiting ones first, then the latest."""
        self._forget_old()
        return sorted(self._verifications.values(),
                      key=lambda v: (v.state is not VerificationState.WAITING, -v.updated))

    async def decide(self, session: AsyncSession, admin_id: int, user_id: str, device_id: str,
                     approved: bool) -> bool:
        """An admin's answer to a waiting verification, recorded in the audit log; False when
        none is waiting (any more): the person cancelled it or their app gave up meanwhile."""
        from bot.trust import audit  # bot.trust's tables import bot.people, as this module does

        verification = self._verifications.get((user_id, device_id))
        if verification is None or verification.state is not VerificationState.WAITING:
            return False
        verification.state = VerificationState.ACCEPTED if approved \
            else VerificationState.CANCELLED
        verification.updated = self.monotonic()
        for listener in self._listeners:
            listener(user_id, device_id, approved)
        await audit.record(session, admin_id, "device.approve" if approved else "device.reject",
                           await self._audit_target(session, user_id), {"device": device_id},
                           at=self.clock.now())
        return True

    async def approve_ahead(self, session: AsyncSession, admin_id: int, user_id: str,
                            device_id: str) -> None:
        """The person has not started yet: accept their device when they do, for a while."""
        from bot.trust import audit

        self._approved_until[(user_id, device_id)] = self.monotonic() + self.approval_seconds
        await audit.record(session, admin_id, "device.approve",
                           await self._audit_target(session, user_id),
                           {"device": device_id, "ahead": True}, at=self.clock.now())

    async def _audit_target(self, session: AsyncSession, user_id: str) -> str:
        """The person's account (`user:ID`) like every audit entry, so that `/mydata` lists it
        and nothing there outlives `/forget` by name; their Matrix id only while the bot has
        no account for them (they never wrote)."""
        from bot.trust import audit

        identity = await self.people.identity(session, "matrix", user_id)
        return audit.user_target(identity.user_id) if identity else f"matrix:{user_id}"

    def _forget_old(self) -> None:
        now = self.monotonic()
        for key, verification in list(self._verifications.items()):
            if verification.state in (VerificationState.VERIFIED, VerificationState.CANCELLED) \
                    and now - verification.updated > KEEP_FINISHED_SECONDS:
                del self._verifications[key]
        for key in sorted(self._verifications, key=lambda k: self._verifications[k].updated)[
                :max(0, len(self._verifications) - MAX_KEPT)]:
            del self._verifications[key]
        for key, until in list(self._approved_until.items()):
            if until < now:
                del self._approved_until[key]
