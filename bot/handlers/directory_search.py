"""Searching the directory in chat: `/who`, plain text in a direct chat, the question back
when a place has several readings, and `/more` for the next results."""
from __future__ import annotations

from datetime import timedelta

from bot.conversations import PendingConversation
from bot.directory.gazetteer import Gazetteer
from bot.directory.query import SearchOutcome
from bot.handlers.directory_entries import directory_of, format_result, reader_lang
from bot.i18n import LOCALES, _, current_locale, normalize_locale
from bot.markup import bold, escape
from bot.messages import Choice, Reply
from bot.router import Context, HandlerResult

PAGE = 3
PLACE_QUESTION = "directory.place"


# ---- searching -------------------------------------------------------------------------
async def who(ctx: Context) -> HandlerResult:
    if not ctx.args.strip():
        return ctx.usage()
    return await answer(ctx, ctx.args.strip())


async def search_text(ctx: Context) -> HandlerResult:
    return await answer(ctx, ctx.message.text.strip(), follow_query_language=True)


async def answer(ctx: Context, query: str, place: str | None = None,
                 follow_query_language: bool = False) -> HandlerResult:
    directory = directory_of(ctx)
    if directory is None:
        return _("The directory is not available right now. Please try again later.")
    outcome = await directory.answer_query(ctx.session, ctx.chat_key, ctx.user.id, query,
                                           limit=PAGE, language=current_locale(), place=place)
    language = _query_language(ctx, outcome) if follow_query_language else None
    if language is None:
        return await _respond(ctx, query, place, outcome)
    with ctx.services.catalogues.use(language):
        return await _respond(ctx, query, place, outcome)


def _query_language(ctx: Context, outcome: SearchOutcome) -> str | None:
    """Someone who never chose a language, on a platform that gives no hint, is answered in
    the language their question was written in, when the search recognised it."""
    if ctx.user.locale or normalize_locale(ctx.message.language_hint):
        return None
    detected = outcome.query.detected_language
    return detected if detected in LOCALES and detected != current_locale() else None


async def _respond(ctx: Context, query: str, place: str | None,
                   outcome: SearchOutcome) -> str | Reply:
    if outcome.ambiguous and place is None:
        return await _ask_which_place(ctx, query, outcome)
    if not outcome.results:
        return nothing_found(ctx, query)
    lines = [_intro(ctx, outcome)]
    lines += [format_result(ctx, number, result)
              for number, result in enumerate(outcome.results, start=1)]
    if len(outcome.results) == PAGE:
        lines.append(_("Send {prefix}more for more results, {prefix}entry ID for one entry in "
                       "full.").format(prefix=ctx.prefix))
    return "\n\n".join(lines)


def _intro(ctx: Context, outcome: SearchOutcome) -> str:
    parsed = outcome.query
    gaz = directory_of(ctx).gazetteer
    vocab = directory_of(ctx).vocabulary
    topic = vocab.label(parsed.topic, current_locale()) if parsed.topic else None
    place = gaz.label(parsed.place.codes[0], reader_lang()) if parsed.place else None
    if parsed.kind == "organisation":
        return _("Here is what I found:")
    if topic and place:
        return _("Who handles {topic} for {place}:").format(topic=bold(topic), place=bold(place))
    if topic:
        return _("Who handles {topic} (widest coverage first; add a place to see local "
                 "services):").format(topic=bold(topic))
    return _("Local services for {place} (add what you need, e.g. \"housing\", for a better "
             "answer):").format(place=bold(place or ""))


def nothing_found(ctx: Context, query: str) -> str:
    return _("I found nothing useful for \"{query}\". Say what you need and where, for example "
             "\"housing Liège\", \"leefloon 9000\", \"Arbeit Eupen\", or name an organisation "
             "such as \"Fedasil\".").format(query=escape(query[:80]))


async def _ask_which_place(ctx: Context, query: str, outcome: SearchOutcome) -> Reply:
    gaz = directory_of(ctx).gazetteer
    choices = [Choice(_place_label(gaz, code), code) for code in outcome.readings]
    await ctx.services.conversations.start(
        ctx.session, ctx.chat_key, ctx.user.id, PLACE_QUESTION,
        {"query": query, "codes": list(outcome.readings)}, ttl=timedelta(hours=1))
    names = {gaz.label(code, reader_lang()) for code in outcome.readings}
    said = names.pop() if len(names) == 1 else outcome.query.place_words
    text = _("\"{place}\" can mean several places. Which one do you mean?").format(
        place=escape(said))
    return Reply(text, choices=choices)


def _place_label(gaz: Gazetteer, code: str) -> str:
    area = gaz.area(code)
    lang = reader_lang()
    parent = gaz.area(area.parent) if area.parent in gaz.areas else None
    province = next((gaz.area(c) for c, rank in gaz.containing(code)
                     if gaz.area(c).level == "province"), None)
    wider = province or (gaz.area(parent.parent) if parent and parent.parent in gaz.areas
                         else None)
    return f"{area.name(lang)} ({wider.name(lang)})" if wider else area.name(lang)


async def place_answer(ctx: Context, pending: PendingConversation) -> HandlerResult:
    codes = pending.payload.get("codes", [])
    query = pending.payload.get("query", "")
    text = ctx.message.text.strip()
    chosen = _chosen(ctx, text, codes)
    await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
    if chosen is None:
        if not (ctx.message.is_direct or ctx.message.addressed):
            return None
        # not an answer to the question: a new question
        return await answer(ctx, text, follow_query_language=True)
    return await answer(ctx, query, place=chosen, follow_query_language=True)


def _chosen(ctx: Context, text: str, codes: list[str]) -> str | None:
    if text.isdecimal() and 1 <= int(text) <= len(codes):
        return codes[int(text) - 1]
    if text in codes:
        return text
    gaz = directory_of(ctx).gazetteer
    lowered = text.casefold()
    for code in codes:
        labels = {_place_label(gaz, code), gaz.label(code, reader_lang())}
        if lowered in {label.casefold() for label in labels}:
            return code
    return None


async def more(ctx: Context) -> str:
    directory = directory_of(ctx)
    page = None
    if directory is not None:
        page = await directory.more_results(ctx.session, ctx.chat_key, ctx.user.id, limit=PAGE,
                                            language=current_locale())
    if page is None:
        return _("Ask me something first, e.g. {prefix}who housing Liège.").format(
            prefix=ctx.prefix)
    if not page.outcome.results:
        return _("No more results for \"{query}\".").format(query=escape(page.query[:80]))
    return "\n\n".join(format_result(ctx, page.shown_before + number, result)
                       for number, result in enumerate(page.outcome.results, start=1))
