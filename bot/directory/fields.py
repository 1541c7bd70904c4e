"""The fields a focal point edits in chat (issue 18, section 3), and how a typed value is
checked and normalised before it may touch an entry: Belgian phone numbers become `+32 …`,
e-mail syntax, an address must carry a postal code the gazetteer knows, languages are read from
their names in the five languages. A refused value raises `InvalidValue`, whose text (in the
current language) says what to write instead. No chat code here."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.directory.gazetteer import Gazetteer
from bot.directory.text import fold
from bot.i18n import N_, _
from bot.when import WhenError, parse_date

AVAILABILITY = "availability"          # "closed:2026-04-15", "full:2026-04-15" or ""
AVAILABILITY_KINDS = ("closed", "full")
MAX_TEXT = 300
MAX_SERVICE = 600
CLEAR_WORDS = {"-", "—", "–"}          # "-" removes a value


class InvalidValue(ValueError):
    """The value cannot be used; `str(error)` is the translated explanation."""


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str       # marked with N_, translated when shown
    prompt: str      # idem


FIELD_SPECS = {
    "phone": FieldSpec("phone", N_("Phone"), N_(
        "Send the phone number, e.g. \"02 123 45 67\", \"0470 12 34 56\" or \"+32 2 123 45 67\"; "
        "\"-\" removes it.")),
    "email": FieldSpec("email", N_("E-mail"), N_(
        "Send the e-mail address, e.g. \"info@cpas-exemple.be\"; \"-\" removes it.")),
    "address": FieldSpec("address", N_("Address"), N_(
        "Send the postal address with its postal code, e.g. \"Rue de la Gare 5, 4000 Liège\"; "
        "\"-\" removes it.")),
    "hours": FieldSpec("hours", N_("Hours"), N_(
        "Send the opening or phone hours as you would write them, e.g. \"Mon-Fri 9:00-12:00\"; "
        "\"-\" removes them.")),
    "languages": FieldSpec("languages", N_("Languages"), N_(
        "Send the languages you serve people in, e.g. \"French, Dutch, English\" or "
        "\"fr nl en\".")),
    "service": FieldSpec("service", N_("Description"), N_(
        "Send what you handle, in a sentence or two, in the language you write to me in.")),
    AVAILABILITY: FieldSpec(AVAILABILITY, N_("Temporarily closed or full"), N_(
        "Are you temporarily closed or full? Answer 1 (closed), 2 (full) or 3 (open as "
        "usual).")),
}

# Language names as people write them in the five languages, folded, → ISO 639-1.
_LANGUAGE_WORDS = {
    "fr": "fr francais french franzosisch frans franse francaise французька",
    "nl": "nl neerlandais dutch niederlandisch nederlands flamand vlaams "
          "нідерландська",
    "de": "de allemand german deutsch duits duitse німецька",
    "en": "en anglais english englisch engels engelse англійська",
    "uk": "uk ua ukrainien ukrainian ukrainisch oekraiens oekraiens українська",
    "ru": "ru russe russian russisch russisch russe російська",
    "ar": "ar arabe arabic arabisch arabisch арабська",
    "es": "es espagnol spanish spanisch spaans іспанська",
    "it": "it italien italian italienisch italiaans італійська",
    "pl": "pl polonais polish polnisch pools польська",
    "tr": "tr turc turkish turkisch turks турецька",
}
LANGUAGE_CODES = {fold(word): code for code, words in _LANGUAGE_WORDS.items()
                  for word in words.split()}
_LIST_WORDS = {fold(w) for w in ("et", "en", "and", "und", "і", "й", "та", "ou", "of", "or",
                                 "oder", "або")}
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}$")
_POSTAL = re.compile(r"(?<!\d)(?:B-?\s?)?(\d{4})(?!\d)")
_PHONE_JUNK = re.compile(r"[\s./()\-]")
# Belgian zones with a one-digit code: Brussels, Antwerp, Liège, Ghent.
_ONE_DIGIT_ZONES = "2349"


def is_clear(text: str) -> bool:
    return text.strip() in CLEAR_WORDS


def normalise_phone(text: str) -> str:
    """"02/123.45.67", "0032 2 123 45 67", "+32 (0)2 1234567" → "+32 2 123 45 67";
    "0470123456" → "+32 470 12 34 56"; "0800 12 345" → "+32 800 12 345". A number of
    another country (+33 …) is kept as typed, without spaces."""
    raw = text.strip()
    compact = _PHONE_JUNK.sub("", raw.replace("(0)", ""))
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if compact.startswith("+") and not compact.startswith("+32"):
        if compact[1:].isdigit() and 8 <= len(compact) - 1 <= 15:
            return compact
        raise _bad_phone(raw)
    national = compact[3:] if compact.startswith("+32") else compact
    if national.startswith("0"):
        national = national[1:]
    elif not compact.startswith("+32"):
        raise _bad_phone(raw)
    if not national.isdigit():
        raise _bad_phone(raw)
    if len(national) == 9 and national[0] == "4":
        groups: tuple[str, ...] = (national[:3], national[3:5], national[5:7], national[7:])
    elif len(national) == 8 and national[:3] in {"800", "900", "902", "903", "904", "905",
                                                 "909"}:
        groups = (national[:3], national[3:5], national[5:])
    elif len(national) == 8 and national[0] in _ONE_DIGIT_ZONES:
        groups = (national[0], national[1:4], national[4:6], national[6:])
    elif len(national) == 8 and national[0] != "0":
        groups = (national[:2], national[2:4], national[4:6], national[6:])
    else:
        raise _bad_phone(raw)
    return "+32 " + " ".join(groups)


def _bad_phone(raw: str) -> InvalidValue:
    return InvalidValue(_("\"{value}\" is not a Belgian phone number I can read. Write it with "
                          "its zone, e.g. \"02 123 45 67\", \"081 12 34 56\", \"0470 12 34 56\" "
                          "or \"+32 2 123 45 67\".").format(value=raw[:40]))


def normalise_email(text: str) -> str:
    value = text.strip()
    if value.lower().startswith("mailto:"):
        value = value[7:]
    if len(value) > 254 or not _EMAIL.match(value):
        raise InvalidValue(_("\"{value}\" is not an e-mail address. Write it as "
                             "\"name@example.be\".").format(value=value[:60]))
    local, domain = value.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def normalise_address(text: str, gazetteer: Gazetteer) -> tuple[str, tuple[str, ...]]:
    """The address with its whitespace tidied, and the municipalities of its postal code."""
    value = " ".join(text.split())
    if len(value) > MAX_TEXT:
        raise _too_long(MAX_TEXT)
    codes = [match.group(1) for match in _POSTAL.finditer(value)]
    if not codes:
        raise InvalidValue(_("The address needs its postal code, e.g. \"Rue de la Gare 5, 4000 "
                             "Liège\"."))
    postal = codes[-1]
    municipalities = gazetteer.postal_codes.get(postal)
    if not municipalities:
        raise InvalidValue(_("{code} is not a Belgian postal code. Check the address and send "
                             "it again.").format(code=postal))
    return value, municipalities


def normalise_languages(text: str) -> tuple[str, ...]:
    words = [w for w in re.split(r"[\s,;/+&]+", fold(text)) if w and w not in _LIST_WORDS]
    unknown = [w for w in words if w not in LANGUAGE_CODES]
    if unknown or not words:
        raise InvalidValue(_("I do not know the language \"{word}\". Write the languages as "
                             "names (\"French, Dutch\") or codes (\"fr nl\").").format(
            word=(unknown[0] if unknown else text.strip())[:30]))
    return tuple(dict.fromkeys(LANGUAGE_CODES[w] for w in words))


def normalise_text(text: str, limit: int = MAX_TEXT) -> str:
    value = " ".join(text.split())
    if not value:
        raise InvalidValue(_("Send some text, or \"-\" to remove the value."))
    if len(value) > limit:
        raise _too_long(limit)
    return value


def _too_long(limit: int) -> InvalidValue:
    return InvalidValue(_("That is too long: at most {limit} characters, please.").format(
        limit=limit))


def availability_kind(text: str) -> str | None:
    """"1"/"closed", "2"/"full" → the kind; "3"/"open" → "" (open as usual); else None."""
    word = fold(text.strip().rstrip("."))
    for kind, words in (("closed", {"1", "closed", "ferme", "gesloten", "geschlossen",
                                    "закрито", _("temporarily closed")}),
                        ("full", {"2", "full", "complet", "volzet", "vol", "voll", "belegt",
                                  "заповнено", _("full")}),
                        ("", {"3", "open", "ouvert", "geopend", "geoffnet", "offen",
                              "відкрито", _("open as usual")})):
        if word in {fold(w) for w in words}:
            return kind
    return None


def availability_until(text: str, today: date) -> date:
    """The end date of a temporary closure: a date through the shared parser, not in the
    past."""
    try:
        day = parse_date(text, today, future=True)
    except WhenError as exc:
        raise InvalidValue(str(exc)) from exc
    if day < today:
        raise InvalidValue(_("{date} is in the past: give the day you open again.").format(
            date=day.isoformat()))
    if (day - today).days > 366:
        raise InvalidValue(_("Give an end date within a year; send it again later if the "
                             "closure lasts longer."))
    return day


def availability_value(kind: str, until: date | None) -> str:
    return f"{kind}:{until.isoformat()}" if kind and until else ""


def parse_availability(value: str) -> tuple[str, date] | None:
    kind, _sep, until = (value or "").partition(":")
    if kind not in AVAILABILITY_KINDS:
        return None
    try:
        return kind, date.fromisoformat(until)
    except ValueError:
        return None


def field_label(field: str) -> str:
    """"phone" → "Phone"; "service_nl" → "Description (nl)", in the current language."""
    if field.startswith("service_"):
        return _("Description ({language})").format(language=field[len("service_"):])
    spec = FIELD_SPECS.get(field)
    return _(spec.label) if spec else field


def value_text(field: str, value: str) -> str:
    """A stored value as a person reads it (not escaped)."""
    if not value:
        return _("(empty)")
    if field == "languages":
        return ", ".join(value.split(";"))
    if field == AVAILABILITY:
        parsed = parse_availability(value)
        if parsed is None:
            return value
        kind, until = parsed
        text = (_("temporarily closed until {date}") if kind == "closed"
                else _("full until {date}"))
        return text.format(date=until.isoformat())
    return value
