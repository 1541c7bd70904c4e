"""People and their chat identities. Anyone who writes is a guest until an admin or an
invitation says otherwise; `COORDBOT_ADMINS` names the bootstrap admins."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (Boolean, ForeignKey, Integer, String, UniqueConstraint, func,
                        select, update)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.clock import Clock
from bot.db import Base, UTCDateTime
from bot.messages import ChatRef, IncomingMessage
from bot.policy import Role


NAME_LIMIT = 200    # users.display_name is VARCHAR(200); PostgreSQL refuses longer


def fit_name(name: str | None, fallback: str) -> str:
    """A platform display name as stored: Matrix allows 256 characters, and a longer name
    must not make every message of that person fail on PostgreSQL."""
    return ((name or "").strip() or fallback)[:NAME_LIMIT]


def utcnow() -> datetime:
    return datetime.now(UTC)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    role_code: Mapped[str] = mapped_column("role", String(20), default="guest",
                                           server_default="guest")
    locale: Mapped[str | None] = mapped_column(String(5), nullable=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Brussels",
                                          server_default="Europe/Brussels")
    organisation_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    entry_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    identities: Mapped[list[Identity]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="raise")

    @property
    def role(self) -> Role:
        return Role.parse(self.role_code) or Role.GUEST

    @role.setter
    def role(self, value: Role) -> None:
        self.role_code = value.code


class Identity(Base):
    """One platform account (`telegram:12345`) linked to a user."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    platform_user_id: Mapped[str] = mapped_column(String(255))
    username: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    direct_chat_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    user: Mapped[User] = relationship(back_populates="identities", lazy="joined")

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.platform_user_id}"


class KnownChat(Base):
    """Chats the bot has seen, so audiences such as `all` can be resolved to chats later."""

    __tablename__ = "chats"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    is_direct: Mapped[bool] = mapped_column(Boolean, default=True)
    unreachable_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class People:
    """Finds or creates the user behind a message and keeps roles from `COORDBOT_ADMINS`."""

    def __init__(self, admins: list[str], default_timezone: str,
                 clock: Clock | None = None) -> None:
        self.admins = {a.strip() for a in admins}
        self.default_timezone = default_timezone
        self.clock = clock

    def choose_locale(self, user: User, locale: str) -> None:
        """The language the person chose (`/lang`): what is pushed to them later uses it."""
        user.locale = locale

    async def resolve(self, session: AsyncSession, message: IncomingMessage) -> User:
        platform = message.chat.platform
        identity = await self.identity(session, platform, message.sender_id)
        if identity is None:
            user = User(display_name=fit_name(message.sender_name, message.sender_id),
                        role_code="guest",
                        timezone=self.default_timezone, created_at=utcnow())
            identity = Identity(platform=platform, platform_user_id=message.sender_id, user=user)
            session.add_all([user, identity])
        user = identity.user
        await self._refresh_names(session, identity, user, message)
        if message.is_direct:
            identity.direct_chat_id = message.chat.chat_id
        await self._remember_chat(session, message)
        await session.flush()
        if identity.key in self.admins and user.role != Role.ADMIN:
            await self._promote(session, identity, user)
        return user

    async def _promote(self, session: AsyncSession, identity: Identity, user: User) -> None:
        """`COORDBOT_ADMINS` makes this identity's account admin, again after any demotion,
        and the audit log says so each time."""
        from bot.trust import audit  # bot.trust's tables import this module

        before, user.role = user.role, Role.ADMIN
        await audit.record(session, None, "role.change", audit.user_target(user.id),
                           {"from": before.code, "to": Role.ADMIN.code, "via": "COORDBOT_ADMINS",
                            "identity": identity.id}, at=self.clock.now() if self.clock else None)

    async def _refresh_names(self, session: AsyncSession, identity: Identity, user: User,
                             message: IncomingMessage) -> None:
        """Usernames and display names are the owner's to change: the stored ones follow each
        message. A username someone else now holds is no longer theirs, so it is cleared from
        every other identity of the platform (nothing may rest on a name given up)."""
        username = (message.sender_username or "").strip()[:255] or None
        if username != identity.username:
            if username:
                if identity.id is None:
                    await session.flush()
                await session.execute(update(Identity).where(
                    Identity.platform == identity.platform, Identity.id != identity.id,
                    func.lower(Identity.username) == username.lower()).values(username=None))
            identity.username = username
        name = fit_name(message.sender_name, "")
        if name and name != user.display_name:
            user.display_name = name

    async def _remember_chat(self, session: AsyncSession, message: IncomingMessage) -> None:
        key = message.chat.key()
        chat = await session.get(KnownChat, key)
        if chat is None:
            session.add(KnownChat(key=key, platform=message.chat.platform,
                                  is_direct=message.is_direct))
        else:
            chat.last_seen = utcnow()
            chat.unreachable_since = None

    async def mark_unreachable(self, session: AsyncSession, chat: ChatRef,
                               when: datetime) -> None:
        """The platform says this chat cannot be written to (the person blocked the bot, the
        bot was removed): broadcasts skip it until the chat writes again."""
        known = await session.get(KnownChat, chat.key())
        if known is None:
            session.add(KnownChat(key=chat.key(), platform=chat.platform,
                                  is_direct=not chat.chat_id.startswith("-"),
                                  unreachable_since=when, last_seen=when))
        elif known.unreachable_since is None:
            known.unreachable_since = when

    async def identity(self, session: AsyncSession, platform: str, user_id: str) -> Identity | None:
        return await session.scalar(select(Identity).where(
            Identity.platform == platform, Identity.platform_user_id == user_id))

    async def identities_of(self, session: AsyncSession, user: User) -> list[Identity]:
        return list(await session.scalars(select(Identity).where(Identity.user_id == user.id)
                                          .order_by(Identity.id)))

    async def find(self, session: AsyncSession, handle: str, platform: str) -> User | None:
        """`telegram:12345`, `@alice` (a username on `platform`, or a Matrix id) or `alice`."""
        handle = handle.strip()
        if ":" in handle and not handle.startswith("@"):
            found_platform, _, user_id = handle.partition(":")
            identity = await self.identity(session, found_platform, user_id)
            return identity.user if identity else None
        if platform == "matrix" and handle.startswith("@") and ":" in handle:
            identity = await self.identity(session, "matrix", handle)
            return identity.user if identity else None
        name = handle.lstrip("@")
        for candidate in (name, name.lower()):
            identity = await session.scalar(select(Identity).where(
                Identity.platform == platform,
                (Identity.username == candidate) | (Identity.platform_user_id == candidate)))
            if identity:
                return identity.user
        return None
