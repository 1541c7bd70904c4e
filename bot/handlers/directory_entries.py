"""Directory entries as the chat shows them: one result of a search, `/entry ID` in full, and
the lines both share (area, contact, hours, freshness, who to reach when an entry has no
phone or e-mail)."""
from __future__ import annotations

from datetime import date

from bot.directory import fields
from bot.directory.query import SearchResult
from bot.directory.records import EntryRecord
from bot.directory.routes import contact_route
from bot.directory.service import WARN_AFTER_DAYS, DirectoryService
from bot.i18n import _, current_locale
from bot.markup import bold, escape
from bot.messages import Reply
from bot.router import Context, UserError


def directory_of(ctx: Context) -> DirectoryService:
    return ctx.services.directory


def reader_lang() -> str:
    """The language place names are shown in: the reader's national one, else English."""
    locale = current_locale()
    return locale if locale in {"fr", "nl", "de", "en"} else "en"


def display_name(entry: EntryRecord) -> str:
    """The organisation's name in the reader's national language, else as its staff write it."""
    locale = current_locale()
    return entry.name_in(locale) if locale in {"fr", "nl", "de"} else entry.organisation


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
    closed = availability_line(entry, directory_of(ctx).today())
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
    directory = directory_of(ctx)
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
    gaz = directory_of(ctx).gazetteer
    lang = reader_lang()
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
    today = directory_of(ctx).today()
    if entry.last_verified is None:
        return [_("Not yet verified by its focal point.")]
    lines = [_("Verified on {date}.").format(date=entry.last_verified.isoformat())]
    if (today - entry.last_verified).days > WARN_AFTER_DAYS:
        lines.append("⚠ " + _("Not verified for over 6 months: check before relying on it."))
    return lines


def known_entry(ctx: Context, entry_id: str) -> EntryRecord:
    """The entry with this id; the person is told there is none otherwise."""
    entry = directory_of(ctx).index.get(entry_id)
    if entry is None:
        raise UserError(_("There is no entry {id}.").format(id=escape(entry_id[:100])))
    return entry


async def show_entry(ctx: Context) -> str | Reply:
    entry_id = ctx.args.strip()
    directory = directory_of(ctx)
    if not entry_id or directory is None:
        return ctx.usage()
    entry = known_entry(ctx, entry_id)
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
    updated = await focal_update_line(ctx, entry.id)
    if updated:
        lines.append(updated)
    return "\n".join(lines)


# ---- shown in answers and in /entry ----------------------------------------------------------
def availability_line(entry: EntryRecord, today: date) -> str | None:
    """"Temporarily closed until …" while the end date has not passed."""
    parsed = fields.parse_availability(entry.attributes.get(fields.AVAILABILITY, ""))
    if parsed is None or parsed[1] < today:
        return None
    return "⚠ " + _("Temporarily closed until {date}.").format(date=parsed[1].isoformat()) \
        if parsed[0] == "closed" else "⚠ " + _("Full until {date}.").format(
            date=parsed[1].isoformat())


async def focal_update_line(ctx: Context, entry_id: str) -> str | None:
    when = await directory_of(ctx).changes.last_focal_update(ctx.session, entry_id)
    if when is None:
        return None
    return _("Updated by its focal point on {date}.").format(date=when.date().isoformat())

