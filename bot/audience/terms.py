"""What an audience text is read into: the words (`lex`), the pieces the grammar finds, the
terms they assemble into (who × where), and the error that offers readings."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.audience.words import AND, CODE_WORD, HANDLE_WORD
from bot.directory.text import tokens
from bot.i18n import _

@dataclass(frozen=True)
class Reading:
    """One thing an unclear part may mean: a label for the person and what replaces the part
    in the audience text when they choose it (a role word or a code)."""

    label: str
    text: str


class AudienceError(ValueError):
    """The audience cannot be used as written; `str(error)` is the translated explanation.
    `readings` are the choices to offer; `rewrite(reading)` is the audience text with the
    unclear part replaced by the chosen reading."""

    def __init__(self, message: str, *, source: str = "", span: tuple[int, int] = (0, 0),
                 readings: list[Reading] | None = None):
        super().__init__(message)
        self.source = source
        self.span = span
        self.readings = list(readings or [])

    @property
    def item(self) -> str:
        return self.source[self.span[0]:self.span[1]]

    def rewrite(self, reading: Reading) -> str:
        start, end = self.span
        return f"{self.source[:start]}{reading.text}{self.source[end:]}"


def hint() -> str:
    return _("Write who and where in your own words, e.g. \"focal points in Hainaut\", "
             "\"CPAS de Mons and OCMW Aalst\", \"coordinators\", \"everyone\", \"here\" or "
             "@name (the codes role:focal_point, org:ID and area:BE-WLG work too).")


@dataclass
class Word:
    key: str
    start: int
    end: int
    special: str | None = None  # "code", "handle" or "and"


@dataclass
class Piece:
    kind: str  # role, org, place, all, here, handle, and, en
    value: Any
    start: int
    end: int


@dataclass
class Term:
    """One addressee: who (a role, organisations, everyone) narrowed by where (an area), or
    this chat, or one person."""

    role: str | None = None
    orgs: tuple[str, ...] = ()
    area: str | None = None
    everyone: bool = False
    here: bool = False
    handle: str | None = None
    joined: str = ""  # how the next term is joined: "," or "and" (a word)

    def empty(self) -> bool:
        return not (self.role or self.orgs or self.area or self.everyone or self.here
                    or self.handle)

    def tokens(self, origin_chat: str) -> list[str]:
        if self.here:
            return [f"chat:{origin_chat}"]
        area = [f"area:{self.area}"] if self.area else []
        role = [f"role:{self.role}"] if self.role else []
        if self.orgs:
            return ["&".join(role + [f"org:{org}"] + area) for org in self.orgs]
        return ["&".join(role + area)] if role or area else ["all"]


def lex(text: str) -> list[Word]:
    words = []
    for match in re.finditer(r",|[^\s,]+", text):
        raw, start, end = match.group(), match.start(), match.end()
        if raw == "," or raw in AND[-2:]:
            words.append(Word(",", start, end, "and"))
        elif CODE_WORD.fullmatch(raw):
            words.append(Word(raw, start, end, "code"))
        elif HANDLE_WORD.fullmatch(raw):
            words.append(Word(raw, start, end, "handle"))
        else:
            words.extend(Word(token, start, end) for token in tokens(raw))
    return words



def assemble(pieces: list[Piece]) -> list[Term]:
    """Pieces → terms. Who and where in one term narrow each other; "and" and commas add
    terms. Where a sentence shares a part, it is shared: "focal points of P1 and P2" (the
    second term takes the role) and "coordinators and focal points of P" (the first takes
    the place; with a comma instead of "and", it does not)."""
    terms = _Terms()
    for index, piece in enumerate(pieces):
        terms.add(piece, pieces[index + 1] if index + 1 < len(pieces) else None)
    return terms.finish()


class _Terms:
    def __init__(self) -> None:
        self.terms: list[Term] = []
        self.current = Term()

    def add(self, piece: Piece, following: Piece | None) -> None:
        current = self.current
        if piece.kind in ("en", "and"):
            if piece.kind == "en" and following is not None and following.kind == "place" \
                    and not (current.area or current.orgs):
                return  # French "en Flandre"; after an organisation it is Dutch "and"
            current.joined = piece.value or "and"
            self.close()
        elif piece.kind == "all":
            current.everyone = True
        elif piece.kind in ("here", "handle"):  # complete on their own
            self.close()
            self.current = Term(here=piece.kind == "here",
                                handle=piece.value if piece.kind == "handle" else None)
            self.close()
        else:
            self.narrow(piece)

    def narrow(self, piece: Piece) -> None:
        """A role, organisations or a place narrows the current term; a second one of a kind
        (or a who after a where) starts the next term."""
        current = self.current
        taken = {"role": current.role or current.area or current.orgs,
                 "org": current.orgs or current.area, "place": current.area}[piece.kind]
        if taken:
            self.close()
        setattr(self.current, {"role": "role", "org": "orgs", "place": "area"}[piece.kind],
                piece.value)

    def close(self) -> None:
        current, previous = self.current, self.terms[-1] if self.terms else None
        if not current.empty():
            only_place = current.area and not (current.role or current.orgs or current.everyone)
            if only_place and previous is not None and previous.area and previous.role:
                current.role = previous.role
            self.terms.append(current)
        self.current = Term()

    def finish(self) -> list[Term]:
        self.close()
        for first, second in reversed(list(zip(self.terms, self.terms[1:], strict=False))):
            if first.role and not (first.area or first.orgs) and first.joined == "and" \
                    and second.role and second.area:
                first.area = second.area
        return self.terms


