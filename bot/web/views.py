"""The dashboard's pages: rounds, one round, directory, reminders. Each function reads
through the domain services and returns the page body; figures come from the same
`summarise` as `/results`, so the page and the chat never disagree."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.checkins import texts
from bot.checkins.models import CheckinForm, CheckinRound
from bot.directory.routes import incomplete
from bot.i18n import _, current_locale, ngettext
from bot.people import User
from bot.web.html import bar_chart, h, heading, meter, number, para, percent, table

if TYPE_CHECKING:
    from bot.checkins.forms import Form
    from bot.directory.gazetteer import Gazetteer
    from bot.directory.service import DirectoryService
    from bot.services import Services
    from bot.web.figures import RoundFigures

MAX_LISTED = 200


def _status(code: str) -> str:
    return {"scheduled": _("scheduled"), "open": _("open"), "closed": _("closed")}.get(code, code)


# ----- rounds ------------------------------------------------------------------------------

async def rounds_list(services: Services, session: AsyncSession, user: User) -> str:
    svc = services.checkins
    lines = await svc.rounds.overview(session, limit=50)
    if not lines:
        return para(_("No check-in rounds yet."), "muted")
    tz = svc.tz_of(user)
    rows = []
    for line in lines:
        round_, code, done, total = line.round, line.form_code, line.answered, line.asked
        link = f'<a href="/rounds/{h(code)}/{round_.number}">{h(code)} · {round_.number}</a>'
        rows.append([link, _status(round_.status), texts.when(round_.deadline, tz),
                     f"{done}/{total}", meter(done / total if total else 0)])
    return table([_("Round"), _("Status"), _("Deadline"), _("Answered"), _("Response rate")],
                 rows, numeric_from=3, raw={0, 4})


async def round_page(services: Services, figures: RoundFigures, session: AsyncSession,
                     user: User, row: CheckinForm, round_: CheckinRound) -> tuple[str, str]:
    """(title, body) of one round; `figures` is the dashboard's RoundFigures."""
    svc = services.checkins
    form = svc.form_of(round_)
    result = await figures.of(session, round_)
    history = await figures.history(session, row)
    tz = svc.tz_of(user)
    title = _("{title}, round {number}").format(title=texts.title(form), number=round_.number)
    parts = [_facts(round_, result, tz), _regions(form, result), _non_responders(result),
             _trend(form, history), _questions(form, result), _downloads(row.code, round_)]
    return title, "".join(parts)


def _facts(round_: CheckinRound, result: dict[str, Any], tz: ZoneInfo) -> str:
    assigned, submitted = result["assigned"], result["submitted"]
    items = [(_("Responses"), f"{submitted} / {assigned}"),
             (_("Response rate"), percent(submitted, assigned)),
             (_("Late answers"), str(result["late"])),
             (_("Deadline"), texts.when(round_.deadline, tz)),
             (_("Status"), _status(round_.status))]
    return '<ul class="kpi">' + "".join(
        f"<li>{h(label)}<strong>{h(value)}</strong></li>" for label, value in items) + "</ul>"


def _regions(form: Form, result: dict[str, Any]) -> str:
    regions = result.get("regions") or {}
    rows = [[texts.region_label(form, code), c["assigned"], c["submitted"],
             percent(c["submitted"], c["assigned"]),
             meter(c["submitted"] / c["assigned"] if c["assigned"] else 0)]
            for code, c in sorted(regions.items(), key=lambda kv: texts.region_label(form, kv[0]))]
    return heading(_("Response rate by province or region")) + table(
        [_("Province or region"), _("Asked"), _("Answered"), _("Rate"), ""], rows, raw={4})


def _non_responders(result: dict[str, Any]) -> str:
    names = result.get("non_responders") or []
    head = heading(_("Not answered"))
    if not names:
        count = result.get("non_responder_count", 0)
        if count:
            return head + para(_("{count} did not answer; their names were removed after "
                                 "the retention period.").format(count=count))
        return head + para(_("Everyone answered."))
    items = "".join(f"<li>{h(name)}</li>" for name in names[:MAX_LISTED])
    more = len(names) - MAX_LISTED
    tail = para(ngettext("and {count} more", "and {count} more", more).format(count=more)) \
        if more > 0 else ""
    return head + f'<p class="muted">{h(str(len(names)))}</p><ul class="names">{items}</ul>{tail}'


