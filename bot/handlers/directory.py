"""Directory commands: who handles what, where (`/who`, plain text in a direct chat, `/more`,
`/entry`), and keeping it current (`/stale`, `/import` with a CSV file, `/export_directory`)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.directory.index import SearchOutcome, SearchResult
from bot.directory.models import LastQuery, utcnow
from bot.directory.records import EntryRecord
from bot.directory.routes import contact_route
from bot.directory.routes import incomplete as incomplete_entries
from bot.directory.service import WARN_AFTER_DAYS
from bot.directory.text import phrase
from bot.directory.verification import ANSWER_KIND as VERIFY_KIND
from bot.directory.verification import CHANGES, CONFIRM, question
from bot.conversations import confirmation_answer
from bot.handlers import directory_edit as editor
from bot.i18n import LOCALES, N_, _, current_locale, ngettext, normalize_locale
from bot.markup import bold, escape
from bot.messages import Attachment, Choice, Reply
from bot.router import Command, Context, ConversationStep, Feature
from bot.trust import audit

PAGE = 3
PLACE_QUESTION = "directory.place"
MAX_PROBLEMS_SHOWN = 15
MAX_STALE_SHOWN = 30


def _directory(ctx: Context):
    return ctx.services.directory


def _lang() -> str:
    locale = current_locale()
    return locale if locale in {"fr", "nl", "de", "en"} else "en"


def display_name(entry: EntryRecord) -> str:
    """The organisation's name in the reader's national language, else as its staff write it."""
    locale = current_locale()
    return entry.name_in(locale) if locale in {"fr", "nl", "de"} else entry.organisation


# ---- searching -------------------------------------------------------------------------
async def who(ctx: Context):
    if not ctx.args.strip():
        return ctx.usage()
    return await answer(ctx, ctx.args.strip())


async def search_text(ctx: Context):
    return await answer(ctx, ctx.message.text.strip(), follow_query_language=True)


async def answer(ctx: Context, query: str, place: str | None = None,
                 follow_query_language: bool = False):
    directory = _directory(ctx)
    if directory is None:
        return _("The directory is not available right now. Please try again later.")
    outcome = directory.search(query, limit=PAGE, language=current_locale(), place=place)
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


async def _respond(ctx: Context, query: str, place: str | None, outcome: SearchOutcome):
    if outcome.ambiguous and place is None:
        return await _ask_which_place(ctx, query, outcome)
    await _remember(ctx, query, place, len(outcome.results))
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
    gaz = _directory(ctx).gazetteer
    vocab = _directory(ctx).vocabulary
    topic = vocab.label(parsed.topic, current_locale()) if parsed.topic else None
    place = gaz.label(parsed.place.codes[0], _lang()) if parsed.place else None
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
    gaz = _directory(ctx).gazetteer
    choices = [Choice(_place_label(gaz, code), code) for code in outcome.readings]
    await ctx.services.conversations.start(
        ctx.session, ctx.chat_key, ctx.user.id, PLACE_QUESTION,
        {"query": query, "codes": list(outcome.readings)}, ttl=timedelta(hours=1))
    names = {gaz.label(code, _lang()) for code in outcome.readings}
    said = names.pop() if len(names) == 1 else outcome.query.place_words
    text = _("\"{place}\" can mean several places. Which one do you mean?").format(
        place=escape(said))
    return Reply(text, choices=choices)


def _place_label(gaz, code: str) -> str:
    area = gaz.area(code)
    lang = _lang()
    parent = gaz.area(area.parent) if area.parent in gaz.areas else None
    province = next((gaz.area(c) for c, rank in gaz.containing(code)
                     if gaz.area(c).level == "province"), None)
    wider = province or (gaz.area(parent.parent) if parent and parent.parent in gaz.areas
                         else None)
    return f"{area.name(lang)} ({wider.name(lang)})" if wider else area.name(lang)


async def place_answer(ctx: Context, pending):
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
    gaz = _directory(ctx).gazetteer
    lowered = text.casefold()
    for code in codes:
        if lowered in {_place_label(gaz, code).casefold(), gaz.label(code, _lang()).casefold()}:
            return code
    return None


async def _remember(ctx: Context, query: str, place: str | None, shown: int) -> None:
    row = await _last_query(ctx)
    if row is None:
        row = LastQuery(chat_key=ctx.chat_key, user_id=ctx.user.id)
        ctx.session.add(row)
    row.query, row.place, row.shown, row.updated_at = query, place, shown, utcnow()


async def _last_query(ctx: Context) -> LastQuery | None:
    return await ctx.session.scalar(select(LastQuery).where(
        LastQuery.chat_key == ctx.chat_key, LastQuery.user_id == ctx.user.id))


async def more(ctx: Context):
    row = await _last_query(ctx)
    directory = _directory(ctx)
    if row is None or directory is None:
        return _("Ask me something first, e.g. {prefix}who housing Liège.").format(
            prefix=ctx.prefix)
    outcome = directory.search(row.query, limit=PAGE, language=current_locale(),
                               offset=row.shown, place=row.place)
    if not outcome.results:
        return _("No more results for \"{query}\".").format(query=escape(row.query[:80]))
    lines = [format_result(ctx, row.shown + number, result)
             for number, result in enumerate(outcome.results, start=1)]
    row.shown += len(outcome.results)
    return "\n\n".join(lines)


# ---- showing entries ---------------------------------------------------------------------
def format_result(ctx: Context, number: int, result: SearchResult) -> str:
    entry = result.entry
    lines = [f"{number}. {bold(display_name(entry))} (`{entry.id}`)"]
    if entry.service_in(current_locale()):
        lines.append(escape(entry.service_in(current_locale())))
    lines.extend(area_contact_languages(ctx, entry))
    lines.extend(freshness_lines(ctx, entry))
    return "\n".join(lines)


def area_contact_languages(ctx: Context, entry: EntryRecord) -> list[str]:
    lines = [_("Area: {area}").format(area=coverage_text(ctx, entry))]
    contact = contact_text(ctx, entry)
    if contact:
        lines.append(_("Contact: {contact}").format(contact=contact))
    if entry.hours:
        lines.append(_("Hours: {hours}").format(hours=escape(entry.hours)))
    closed = editor.availability_line(entry, _directory(ctx).today())
    if closed:
        lines.append(closed)
    if entry.languages:
        lines.append(_("Languages: {languages}").format(languages=", ".join(entry.languages)))
    lines.extend(route_lines(ctx, entry))
    return lines


def route_lines(ctx: Context, entry: EntryRecord) -> list[str]:
    """An entry without phone or e-mail says so and names who to reach instead."""
    if entry.has_direct_contact:
        return []
    directory = _directory(ctx)
    route = contact_route(entry, directory.index, directory.gazetteer)
    lines = ["⚠ " + _("No phone or e-mail on file for this entry.")]
    if route is not None:
        intro = {
            "local": _("Meanwhile, in the same municipality: {name}, {contact}"),
            "federation": _("Meanwhile, the federation of the social welfare centres can "
                            "direct you: {name}, {contact}"),
            "helpdesk": _("Meanwhile, the federal helpdesk can direct you: {name}, {contact}"),
        }[route.kind]
        lines.append(intro.format(name=bold(display_name(route.entry)),
                                  contact=escape(" · ".join(filter(None, (
                                      route.entry.phone, route.entry.email))))))
    if ctx.can("incomplete"):
        lines.append(_("Coordinators: {prefix}incomplete lists the entries to complete; their "
                       "focal point completes them with {prefix}myentry.").format(
            prefix=ctx.prefix))
    return lines


def coverage_text(ctx: Context, entry: EntryRecord) -> str:
    gaz = _directory(ctx).gazetteer
    lang = _lang()
    included = [gaz.label(gaz.canonical(c) or c, lang) for c in entry.includes]
    excluded = [gaz.label(gaz.canonical(c) or c, lang) for c in entry.excludes]
    text = ", ".join(included[:4]) + (" …" if len(included) > 4 else "")
    if excluded:
        text += " " + _("(except {areas})").format(areas=", ".join(excluded))
    return escape(text)


def contact_text(ctx: Context, entry: EntryRecord) -> str:
    """Guests see the organisation's public channels; staff and above also the focal point."""
    personal = ctx.can("directory.personal_contacts")
    named = bool(entry.contact_name)
    parts = []
    if personal and entry.contact_name:
        parts.append(entry.contact_name)
    if entry.phone and (personal or not named):
        parts.append(entry.phone)
    if entry.email and (personal or not named):
        parts.append(entry.email)
    if entry.url:
        parts.append(entry.url)
    if entry.address:
        parts.append(entry.address)
    if personal and entry.matrix:
        parts.append(_("Matrix {handle}").format(handle=entry.matrix))
    if personal and entry.telegram:
        parts.append(_("Telegram @{handle}").format(handle=entry.telegram))
    return escape(" · ".join(parts))


