"""Who may open the dashboard and read the feed: login links, sessions, feed tokens.

Every secret is 256 random bits (`secrets.token_hex(32)`: hex, so chat markup never bends a
link); only its SHA-256 is stored and looked up, and the stored hash is compared again with
`hmac.compare_digest`, so no check depends on how much of a guess was right. A login link
is bound to the person who asked for it, valid `LINK_MINUTES` and used once; a session ends
after `session_hours` without a request or at `/dashboard logout`. No chat code here: the
handlers and the web app call these."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.people import User
from bot.rowcount import rows_touched
from bot.trust import audit
from bot.web.models import FeedToken, WebLoginLink, WebSession

LINK_MINUTES = 10
FEED_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def same(stored_hash: str, secret: str) -> bool:
    return hmac.compare_digest(stored_hash, digest(secret))


def csrf_token(session_secret: str) -> str:
    """The form token of a session: derived from the session's own secret (which only its
    browser holds, in an HttpOnly cookie), so it needs no storage and dies with the session."""
    return hmac.new(session_secret.encode(), b"coordbot-csrf", hashlib.sha256).hexdigest()


def csrf_ok(session_secret: str, sent: str) -> bool:
    return hmac.compare_digest(csrf_token(session_secret), sent or "")


@dataclass(frozen=True)
class Opened:
    secret: str
    user: User


class FeedNameError(ValueError):
    """A feed name that is not 1–60 letters, digits, dots, dashes or underscores."""


class FeedNameTaken(ValueError):
    """A live feed token has that name already (a revoked name may be used again)."""


class WebAccess:
    def __init__(self, clock: Clock, session_hours: int = 8) -> None:
        self.clock = clock
        self.idle = timedelta(hours=session_hours)

    # ----- login links --------------------------------------------------------------------

    async def new_link(self, session: AsyncSession, user_id: int) -> str:
        secret = secrets.token_hex(32)
        now = self.clock.now()
        session.add(WebLoginLink(token_hash=digest(secret), user_id=user_id, created_at=now,
                                 expires_at=now + timedelta(minutes=LINK_MINUTES)))
        await session.flush()
        await audit.record(session, user_id, "web.link", audit.user_target(user_id), at=now)
        return secret

    async def holder(self, session: AsyncSession, secret: str) -> User | None:
        """Whose live link this is, without using it (to greet them in their language)."""
        if not secret or len(secret) > 100:
            return None
        link = await session.scalar(select(WebLoginLink).where(
            WebLoginLink.token_hash == digest(secret)))
        if link is None or not same(link.token_hash, secret) or link.used_at is not None \
                or link.expires_at <= self.clock.now():
            return None
        return await session.get(User, link.user_id)

    async def redeem(self, session: AsyncSession, secret: str) -> Opened | None:
        """Uses a login link once and opens a session; None for an unknown, expired or used
        link (the caller cannot tell which: nothing to learn from guessing)."""
        if not secret or len(secret) > 100:
            return None
        link = await session.scalar(select(WebLoginLink).where(
            WebLoginLink.token_hash == digest(secret)).with_for_update())
        now = self.clock.now()
        if link is None or not same(link.token_hash, secret) or link.used_at is not None \
                or link.expires_at <= now:
            return None
        # Single use even against two concurrent clicks: only one UPDATE finds it unused.
        used = await session.execute(update(WebLoginLink).where(
            WebLoginLink.id == link.id, WebLoginLink.used_at.is_(None)).values(used_at=now))
        user = await session.get(User, link.user_id)
        if rows_touched(used) != 1 or user is None:
            return None
        return Opened(await self._open_session(session, user.id), user)

    async def _open_session(self, session: AsyncSession, user_id: int) -> str:
        secret = secrets.token_hex(32)
        now = self.clock.now()
        session.add(WebSession(token_hash=digest(secret), user_id=user_id, created_at=now,
                               last_seen=now, expires_at=now + self.idle))
        await session.flush()
        return secret

    # ----- sessions -----------------------------------------------------------------------

    async def user_of(self, session: AsyncSession, secret: str | None) -> User | None:
        """The person of a live session, whose idle limit moves forward; None otherwise."""
        if not secret or len(secret) > 100:
            return None
        row = await session.scalar(select(WebSession).where(
            WebSession.token_hash == digest(secret)))
        now = self.clock.now()
        if row is None or not same(row.token_hash, secret) or row.ended_at is not None \
                or row.expires_at <= now:
            return None
        row.last_seen, row.expires_at = now, now + self.idle
        return await session.get(User, row.user_id)

    async def end_sessions(self, session: AsyncSession, user_id: int) -> int:
        """Ends every live session of the person (`/dashboard logout`); how many."""
        now = self.clock.now()
        result = await session.execute(update(WebSession).where(
            WebSession.user_id == user_id, WebSession.ended_at.is_(None),
            WebSession.expires_at > now).values(ended_at=now))
        ended = rows_touched(result)
        await audit.record(session, user_id, "web.logout", audit.user_target(user_id),
                           {"sessions": ended}, at=now)
        return ended

    async def end_session(self, session: AsyncSession, secret: str) -> None:
        await session.execute(update(WebSession).where(
            WebSession.token_hash == digest(secret)).values(ended_at=self.clock.now()))

    # ----- feed tokens --------------------------------------------------------------------

    async def new_feed(self, session: AsyncSession, name: str, created_by: int) -> str:
        """A token for consumer `name`. A revoked name may be used again (its old token stays
        dead: the hash changes); a live one raises FeedNameTaken."""
        if not FEED_NAME.match(name):
            raise FeedNameError(name)
        row = await session.scalar(select(FeedToken).where(FeedToken.name == name))
        if row is not None and row.revoked_at is None:
            raise FeedNameTaken(name)
        secret = secrets.token_hex(32)
        now = self.clock.now()
        if row is None:
            session.add(FeedToken(name=name, token_hash=digest(secret), created_by=created_by,
                                  created_at=now))
        else:
            row.token_hash, row.created_by, row.created_at, row.revoked_at = \
                digest(secret), created_by, now, None
        await session.flush()
        await audit.record(session, created_by, "web.feed_new", f"feed:{name}", at=now)
        return secret

    async def revoke_feed(self, session: AsyncSession, name: str, revoked_by: int) -> bool:
        """False when no live token has that name."""
        now = self.clock.now()
        result = await session.execute(update(FeedToken).where(
            FeedToken.name == name, FeedToken.revoked_at.is_(None)).values(revoked_at=now))
        if rows_touched(result) != 1:
            return False
        await audit.record(session, revoked_by, "web.feed_revoke", f"feed:{name}", at=now)
        return True

    async def feeds(self, session: AsyncSession) -> list[FeedToken]:
        return list(await session.scalars(select(FeedToken).where(
            FeedToken.revoked_at.is_(None)).order_by(FeedToken.name)))

    async def feed_of(self, session: AsyncSession, secret: str | None) -> FeedToken | None:
        if not secret or len(secret) > 100:
            return None
        row = await session.scalar(select(FeedToken).where(
            FeedToken.token_hash == digest(secret)))
        if row is None or not same(row.token_hash, secret) or row.revoked_at is not None:
            return None
        return row


async def export_personal(session: AsyncSession, user: User) -> dict:
    """For /mydata: when the person's dashboard sessions began and were last used. Nested in
    a dict, not a list, so that `holdings` does not count sessions as something a /link merge
    moves (they end instead: `erase_moved`)."""
    rows = await session.scalars(select(WebSession).where(WebSession.user_id == user.id)
                                 .order_by(WebSession.id))
    return {"dashboard": {"sessions": [{"created_at": r.created_at, "last_seen": r.last_seen,
                                        "ended_at": r.ended_at} for r in rows]}}


async def erase_personal(session: AsyncSession, user: User) -> None:
    """/forget: every link and session of the person goes, so no browser stays signed in."""
    for model in (WebSession, WebLoginLink):
        await session.execute(delete(model).where(model.user_id == user.id))


async def erase_moved(session: AsyncSession, from_user_id: int, to_user_id: int) -> None:
    """A chat identity moved to another account (/link): the old account's browser sessions
    end rather than follow it."""
    for model in (WebSession, WebLoginLink):
        await session.execute(delete(model).where(model.user_id == from_user_id))
