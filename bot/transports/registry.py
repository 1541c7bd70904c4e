"""Which transports `coordbot run` starts, from the settings."""
from __future__ import annotations

from bot.config import Settings


def configured_transports(settings: Settings) -> list:
    transports = []
    return transports
