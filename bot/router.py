"""Routes an incoming message to the handler that answers it.

Order: input checks → the sender's user and locale → a pending conversation or prompt that
claims the message (bot/prompts.py picks which) → a command from the table (after the policy
check) → free text in a direct chat goes to the text handler (directory search). One database
transaction per message: a refused or failed command changes nothing."""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from collections.abc import Awaitable, Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _, normalize_locale
from bot.language import (Detector, FirstWords, command_word, guess_language, small_talk,
                          suggested_command)
from bot.markup import escape
from bot.messages import IncomingMessage, Reply, command_prefix
from bot.policy import POLICY, ROLE_LABELS, Role, allowed
from bot.prompts import answer_pending
from bot.trust.ratelimit import Verdict

if TYPE_CHECKING:
    from bot.services import Services
    from bot.conversations import PendingConversation
    from bot.people import User

log = logging.getLogger("coordbot.router")

HandlerResult = Reply | str | list[Reply | str] | None
Handler = Callable[["Context"], Awaitable[HandlerResult]]
ConversationHandler = Callable[["Context", "PendingConversation"], Awaitable[HandlerResult]]
Reader = Callable[["Context", "PendingConversation"], Awaitable[list[tuple[str, str]]]]

PREFIXES = ("/", "!")
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
_COMMAND = re.compile(r"^[/!]([A-Za-z_][A-Za-z0-9_-]{0,31})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$", re.S)


@dataclass(frozen=True)
class Command:
    """One chat command: its word, the handler, a one-line summary and its usage, both in
    English source text marked with `N_` and translated when shown."""

    name: str
    handler: Handler
    summary: str
    usage: str = ""
    policy: str | None = None  # policy key when it differs from the name
    takes_file: bool = False  # the console sends a file only with these (`/import < FILE`)
    # Refused in groups: the command shows or takes something personal (codes, answers).
    direct_only: bool = False
    # Why, in English source text marked with `N_`; a general sentence when empty.
    direct_reason: str = ""

    @property
    def action(self) -> str:
        return self.policy or self.name


class UserError(Exception):
    """A request the bot cannot carry out, raised anywhere below a handler with the translated
    answer for the person. The router replies with it and rolls back everything the message
    changed, so a handler needs no "return a string or the object" paths."""

    def __init__(self, answer: Reply | str):
        super().__init__("user error")  # never the text: logs must not hold message content
        self.answer = answer


@dataclass(frozen=True)
class ConversationStep:
    """Continues a pending conversation of `kind`. It receives the person's free text and the
    commands listed in `commands` (e.g. `/skip`, `/back` during a check-in)."""

    kind: str
    handler: ConversationHandler
    commands: frozenset[str] = frozenset()
    # A preview awaiting Confirm: answered after it expired, it says so instead of vanishing.
    confirms: bool = False
    # Which of its prompts would take the message as an answer, as (key, label) pairs; None:
    # it takes anything. Background prompts are asked only through it (bot/prompts.py).
    reads: Reader | None = None


@dataclass
class Feature:
    name: str
    commands: list[Command] = field(default_factory=list)
    conversations: list[ConversationStep] = field(default_factory=list)
    text_handler: Handler | None = None
    # Greetings, thanks and help words in the five languages (bot/language.py), answered
    # before free text goes to the text handler.
    small_talk_handler: Handler | None = None


@dataclass
class Context:
    message: IncomingMessage
    user: User
    session: AsyncSession
    services: Services
    command: str | None = None
    args: str = ""
    target: str | None = None  # which of a conversation's prompts the message answers
    after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @property
    def role(self) -> Role:
        return self.user.role

    def can(self, action: str) -> bool:
        return allowed(self.role, action)

    @property
    def prefix(self) -> str:
        return command_prefix(self.message.chat.platform)

    @property
    def chat_key(self) -> str:
        return self.message.chat.key()

    def usage(self) -> Reply:
        command = self.services.router.commands.get(self.command or "")
        text = _(command.usage) if command and command.usage else f"{self.prefix}{self.command}"
        return Reply(_("Usage: {usage}").format(usage=text.replace("/", self.prefix, 1)))