def freshness_lines(ctx: Context, entry: EntryRecord) -> list[str]:
    today = _directory(ctx).today()
    if entry.last_verified is None:
        return [_("Not yet verified by its focal point.")]
    lines = [_("Verified on {date}.").format(date=entry.last_verified.isoformat())]
    if (today - entry.last_verified).days > WARN_AFTER_DAYS:
        lines.append("⚠ " + _("Not verified for over 6 months: check before relying on it."))
    return lines


async def show_entry(ctx: Context):
    entry_id = ctx.args.strip()
    directory = _directory(ctx)
    if not entry_id or directory is None:
        return ctx.usage()
    entry = directory.index.get(entry_id)
    if entry is None:
        return _("There is no entry {id}.").format(id=escape(entry_id[:100]))
    vocab = directory.vocabulary
    status = {"active": _("active"), "paused": _("paused"), "closed": _("closed")}
    lines = [bold(display_name(entry)) + f" (`{entry.id}`)"]
    other_names = sorted({n for n in entry.organisation_names.values() if n != entry.organisation})
    if other_names or entry.acronym:
        lines.append(_("Also known as: {names}").format(
            names=escape(", ".join(filter(None, [entry.organisation, *other_names,
                                                 entry.acronym])))))
    if entry.service_in(current_locale()):
        lines.append(escape(entry.service_in(current_locale())))
    lines.append(_("Topics: {topics}").format(
        topics=", ".join(vocab.label(t, current_locale()) for t in entry.topics)))
    lines.extend(area_contact_languages(ctx, entry))
    if entry.keywords:
        lines.append(_("Keywords: {keywords}").format(keywords=escape(", ".join(entry.keywords))))
    lines.append(_("Status: {status}").format(status=status.get(entry.status, entry.status)))
    lines.extend(freshness_lines(ctx, entry))
    updated = await editor.focal_update_line(ctx, entry.id)
    if updated:
        lines.append(updated)
    return "\n".join(lines)


