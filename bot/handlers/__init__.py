"""Chat command handlers, one module per feature. This is the one place features are included."""
from bot.handlers import core, directory, trust

FEATURES = [
    core.FEATURE,
    directory.FEATURE,
    trust.FEATURE,
]
