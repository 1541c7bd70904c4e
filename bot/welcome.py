"""What a person opening the console reads first: a greeting on a terminal, and how many
messages were waiting for them (the outbox delivers them right after). The console
transport stays thin: `coordbot chat` prints these lines before it starts reading."""
from __future__ import annotations

from typing import TYPE_CHECKING

from bot.i18n import _, ngettext, normalize_locale
from bot.messages import ChatRef

if TYPE_CHECKING:
    from bot.services import Services


async def console_welcome(services: Services, chat: ChatRef, language: str | None, *,
                          greet: bool) -> list[str]:
    async with services.db.session() as session:
        identity = await services.people.identity(session, chat.platform, chat.chat_id)
        locale = (identity.user.locale if identity else None) or normalize_locale(language) \
            or services.settings.default_locale
    waiting = await services.outbox.waiting(chat.key())
    lines = []
    with services.catalogues.use(locale):
        if greet:
            lines.append(_("Hello {name}. Ask a question such as “logement Liège”, or type "
                           "/help to see what you can do. Ctrl-D ends.").format(
                               name=chat.chat_id))
        if waiting:
            lines.append(ngettext("{count} message was waiting for you:",
                                  "{count} messages were waiting for you:",
                                  waiting).format(count=waiting))
    return lines