# ---- keeping it current ------------------------------------------------------------------
async def stale(ctx: Context):
    directory = _directory(ctx)
    days = ctx.services.settings.directory_verify_every_days
    entries = await directory.stale(ctx.session, days)
    requested = await directory.changes_requested(ctx.session)
    if not entries:
        lines = [_("Every active entry was verified in the last {days} days.").format(days=days)]
    else:
        lines = [ngettext("{n} entry not verified for {days} days or more:",
                          "{n} entries not verified for {days} days or more:",
                          len(entries)).format(n=len(entries), days=days)]
    for entry in entries[:MAX_STALE_SHOWN]:
        when = (_("verified on {date}").format(date=entry.last_verified.isoformat())
                if entry.last_verified else _("never verified"))
        lines.append(f"• `{entry.id}` {escape(entry.organisation)} ({when})")
    if len(entries) > MAX_STALE_SHOWN:
        more = len(entries) - MAX_STALE_SHOWN
        lines.append(ngettext("… and {n} more; {prefix}export_directory gives the whole list.",
                              "… and {n} more; {prefix}export_directory gives the whole list.",
                              more).format(n=more, prefix=ctx.prefix))
    if requested:
        lines.append(_("Their focal point says these entries need changes:"))
        for entry, when in requested[:MAX_STALE_SHOWN]:
            lines.append(f"• `{entry.id}` {escape(entry.organisation)} (" + _(
                "asked on {date}").format(date=when.date().isoformat()) + ")")
    return "\n".join(lines)


