"""How the Matrix transport writes and reads messages, without a homeserver: the notice with
plain and HTML bodies, choices as numbered options answered by number, label or reaction,
mentions of the bot, reply fallbacks, commands, and stable transaction ids."""
from __future__ import annotations

import hashlib
import re
from typing import Any

from bot.markup import to_html, to_plain
from bot.messages import Reply

KEYCAPS = ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟"]
# Yes/no style answers by reaction; the core reads "1" as yes and "2" as no.
YES_REACTIONS = {"✅", "👍", "✔️", "☑️"}
NO_REACTIONS = {"❌", "👎", "✖️"}
_REPLY_FALLBACK = re.compile(r"^(> .*\n)+\n", re.M)

Choices = list[list[str]]   # [[label, value], ...] as stored for a sent message


def transaction_id(*parts: str) -> str:
    """A stable transaction id: the same parts give the same id, so the homeserver drops a
    resend of the same message."""
    return "cb" + hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:40]


def render_notice(reply: Reply) -> dict[str, Any]:
    """An m.notice with a plain `body` and an HTML `formatted_body`; choices as numbered
    options that the user answers with the number, the text or a reaction."""
    plain = to_plain(reply.text)
    html = to_html(reply.text).replace("\n", "<br>")
    if reply.choices:
        plain += "\n" + "\n".join(f"{n}. {to_plain(c.label)}"
                                  for n, c in enumerate(reply.choices, 1))
        html += "<ol>" + "".join(f"<li>{to_html(c.label)}</li>" for c in reply.choices) + "</ol>"
    return {"msgtype": "m.notice", "body": plain, "format": "org.matrix.custom.html",
            "formatted_body": html}


def choice_for_reaction(key: str, choices: Choices) -> str | None:
    """The value of the choice a reaction picks: a keycap digit, or ✅/❌ for the first and
    second option."""
    key = key.strip()
    if key in KEYCAPS:
        index = KEYCAPS.index(key)
    elif key in YES_REACTIONS:
        index = 0
    elif key in NO_REACTIONS and len(choices) == 2:
        index = 1
    else:
        return None
    return choices[index][1] if index < len(choices) else None


def is_allowed(user_id: str, allowed: list[str]) -> bool:
    """`allowed` holds user ids (`@a:server`) and servers (`:server`); empty allows everyone."""
    if not allowed:
        return True
    server = ":" + user_id.partition(":")[2]
    return any(entry == user_id or entry == server for entry in allowed)


def strip_reply_fallback(body: str) -> str:
    return _REPLY_FALLBACK.sub("", body, count=1) if body.startswith("> ") else body


def strip_mention(body: str, names: list[str]) -> tuple[str, bool]:
    """Removes a leading "name:" / "name," / "@bot:server" and tells whether the bot was
    mentioned anywhere in the text (as a whole word)."""
    mentioned = False
    for name in sorted((n for n in names if len(n) > 2), key=len, reverse=True):
        pattern = re.compile(rf"(?<![\w@]){re.escape(name)}(?![\w])", re.I)
        leading = pattern.match(body)
        if leading:
            return body[leading.end():].lstrip(":, \t\n"), True
        mentioned = mentioned or bool(pattern.search(body))
    return body, mentioned



def caption(content: dict[str, Any]) -> str:
    """A file's caption: its `body` when a separate `filename` is given (Matrix 1.10)."""
    body, filename = content.get("body") or "", content.get("filename")
    return body if filename and body != filename else ""


def is_command(text: str) -> bool:
    stripped = text.lstrip()
    return len(stripped) > 1 and stripped[0] in "/!" and stripped[1].isalpha()


def answers_choice(choices: Choices, text: str) -> bool:
    """Whether `text` picks one of `choices` (its number, label or value)."""
    answer = text.strip().lower()
    return (answer.isdecimal() and 1 <= int(answer) <= len(choices)) or any(
        answer in (label.lower(), value.lower()) for label, value in choices)


def command_choice(choices: Choices, text: str) -> str | None:
    """The command value of the choice `text` picks by number or label, if it is a command."""
    answer = text.strip().lower()
    for number, (label, value) in enumerate(choices, 1):
        if answer in (str(number), label.lower()) and is_command(value):
            return value
    return None


def reply_target(content: dict[str, Any]) -> str | None:
    """The event id a message answers (`m.in_reply_to`)."""
    return (content.get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id")