def _trend(form: Form, history: list[tuple[CheckinRound, dict[str, Any]]]) -> str:
    locale = current_locale()
    charts = []
    for q in [q for q in form.answerable if q.is_numeric][:5]:
        points = [(_("R{number}").format(number=r.number),
                   float(result["questions"][q.name]["total"]))
                  for r, result in history
                  if "total" in (result.get("questions", {}).get(q.name) or {})]
        charts.append(bar_chart(q.label(locale, form.default_language), points))
    rates = [(_("R{number}").format(number=r.number), round(100 * result.get("rate", 0), 1))
             for r, result in history]
    charts.insert(0, bar_chart(_("Response rate (%)"), rates))
    return heading(_("Main figures over the last rounds")) + "".join(charts)


def _questions(form: Form, result: dict[str, Any]) -> str:
    locale, default = current_locale(), form.default_language
    out = [heading(_("Answers"))]
    for q in form.answerable:
        figures = result["questions"].get(q.name) or {}
        label = q.label(locale, default)
        if q.is_numeric:
            rows = [[_("all"), number(figures.get("total", 0)), figures.get("answered", 0),
                     number(figures["mean"]) if figures.get("mean") is not None else "—"]]
            rows += [[texts.region_label(form, r), number(v), "", ""]
                     for r, v in (figures.get("by_region") or {}).items()]
            out.append(table([_("Where"), _("Total"), _("Answers"), _("Mean")], rows,
                             caption=label))
        elif "counts" in figures:
            rows = [[q.display(k, locale, default) if q.is_choice else k, v]
                    for k, v in figures["counts"].items()]
            out.append(table([_("Answer"), _("Count")], rows, caption=label))
        elif figures.get("texts"):
            rows = [[texts.region_label(form, r), text] for r, text in figures["texts"]]
            out.append(table([_("Where"), _("Answer")], rows[:MAX_LISTED], caption=label,
                             numeric_from=9))
    return "".join(out)


def _downloads(code: str, round_: CheckinRound) -> str:
    base = f"/rounds/{h(code)}/{round_.number}"
    csv_label, xlsx_label = _("CSV with HXL row"), _("Excel workbook (XLSX)")
    return (heading(_("Downloads")) + '<p class="downloads">'
            f'<a href="{base}/export.csv" download>{h(csv_label)}</a>'
            f'<a href="{base}/export.xlsx" download>{h(xlsx_label)}</a></p>')


# ----- directory ---------------------------------------------------------------------------

def _bucket(gazetteer: Gazetteer, code: str) -> str:
    """The province an area lies in; in Brussels (no province) the region; the area itself
    when it is wider than either."""
    canonical = gazetteer.canonical(code)
    if canonical is None:
        return code
    levels = {gazetteer.area(c).level: c for c, _rank in reversed(gazetteer.containing(canonical))}
    return levels.get("province") or levels.get("region") or canonical


