"""Which transports `coordbot run` starts, from the settings, wired to the app's services."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

from bot.config import Settings
from bot.i18n import LOCALES, _
from bot.messages import ChatRef
from bot.policy import Role

# The Telegram menu lists the everyday commands (guests and staff); higher roles see their
# other commands with /help.
TELEGRAM_MENU_ROLE = Role.STAFF


def matrix_configured(settings: Settings) -> bool:
    return bool(settings.matrix_homeserver and settings.matrix_user_id
                and (settings.matrix_password or settings.matrix_access_token))


@dataclass(frozen=True)
class TransportPlan:
    """How to build one configured transport. `lease` names the platform account when only
    one instance at a time may receive for it (Telegram long polling, the Matrix sync);
    None when every instance may (Telegram webhooks behind a load balancer)."""

    platform: str
    build: Callable[[], Any]
    lease: str | None


def transport_plans(settings: Settings, services=None) -> list[TransportPlan]:
    plans = []
    if settings.telegram_token:
        if services is None:
            raise ValueError("the Telegram transport needs the application's services")
        plans.append(TransportPlan("telegram", lambda: telegram_transport(settings, services),
                                   _lease_of(settings, "telegram")))
    if matrix_configured(settings):
        from bot.transports.matrix import MatrixTransport
        plans.append(TransportPlan("matrix", lambda: MatrixTransport(
            settings, db=services.db if services is not None else None),
                                   _lease_of(settings, "matrix")))
    return plans


def _lease_of(settings: Settings, platform: str) -> str | None:
    return next((name for name in leases(settings) if name.startswith(f"{platform}:")), None)


def leases(settings: Settings) -> list[str]:
    """The lease names of the configured platform accounts that need one poller."""
    names = []
    if settings.telegram_token and not settings.telegram_webhook_url:
        names.append(f"telegram:{settings.telegram_token.partition(':')[0]}")
    if matrix_configured(settings):
        names.append(f"matrix:{settings.matrix_user_id}")
    return names


def configured_transports(settings: Settings, services=None) -> list:
    return [plan.build() for plan in transport_plans(settings, services)]


def telegram_transport(settings: Settings, services, **options):
    from bot.transports.telegram import TelegramTransport

    return TelegramTransport(
        settings.telegram_token, services.db, api_url=settings.telegram_api_url,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=settings.telegram_webhook_secret,
        webhook_listen=settings.telegram_webhook_listen,
        menus=command_menus(services, TELEGRAM_MENU_ROLE),
        on_unreachable=unreachable_recorder(services), **options)


def command_menus(services, role: Role) -> dict[str, list[tuple[str, str]]]:
    """Per language, the commands `role` may use with their translated summaries."""
    from bot.router import visible_commands

    menus = {}
    for language in LOCALES:
        with services.catalogues.use(language):
            menus[language] = [(command.name, _(command.summary))
                               for command in visible_commands(services.router, role)]
    return menus


def unreachable_recorder(services):
    async def record(chat: ChatRef) -> None:
        async with services.db.transaction() as session:
            await services.people.mark_unreachable(session, chat, services.clock.now())

    return record