MAX_INCOMPLETE_SHOWN = 40


async def incomplete(ctx: Context):
    """Entries without a phone or e-mail, by municipality, the largest first."""
    directory = _directory(ctx)
    area = None
    if ctx.args.strip():
        area = _area_argument(directory, ctx.args.strip())
        if area is None:
            return _("I do not know the area {area!r}: write a municipality, a postal code, a "
                     "province or a region.").format(area=escape(ctx.args.strip()[:60]))
    groups = incomplete_entries(directory.index, directory.gazetteer, area)
    total = sum(len(entries) for _code, entries in groups)
    if not total:
        return _("Every active entry there has a phone or an e-mail.")
    lines = [ngettext("{n} entry has no phone or e-mail:",
                      "{n} entries have no phone or e-mail:", total).format(n=total)]
    shown = 0
    for code, entries in groups:
        if shown >= MAX_INCOMPLETE_SHOWN:
            break
        label = directory.area_label(code, _lang()) if code else _("wider areas")
        lines.append(bold(escape(label)))
        for entry in entries[:MAX_INCOMPLETE_SHOWN - shown]:
            lines.append(f"• `{entry.id}` {escape(display_name(entry))}")
            shown += 1
    if total > shown:
        lines.append(ngettext("… and {n} more; {prefix}incomplete AREA narrows the list.",
                              "… and {n} more; {prefix}incomplete AREA narrows the list.",
                              total - shown).format(n=total - shown, prefix=ctx.prefix))
    return "\n".join(lines)


def _area_argument(directory, text: str) -> str | None:
    code = directory.area_code(text)
    if code:
        return code
    reading = directory.gazetteer.lookup(phrase(text))
    return reading.codes[0] if reading and len(reading.codes) == 1 else None


# ---- re-verification answers (questions sent by bot/directory/verification.py) -------------
async def verify(ctx: Context):
    parts = ctx.args.split()
    if len(parts) != 2 or parts[1].lower() not in {CONFIRM, CHANGES}:
        return ctx.usage()
    return await _verification_answer(ctx, parts[0], parts[1].lower())


async def verify_step(ctx: Context, pending):
    """`1`/`2` (or a label) answers the oldest open question; anything else is a new query."""
    entries = list(pending.payload.get("entries", []))
    answer = _verification_choice(ctx.message.text)
    if answer is None or not entries:
        await ctx.services.conversations.end(ctx.session, ctx.chat_key, ctx.user.id)
        if not (ctx.message.is_direct or ctx.message.addressed):
            return None
        return await search_text(ctx)
    return await _verification_answer(ctx, entries[0], answer)


def _verification_choice(text: str) -> str | None:
    word = text.strip().casefold()
    if word == _("Still correct").casefold():
        return CONFIRM
    if word == _("Needs changes").casefold():
        return CHANGES
    found = confirmation_answer(text)
    return None if found is None else (CONFIRM if found else CHANGES)


