"""Moved to `bot.when` (one time parser for the whole bot); kept so older imports still work."""
from bot.when import When, WhenError, first_utc, parse_when  # noqa: F401
