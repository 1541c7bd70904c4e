"""Which transports `coordbot run` starts, from the settings."""
from __future__ import annotations

from bot.config import Settings


def matrix_configured(settings: Settings) -> bool:
    return bool(settings.matrix_homeserver and settings.matrix_user_id
                and (settings.matrix_password or settings.matrix_access_token))


def configured_transports(settings: Settings) -> list:
    transports = []
    if matrix_configured(settings):
        from bot.transports.matrix import MatrixTransport
        transports.append(MatrixTransport(settings))
    return transports