async def _verification_answer(ctx: Context, entry_id: str, answer: str):
    directory = _directory(ctx)
    if directory.index.get(entry_id) is None:
        return _("There is no entry {id}.").format(id=escape(entry_id[:100]))
    mine = await directory.verification.may_answer(ctx.session, ctx.user, entry_id)
    if not (mine or ctx.can("stale")):
        return _("Only the focal point of {id} or a coordinator can answer for it.").format(
            id=escape(entry_id[:100]))
    remaining = await _drop_question(ctx, entry_id)
    if not mine:
        await audit.record(ctx.session, ctx.user.id, "directory.verify", f"entry:{entry_id}",
                           {"answer": answer}, at=ctx.services.clock.now())
    if answer == CONFIRM:
        record = await directory.confirm(ctx.session, entry_id)
        ctx.after_commit.append(_note_verified(directory, record))
        replies = [_("Thank you: {name} is verified as of {date}.").format(
            name=bold(record.organisation), date=record.last_verified.isoformat())]
    else:
        record = await directory.request_changes(ctx.session, entry_id)
        if ctx.message.is_direct and await directory.changes.may_edit(ctx.session, ctx.user,
                                                                      entry_id):
            # "Needs changes" opens the editor; the other open questions come back after it.
            return [_("Thank you. Correct your entry here, one field at a time:"),
                    await editor.start_editor(ctx, entry_id, after=remaining)]
        replies = [_("Thank you. Please send the corrections for {name} (`{id}`) to your "
                     "coordinator: what is wrong and the right details. Until the entry is "
                     "corrected, coordinators see it in {prefix}stale.").format(
            name=bold(record.organisation), id=record.id, prefix=ctx.prefix)]
    if remaining:
        replies.append(question(directory.index.get(remaining[0]), ctx.prefix))
    return replies


async def _drop_question(ctx: Context, entry_id: str) -> list[str]:
    """Removes the entry from the person's open questions; returns the ones still open."""
    conversations = ctx.services.conversations
    pending = await conversations.current(ctx.session, ctx.chat_key, ctx.user.id, VERIFY_KIND)
    if pending is None:
        return []
    remaining = [e for e in pending.payload.get("entries", [])
                 if e != entry_id and _directory(ctx).index.get(e) is not None]
    if remaining:
        await conversations.update(ctx.session, pending, {"entries": remaining})
    else:
        await conversations.end(ctx.session, ctx.chat_key, ctx.user.id, VERIFY_KIND)
    return remaining


def _note_verified(directory, record: EntryRecord):
    async def note() -> None:
        directory.note_verified(record)
    return note


async def import_directory(ctx: Context):
    attachment = ctx.message.attachment
    if attachment is None:
        return _("Send the CSV file as an attachment with {prefix}import as its caption "
                 "(add \"replace\" to replace the whole directory, \"skip-invalid\" to import "
                 "only the valid rows).").format(prefix=ctx.prefix)
    options = set(ctx.args.lower().replace(",", " ").split())
    unknown = options - {"replace", "skip-invalid", "skip_invalid"}
    if unknown:
        return ctx.usage()
    # The import runs in its own short transactions once this message's transaction has
    # committed (a long one would make everyone else wait); the answer is completed then.
    answer = Reply("")
    ctx.after_commit.append(_run_import(ctx, answer, attachment, "replace" in options,
                                        bool(options & {"skip-invalid", "skip_invalid"})))
    return answer


def _run_import(ctx: Context, answer: Reply, attachment: Attachment, replace: bool,
                skip_invalid: bool):
    services, user_id, locale = ctx.services, ctx.user.id, current_locale()

    async def record(session, report) -> None:
        await audit.record(session, user_id, "directory.import", "directory", report.counts(),
                           at=services.clock.now())

    async def run() -> None:
        with services.catalogues.use(locale):  # problems are worded while the file is read
            report = await services.directory.import_staged(
                services.db, attachment.content, replace=replace, skip_invalid=skip_invalid,
                on_applied=record)
            answer.text = _import_answer(report, attachment.filename)
        if report.applied:
            async with services.db.session() as session:
                await services.directory.refresh(session)
    return run


