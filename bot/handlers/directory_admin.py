"""Keeping the directory current, for coordinators: `/stale` (not verified lately, or changes
asked for), `/incomplete` (no phone or e-mail), `/import` with a CSV file and
`/export_directory`."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory.routes import incomplete as incomplete_entries
from bot.directory.service import DirectoryService, ImportReport
from bot.directory.text import phrase
from bot.handlers.directory_entries import directory_of, display_name, reader_lang
from bot.i18n import _, current_locale, ngettext
from bot.markup import bold, escape
from bot.messages import Attachment, Reply
from bot.router import Context, UserError
from bot.trust import audit

MAX_PROBLEMS_SHOWN = 15
MAX_STALE_SHOWN = 30
MAX_INCOMPLETE_SHOWN = 40

async def stale(ctx: Context) -> str:
    directory = directory_of(ctx)
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
        for entry, asked in requested[:MAX_STALE_SHOWN]:
            lines.append(f"• `{entry.id}` {escape(entry.organisation)} (" + _(
                "asked on {date}").format(date=asked.date().isoformat()) + ")")
    return "\n".join(lines)



async def incomplete(ctx: Context) -> str:
    """Entries without a phone or e-mail, by municipality, the largest first."""
    directory = directory_of(ctx)
    area = None
    if ctx.args.strip():
        area = _area_argument(directory, ctx.args.strip())
        if area is None:
            raise UserError(_("I do not know the area {area!r}: write a municipality, a postal "
                              "code, a province or a region.").format(
                                  area=escape(ctx.args.strip()[:60])))
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
        label = directory.area_label(code, reader_lang()) if code else _("wider areas")
        lines.append(bold(escape(label)))
        for entry in entries[:MAX_INCOMPLETE_SHOWN - shown]:
            lines.append(f"• `{entry.id}` {escape(display_name(entry))}")
            shown += 1
    if total > shown:
        lines.append(ngettext("… and {n} more; {prefix}incomplete AREA narrows the list.",
                              "… and {n} more; {prefix}incomplete AREA narrows the list.",
                              total - shown).format(n=total - shown, prefix=ctx.prefix))
    return "\n".join(lines)


def _area_argument(directory: DirectoryService, text: str) -> str | None:
    code = directory.area_code(text)
    if code:
        return code
    reading = directory.gazetteer.lookup(phrase(text))
    return reading.codes[0] if reading and len(reading.codes) == 1 else None


async def import_directory(ctx: Context) -> str | Reply:
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
                skip_invalid: bool) -> Callable[[], Awaitable[None]]:
    services, user_id, locale = ctx.services, ctx.user.id, current_locale()

    async def record(session: AsyncSession, report: ImportReport) -> None:
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


def _import_answer(report: ImportReport, filename: str) -> str:
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


async def export_directory(ctx: Context) -> Reply:
    content = await directory_of(ctx).export(ctx.session)
    await audit.record(ctx.session, ctx.user.id, "directory.export", "directory",
                       {"bytes": len(content)}, at=ctx.services.clock.now())
    return Reply(_("The directory as CSV (with the HXL row); edit it and send it back with "
                   "{prefix}import.").format(prefix=ctx.prefix),
                 attachment=Attachment("directory.csv", content, "text/csv"))

