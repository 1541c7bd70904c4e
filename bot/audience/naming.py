"""Audiences and organisations in the reader's words: describing stored tokens, naming
organisations, finding one by name (/invite), and the "12 recipients: …" line."""
from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.audience.grammar import Grammar, organisation_label
from bot.audience.terms import AudienceError, Reading
from bot.audience.words import MAX_READINGS, ORG_ID_WORDS, ROLE_PLURALS
from bot.i18n import _, ngettext
from bot.people import User
from bot.policy import Role

def find_organisation(directory: Any, text: str) -> tuple[str, str | None]:
    """ORG [ENTRY] of /invite: an organisation by name ("CPAS de Liège", "OCMW Brugge"),
    `org:ID`, or ids as before ("cpas-liege entry-42"). Returns (organisation id, entry id);
    AudienceError with the closest readings when the name is unclear."""
    words = text.split()
    if words and words[0].lower().startswith("org:"):
        words[0] = words[0][4:]
    ids = (words[0], words[1] if len(words) > 1 else None) if _are_ids(words) else None
    known = directory is not None and ids is not None and directory.index.get(words[0]) is not None
    if ids and (known or text.lower().startswith("org:")):
        return ids
    found = directory.organisations_named(text) if directory is not None else {}
    entries = [entry for group in found.values() for entry in group]
    if len(entries) == 1:
        return entries[0].id, None
    if entries:
        raise _several_organisations(text, entries)
    if ids:
        return ids
    readings = [r for r in Grammar(directory)._closest(text, organisations=True)
                if r.text.count("+") == 0]
    raise AudienceError(_("I cannot find the organisation \"{item}\" in the directory.").format(
        item=text[:80]), source=text, span=(0, len(text)), readings=readings)


def _are_ids(words: list[str]) -> bool:
    """One or two words shaped like an organisation id and an entry id."""
    return 0 < len(words) <= 2 and all(bool(ORG_ID_WORDS.fullmatch(w)) and "+" not in w
                                       for w in words)


def _several_organisations(text: str, entries: list[Any]) -> AudienceError:
    readings = [Reading(_entry_label(entry), f"org:{entry.id}") for entry in entries]
    message = _("\"{item}\" names several organisations or services. Which one?")
    if len(entries) > MAX_READINGS:
        message = _("\"{item}\" names {count} organisations; here are the first {shown}. "
                    "If yours is not among them, write its name in full.")
    return AudienceError(message.format(item=text, count=len(entries), shown=MAX_READINGS),
                         source=text, span=(0, len(text)), readings=readings[:MAX_READINGS])


def _entry_label(entry) -> str:
    service = entry.service if len(entry.service) <= 50 else entry.service[:49] + "…"
    return f"{organisation_label(entry)} — {service}" if service else organisation_label(entry)


def organisation_name(directory: Any, organisation_id: str) -> str | None:
    """The name of the organisation an id stands for, when the directory knows it."""
    entry = directory.index.get(organisation_id) if directory is not None else None
    return organisation_label(entry) if entry is not None else None


def only_self(tokens_: list[str], user_id: int, own_chats: set[str]) -> bool:
    """True when every token addresses the person themselves (no permission needed)."""
    own = {f"user:{user_id}", *(f"chat:{key}" for key in own_chats)}
    return all(token in own for token in tokens_)


async def describe(session: AsyncSession, directory: Any, tokens_: list[str],
                   here_chat: str) -> str:
    """The audience in the reader's words: "focal points in Province of Hainaut, CPAS de
    Mons"."""
    grammar = Grammar(directory)
    names = [await _describe_token(session, grammar, token, here_chat) for token in tokens_]
    return ", ".join(dict.fromkeys(names))


async def _describe_token(session, grammar: Grammar, token: str, here_chat: str) -> str:
    parts = dict(part.partition(":")[::2] for part in token.split("&"))
    if "chat" in parts:
        return _("this chat") if parts["chat"] == here_chat else parts["chat"]
    if "all" in parts:
        return _("every chat I know")
    if "user" in parts:
        user = await session.get(User, int(parts["user"])) if parts["user"].isdecimal() else None
        return user.display_name if user else token
    role = Role.parse(parts.get("role"))
    org = _organisation_name(grammar.directory, parts["org"]) if "org" in parts else None
    area = grammar.area_label(parts["area"]) if "area" in parts else None
    who = _(ROLE_PLURALS[role]) if role is not None else None  # Role.GUEST is 0
    if who and org:
        who = _("{who} of {organisation}").format(who=who, organisation=org)
    who = who or org
    if who and area:
        return _("{who} in {area}").format(who=who, area=area)
    return who or _("everyone based in {area}").format(area=area)


def _organisation_name(directory: Any, entry_id: str) -> str:
    entry = directory.index.get(entry_id) if directory is not None else None
    return organisation_label(entry) if entry is not None else entry_id




def recipients_line(names: list[str], total: int, shown: int = 5) -> str:
    """"12 recipients: Marie, Jan, Anna, Piet, Sofie and 7 others." — how many, and who first."""
    if total == 0:
        return _("Nobody receives it for now.")
    listed = ", ".join(names[:shown])
    line = ngettext("{count} recipient: {names}", "{count} recipients: {names}", total).format(
        count=total, names=listed)
    more = total - min(shown, len(names))
    if more > 0:
        line += " " + ngettext("and {count} other", "and {count} others", more).format(count=more)
    return line + "."