def as_replies(result: HandlerResult) -> list[Reply]:
    if result is None:
        return []
    items: Iterable[Reply | str] = result if isinstance(result, list) else [result]
    return [item if isinstance(item, Reply) else Reply(item) for item in items]


def parse_command(text: str) -> tuple[str, str] | None:
    """`/who logement Liège` → ("who", "logement Liège"); `!help` works too; `/x@mybot` → "x"."""
    match = _COMMAND.match(text.strip())
    if not match:
        return None
    # `!verify-device` is `verify_device` (Telegram allows no hyphen in commands).
    return match.group(1).lower().replace("-", "_"), (match.group(2) or "").strip()


class Router:
    def __init__(self, features: Iterable[Feature]):
        self.commands: dict[str, Command] = {}
        self.conversations: dict[str, ConversationStep] = {}
        self.text_handler: Handler | None = None
        self.small_talk_handler: Handler | None = None
        self.first_words = FirstWords()
        for feature in features:
            self._include(feature)

    def _include(self, feature: Feature) -> None:
        for command in feature.commands:
            if command.name in self.commands:
                raise ValueError(f"command /{command.name} registered twice")
            if command.action not in POLICY:
                raise ValueError(f"command /{command.name} has no entry in the policy table")
            self.commands[command.name] = command
        for step in feature.conversations:
            self.conversations[step.kind] = step
        if feature.text_handler is not None:
            self.text_handler = feature.text_handler
        if feature.small_talk_handler is not None:
            self.small_talk_handler = feature.small_talk_handler

    async def route(self, services: Services, message: IncomingMessage) -> list[Reply]:
        # Flood limit first: a refused message never reaches the database.
        verdict = services.trust.limiter.check(message.identity) if message.metered else None
        if verdict is not None and verdict is not Verdict.ALLOW:
            return await _flood_warning(services, message) if verdict is Verdict.WARN else []
        try:
            return await self._route(services, message)
        except Exception:  # noqa: BLE001 - e.g. the database went away mid-message
            log.exception("message not handled", extra={"fields": {
                "platform": message.chat.platform}})
            with services.catalogues.use(services.settings.default_locale):
                return [Reply(_("Sorry, something went wrong on my side. Nothing was "
                                "changed; please try again later."))]

    async def _route(self, services: Services, message: IncomingMessage) -> list[Reply]:
        async with services.db.transaction() as session:
            user = await services.people.resolve(session, message)
            hint = normalize_locale(message.language_hint)
            guessed = None if hint else self.first_words.locale_for(user, message,
                                                                    _detector(services))
            # The platform's language is kept too, so what is pushed later (check-ins,
            # reminders) reaches them in it and not in the default.
            self.first_words.adopt(user, hint)
            locale = guessed or user.locale or hint or services.settings.default_locale
            with services.catalogues.use(locale):
                ctx = Context(message, user, session, services)
                problem = self._input_problem(message, services.settings.max_message_length)
                if problem is not None:
                    return [problem]
                try:
                    replies = await self._dispatch_in_savepoint(ctx)
                except Exception:  # noqa: BLE001 - nothing a user sends may crash the bot
                    log.exception("handler failed", extra={"fields": {
                        "command": ctx.command or "-", "platform": message.chat.platform}})
                    return [Reply(_("Sorry, something went wrong on my side. Nothing was "
                                    "changed; please try again later."))]
        for hook in ctx.after_commit:
            await hook()
        return replies

    async def _dispatch_in_savepoint(self, ctx: Context) -> list[Reply]:
        try:
            async with ctx.session.begin_nested():
                return as_replies(await self._dispatch(ctx))
        except UserError as refused:  # the savepoint is rolled back: nothing changed
            return as_replies(refused.answer)

    def _input_problem(self, message: IncomingMessage, limit: int) -> Reply | None:
        text = message.text or ""
        if not text.strip() and message.attachment is None:
            return Reply(_("I received an empty message. Send /help to see what I can do."))
        if len(text) > limit:
            return Reply(_("Your message is too long ({length} characters; the limit is "
                           "{limit}). Please send something shorter.").format(
                               length=len(text), limit=limit))
        if _CONTROL.search(text):
            return Reply(_("Your message contains control characters that I cannot read. "
                           "Please send plain text."))
        return None

    async def _dispatch(self, ctx: Context) -> HandlerResult:
        message = ctx.message
        text = unicodedata.normalize("NFC", message.text.strip())
        message.text = text
        parsed = parse_command(text)
        handled, result = await answer_pending(self, ctx, text, parsed)
        if handled:
            return result
        if parsed is None:
            if text[:1] in PREFIXES and len(text) > 1:
                parsed = _own_word(text)
                if parsed is None:
                    return self._unknown(ctx, text[1:].split(maxsplit=1)[0]) or _(
                        "That is not a command I know. Send {prefix}help to see the "
                        "list.").format(prefix=ctx.prefix)
            elif (message.is_direct or message.addressed) and self.text_handler is not None:
                if self.small_talk_handler is not None and small_talk(text) is not None:
                    return await self.small_talk_handler(ctx)
                return await self.text_handler(ctx)
            else:
                return None
        ctx.command, ctx.args = parsed
        command = self.commands.get(ctx.command) or self._own_command(ctx.command)
        if command is None:
            return self._unknown(ctx, ctx.command) or _(
                "Unknown command {prefix}{command}. Send {prefix}help to see what you can "
                "do.").format(prefix=ctx.prefix, command=ctx.command)
        if not ctx.can(command.action):
            return _("Sorry, {prefix}{command} is not available to you: your role is "
                     "{role}. Ask a coordinator if you need it.").format(
                         prefix=ctx.prefix, command=ctx.command, role=role_label(ctx.role))
        if command.direct_only and not ctx.message.is_direct:
            return direct_only_refusal(ctx, command)
        return await command.handler(ctx)

    def _unknown(self, ctx: Context, word: str) -> str | None:
        """An answer naming the command meant by a word of the person's language or a typo."""
        meant = suggested_command(word, self.commands)
        if meant is None:
            return None
        return _("Unknown command {prefix}{word}. Did you mean {prefix}{command}? Command words "
                 "are in English; send {prefix}help to see what you can do.").format(
                     prefix=ctx.prefix, word=escape(word[:40]), command=meant)

    def _own_command(self, word: str) -> Command | None:
        """`/aide`, `/hulp`, `/hilfe`: a command word in the person's language."""
        found = command_word(word)
        return self.commands.get(found[0]) if found else None


