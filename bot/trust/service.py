"""The trust service, built once by `bot.bootstrap.build_app` as `services.trust`."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.conversations import Conversations
from bot.db import Database
from bot.i18n import normalize_locale
from bot.messages import IncomingMessage
from bot.people import People, User
from bot.policy import Role
from bot.scheduling import Job
from bot.trust import audit
from bot.trust.invitations import Invitations
from bot.trust.privacy import Privacy, erase_core, export_core, reassign_core
from bot.trust.ratelimit import RateLimiter
from bot.trust.retention import (JOB_ID, Retention, blank_old_outbox, purge_audit,
                                 purge_expired_conversations)

log = logging.getLogger("coordbot.trust")


class TrustService:
    def __init__(self, db: Database, clock: Clock, people: People,
                 conversations: Conversations, settings: Settings) -> None:
        self.db = db
        self.clock = clock
        self.people = people
        self.conversations = conversations
        self.default_locale = settings.default_locale
        self.limiter = RateLimiter(settings.rate_limit_burst, settings.rate_limit_per_minute,
                                   now=_seconds(clock))
        self.privacy = Privacy(clock)
        self.privacy.register("core", export_core, erase_core, reassign_core)
        self.invitations = Invitations(
            clock, valid_for=timedelta(days=settings.invitation_days),
            failures_per_hour=settings.registration_failures_per_hour,
            merge=self.privacy.reassign, holdings=self.privacy.holdings)
        self.retention = Retention(db, clock)
        self.retention.register("core.audit", purge_audit(settings.audit_retention_days))
        self.retention.register("core.outbox", blank_old_outbox(settings.outbox_retention_days))
        self.retention.register("core.conversations", purge_expired_conversations)
        self.retention.register("core.codes", self.invitations.purge)

    async def locale_for(self, message: IncomingMessage, guess: str | None = None) -> str:
        """The language to warn a flooding person in: one read, once per flood. `guess` is
        the language the message is written in, for someone who never chose one."""
        chosen = None
        try:
            async with self.db.session() as session:
                identity = await self.people.identity(session, message.chat.platform,
                                                      message.sender_id)
                chosen = identity.user.locale if identity is not None else None
        except Exception:  # noqa: BLE001 - the warning must go out even if the DB is down
            log.warning("flood warning locale unavailable")
        return chosen or normalize_locale(message.language_hint) or guess or self.default_locale

    async def change_role(self, session: AsyncSession, actor: User, target: User,
                          role: Role) -> None:
        """Gives `target` the role, in the audit log. What they had pending was started with
        the old role's rights, so it can no longer be continued."""
        before, target.role = target.role, role
        if before != role:
            await self.conversations.expire_all(session, target.id)
        await audit.record(session, actor.id, "role.change", audit.user_target(target.id),
                           {"from": before.code, "to": role.code}, at=self.clock.now())

    def jobs(self) -> list[Job]:
        """The daily retention run, at a quiet hour."""
        return [Job(JOB_ID, self.retention.run_due, "cron", {"hour": 3, "minute": 17})]


def _seconds(clock: Clock) -> Callable[[], float]:
    """Monotonic time in production; the fake clock's time in tests."""
    if isinstance(clock, SystemClock):
        return time.monotonic
    return lambda: clock.now().timestamp()