async def directory_page(services: Services, session: AsyncSession, user: User) -> str:
    directory = services.directory
    gaz, vocab, lang = directory.gazetteer, directory.vocabulary, current_locale()
    entries = directory.index.entries
    by_area: dict[str, int] = {}
    by_topic: dict[str, int] = {}
    for entry in entries:
        for bucket in {_bucket(gaz, code) for code in entry.includes}:
            by_area[bucket] = by_area.get(bucket, 0) + 1
        for topic in entry.topics:
            by_topic[topic] = by_topic.get(topic, 0) + 1
    days = services.settings.directory_verify_every_days
    stale = await directory.stale(session, days)
    gaps = [entry for _code, group in incomplete(directory.index, gaz) for entry in group]
    figures = [(_("Active entries"), len(entries)), (_("Not verified recently"), len(stale)),
               (_("Without phone or e-mail"), len(gaps))]
    parts = [
        '<ul class="kpi">' + "".join(f"<li>{h(label)}<strong>{value}</strong></li>"
                                     for label, value in figures) + "</ul>",
        heading(_("Entries by area")),
        table([_("Area"), _("Entries")], sorted(
            ([gaz.label(code, lang), count] for code, count in by_area.items()),
            key=lambda row: (-row[1], row[0]))),
        heading(_("Entries by topic")),
        table([_("Topic"), _("Entries")], sorted(
            ([vocab.label(topic, lang), count] for topic, count in by_topic.items()),
            key=lambda row: (-row[1], row[0]))),
        heading(_("Not verified for {days} days or more").format(days=days)),
        table([_("Entry"), _("Organisation"), _("Last verified")],
              [[e.id, e.name_in(lang), e.last_verified.isoformat() if e.last_verified
                else _("never")] for e in stale[:MAX_LISTED]], numeric_from=9),
        heading(_("Incomplete: no phone or e-mail")),
        table([_("Entry"), _("Organisation"), _("Service")],
              [[e.id, e.name_in(lang), e.service_in(lang)] for e in gaps[:MAX_LISTED]],
              numeric_from=9),
        await _changes(directory, session, user, services.checkins.tz_of(user), lang)]
    return "".join(parts)


async def _changes(directory: DirectoryService, session: AsyncSession, user: User,
                   tz: ZoneInfo, lang: str) -> str:
    """Changes asked for by focal points (`/verify`), and the entries changed last."""
    requested = await directory.changes_requested(session)
    recent = await directory.changes.recently_changed(session, limit=20)
    names = {e.id: e.name_in(lang) for e in directory.index.entries}
    return "".join([
        heading(_("Changes asked for by focal points")),
        table([_("Entry"), _("Organisation"), _("Asked on")],
              [[r.id, r.name_in(lang), texts.when(at, tz)] for r, at in requested[:MAX_LISTED]],
              numeric_from=9) if requested else para(_("None."), "muted"),
        heading(_("Recently changed")),
        table([_("Entry"), _("Organisation"), _("Changed on")],
              [[entry_id, names.get(entry_id, ""), texts.when(at, tz)]
               for entry_id, at in recent], numeric_from=9)])


# ----- reminders ---------------------------------------------------------------------------

async def reminders_page(services: Services, session: AsyncSession, user: User) -> str:
    schedules = await services.reminders.upcoming_with_answers(
        session, ("meeting", "deadline"), MAX_LISTED)
    tz = services.checkins.tz_of(user)
    kinds = {"meeting": _("meeting"), "deadline": _("deadline")}
    rows = []
    for s, occurrence, answered in schedules:
        upcoming = services.reminders.upcoming(s, 1)
        rows.append([kinds.get(s.kind, s.kind), s.title,
                     texts.when(upcoming[0], tz) if upcoming else "—",
                     texts.when(occurrence, tz) if occurrence else "—",
                     answered.get("yes", 0) + answered.get("done", 0), answered.get("no", 0)])
    upcoming_table = table(
        [_("Kind"), _("Title"), _("Next"), _("Answers for"), _("Will attend or done"),
         _("Cannot attend")], rows, numeric_from=4) if rows else \
        para(_("No upcoming meetings or deadlines."), "muted")
    return upcoming_table + await _broadcasts(services, session, tz)


async def _broadcasts(services: Services, session: AsyncSession, tz: ZoneInfo) -> str:
    """Delivery of the last broadcasts: sent, waiting, failed, without a known chat."""
    from bot.outbox import FAILED, PENDING, SENT

    rows = []
    for b, done in await services.reminders.broadcasts.delivery_counts(session, limit=20):
        rows.append([texts.when(b.created_at, tz), b.text[:80], done.get(SENT, 0),
                     done.get(PENDING, 0), done.get(FAILED, 0), len(b.unreachable or [])])
    return heading(_("Broadcasts: delivery")) + (table(
        [_("Sent on"), _("Message"), _("Delivered"), _("Waiting"), _("Failed"),
         _("No chat known")], rows, numeric_from=2) if rows else para(_("None."), "muted"))