def _own_word(text: str) -> tuple[str, str] | None:
    """A command word written in a script the command syntax does not take (`/допомога`)."""
    word, _sep, rest = text[1:].partition(" ")
    found = command_word(word)
    return (found[0], rest.strip()) if found else None


def _detector(services: Services) -> Detector:
    return services.directory.detect_language


async def _flood_warning(services: Services, message: IncomingMessage) -> list[Reply]:
    guess = guess_language(message.text, _detector(services))
    with services.catalogues.use(await services.trust.locale_for(message, guess)):
        return [Reply(_("You are sending messages faster than I can answer. I will read your "
                        "messages again in a few seconds."))]


def direct_only_refusal(ctx: Context, command: Command) -> str:
    if command.direct_reason:
        return _(command.direct_reason).format(prefix=ctx.prefix, command=ctx.command)
    return _("For your safety, {prefix}{command} works only in a direct chat with me.").format(
        prefix=ctx.prefix, command=ctx.command)


def role_label(role: Role) -> str:
    return _(ROLE_LABELS[role])


def file_commands(router: Router) -> frozenset[str]:
    return frozenset(name for name, command in router.commands.items() if command.takes_file)


def visible_commands(router: Router, role: Role) -> list[Command]:
    return [c for c in router.commands.values() if allowed(role, c.action)]

