"""What admins read about device verifications: the emoji with their names in the reader's
language, and a notice when someone's verification waits for an admin (Element gives up a
minute after the emoji appear, so the admin hears of it at once rather than by chance)."""
from __future__ import annotations

import logging

from sqlalchemy import select

from bot.db import Database
from bot.devices.registry import Verification
from bot.devices.sas_emoji import emoji_name
from bot.i18n import Catalogues, _, current_locale
from bot.markup import escape
from bot.messages import ChatRef, Reply, command_prefix
from bot.outbox import Outbox
from bot.people import Identity, User
from bot.policy import Role

log = logging.getLogger("coordbot.devices")


def code(text: str) -> str:
    return f"`{escape(text)}`"


def emoji_lines(emoji: list[str]) -> str:
    """The seven emoji with their names in the reader's language, as Element shows them."""
    locale = current_locale()
    return "\n".join(f"{symbol}  {emoji_name(symbol, locale)}" for symbol in emoji)


class AdminNotices:
    """Tells every admin who has a direct chat with the bot that a verification waits."""

    def __init__(self, db: Database, outbox: Outbox, catalogues: Catalogues,
                 default_locale: str) -> None:
        self.db = db
        self.outbox = outbox
        self.catalogues = catalogues
        self.default_locale = default_locale

    async def verification_waiting(self, verification: Verification) -> None:
        async with self.db.transaction() as session:
            admins = await session.scalars(select(Identity).join(
                User, Identity.user_id == User.id).where(
                User.role_code == Role.ADMIN.code, Identity.direct_chat_id.is_not(None)))
            for identity in admins:
                with self.catalogues.use(identity.user.locale or self.default_locale):
                    text = self._notice(verification, identity.platform)
                await self.outbox.enqueue(
                    session, ChatRef(identity.platform, str(identity.direct_chat_id)),
                    Reply(text), f"device.waiting:{identity.id}:{verification.user_id}:"
                    f"{verification.device_id}:{verification.started:.3f}", source="devices")
        await self.outbox.deliver_pending()

    @staticmethod
    def _notice(verification: Verification, platform: str) -> str:
        command = (f"{command_prefix(platform)}verify_device {verification.user_id} "
                   f"{verification.device_id}")
        return "\n".join([
            _("{user} is verifying their device {device} with me and waits for an admin. I see "
              "these emoji:").format(user=code(verification.user_id),
                                     device=code(verification.device_id)),
            emoji_lines(verification.emoji),
            _("If the person sees the same ones, in the same order, send {command} within a "
              "minute and confirm.").format(command=code(command))])