def _import_answer(report, filename: str) -> str:
    if report.file_error:
        return _("I could not read {file}: {error}. Nothing was changed.").format(
            file=escape(filename), error=report.file_error)
    lines = []
    if not report.applied:
        lines.append(ngettext(
            "{n} row of {total} is invalid; nothing was changed. Fix it and send the file "
            "again, or add \"skip-invalid\".",
            "{n} rows of {total} are invalid; nothing was changed. Fix them and send the file "
            "again, or add \"skip-invalid\".", report.skipped).format(
                n=report.skipped, total=report.total_rows))
    else:
        lines.append(_("Directory updated: {created}, {updated}, {removed}, {skipped}.").format(
            created=ngettext("{n} new entry", "{n} new entries", report.created).format(
                n=report.created),
            updated=ngettext("{n} updated", "{n} updated", report.updated).format(
                n=report.updated),
            removed=ngettext("{n} removed", "{n} removed", report.removed).format(
                n=report.removed),
            skipped=ngettext("{n} invalid row skipped", "{n} invalid rows skipped",
                             report.skipped).format(n=report.skipped)))
    for problem in report.problems[:MAX_PROBLEMS_SHOWN]:
        lines.append(f"• {escape(str(problem))}")
    more = len(report.problems) + report.more_problems - MAX_PROBLEMS_SHOWN
    if more > 0:
        lines.append(ngettext("… and {n} more problem.", "… and {n} more problems.",
                              more).format(n=more))
    return "\n".join(lines)


async def export_directory(ctx: Context):
    content = await _directory(ctx).export(ctx.session)
    await audit.record(ctx.session, ctx.user.id, "directory.export", "directory",
                       {"bytes": len(content)}, at=ctx.services.clock.now())
    return Reply(_("The directory as CSV (with the HXL row); edit it and send it back with "
                   "{prefix}import.").format(prefix=ctx.prefix),
                 attachment=Attachment("directory.csv", content, "text/csv"))


FEATURE = Feature(
    name="directory",
    commands=[
        Command("who", who, N_("who handles what, where"), N_("/who QUERY")),
        Command("more", more, N_("more results for your last question"), N_("/more")),
        Command("entry", show_entry, N_("one directory entry in full"), N_("/entry ID")),
        Command("stale", stale, N_("directory entries not verified for 90 days"), N_("/stale")),
        Command("incomplete", incomplete, N_("directory entries without a phone or e-mail"),
                N_("/incomplete [AREA]")),
        Command("verify", verify, N_("confirm or correct your directory entry"),
                N_("/verify ID ok|changes")),
        Command("myentry", editor.myentry, N_("see and correct your own directory entry"),
                N_("/myentry [ID]")),
        Command("changes", editor.changes, N_("changes focal points made to their entries"),
                N_("/changes [ENTRY]")),
        Command("revert", editor.revert, N_("undo a focal point's change to an entry"),
                N_("/revert NUMBER")),
        Command("approve", editor.approve, N_("approve a focal point's changes to an entry"),
                N_("/approve ENTRY")),
        Command("reject", editor.reject, N_("reject a focal point's changes to an entry"),
                N_("/reject ENTRY")),
        Command("complete_entries", editor.complete_entries,
                N_("ask focal points to complete entries without a phone or e-mail"),
                N_("/complete_entries [status]")),
        Command("import", import_directory, N_("import the directory (send the CSV file)"),
                N_("/import [replace] [skip-invalid] with the CSV file attached"),
                takes_file=True),
        Command("export_directory", export_directory, N_("the directory as a CSV file"),
                N_("/export_directory")),
    ],
    conversations=[ConversationStep(PLACE_QUESTION, place_answer),
                   ConversationStep(VERIFY_KIND, verify_step),
                   ConversationStep(editor.EDIT_KIND, editor.edit_step),
                   ConversationStep(editor.CAMPAIGN_KIND, editor.campaign_step)],
    text_handler=search_text,
)
