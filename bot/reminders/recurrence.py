"""Moved to `bot.when.recurrence`; kept so older imports still work."""
from bot.when.recurrence import *  # noqa: F401,F403
from bot.when.recurrence import MAX_CANDIDATES, belgian_holidays  # noqa: F401
