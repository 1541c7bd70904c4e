"""Chat command handlers, one module per feature. This is the one place features are included."""
from bot.handlers import (audience, checkin_answers, checkin_rounds, core, directory, meetings,
                          reminders, trust, web)

FEATURES = [
    core.FEATURE,
    directory.FEATURE,
    reminders.FEATURE,
    meetings.FEATURE,
    checkin_answers.FEATURE,
    checkin_rounds.FEATURE,
    trust.FEATURE,
    audience.FEATURE,
    web.FEATURE,
]
