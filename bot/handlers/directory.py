"""Directory commands. Until the directory search lands, free text gets a holding answer."""
from __future__ import annotations

from bot.i18n import _
from bot.router import Context, Feature


async def search_text(ctx: Context):
    return _("The directory search is not available yet. Send /help to see what I can do.")


FEATURE = Feature(name="directory", text_handler=search_text)
