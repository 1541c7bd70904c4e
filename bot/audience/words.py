"""The words of the audience grammar: role words in five languages, "everyone", "here",
"and", fillers and place words, folded once for comparison."""
from __future__ import annotations

import re

from bot.directory.text import fold, phrase
from bot.i18n import N_, _
from bot.policy import ROLE_LABELS, Role

# Role words as people write them; folded (accents, case) before comparison.
ROLE_WORDS: dict[Role, tuple[str, ...]] = {
    Role.FOCAL_POINT: (
        "point focal", "points focaux", "point de contact", "points de contact",
        "personne de contact", "personnes de contact", "référent", "référente", "référents",
        "référentes",
        "aanspreekpunt", "aanspreekpunten", "contactpersoon", "contactpersonen",
        "focal point", "focal points", "focalpoint", "focalpoints", "contact person",
        "contact persons", "contact people",
        "Ansprechpartner", "Ansprechpartnerin", "Ansprechpartnerinnen", "Ansprechpersonen",
        "Ansprechperson", "Kontaktperson", "Kontaktpersonen", "Anlaufstelle", "Anlaufstellen",
        "контактна особа", "контактні особи", "контактних осіб", "контактним особам",
        "контактну особу", "контактною особою"),
    Role.COORDINATOR: (
        "coordinateur", "coordinatrice", "coordinateurs", "coordinatrices",
        "coördinator", "coördinatoren", "coördinatrice", "coördinatrices", "coordinatoren",
        "coordinator", "coordinators",
        "Koordinator", "Koordinatorin", "Koordinatoren", "Koordinatorinnen",
        "координатор", "координаторка", "координатори", "координаторки", "координаторів",
        "координаторам", "координаторок"),
    Role.STAFF: (
        "personnel", "membre du personnel", "membres du personnel", "collaborateur",
        "collaboratrice", "collaborateurs", "collaboratrices", "agent", "agente", "agents",
        "agentes",
        "medewerker", "medewerkster", "medewerkers", "medewerksters", "personeel",
        "staff", "staff member", "staff members",
        "Mitarbeiter", "Mitarbeiterin", "Mitarbeiterinnen", "Personal",
        "працівник", "працівниця", "працівники", "працівниці", "працівників", "працівникам",
        "співробітник", "співробітниця", "співробітники", "співробітників", "персонал"),
    Role.ADMIN: (
        "administrateur", "administratrice", "administrateurs", "administratrices", "admin",
        "admins", "beheerder", "beheerders", "administrator", "administrators",
        "administratoren", "Administratorin", "Administratorinnen",
        "адміністратор", "адміністраторка", "адміністратори", "адміністраторів"),
    Role.GUEST: (
        "invité", "invitée", "invités", "invitées", "gast", "gasten", "guest", "guests",
        "Gäste", "гість", "гості", "гостей", "гостя"),
}
ROLE_PLURALS = {Role.GUEST: N_("guests"), Role.STAFF: N_("staff members"),
                Role.FOCAL_POINT: N_("focal points"), Role.COORDINATOR: N_("coordinators"),
                Role.ADMIN: N_("admins")}
EVERYONE = ("all", "everyone", "everybody", "tout le monde", "tous", "toutes", "iedereen",
            "allemaal", "alle", "allen", "jeder", "jede", "всі", "усі", "всім", "усім", "всіх",
            "усіх")
HERE = ("here", "ici", "hier", "тут", "this chat", "ce chat", "ce groupe", "deze chat",
        "deze groep", "dieser chat", "diese gruppe", "цей чат")
AND = ("et", "und", "and", "і", "та", "й", "&", "+")
# Articles and prepositions between the parts ("les points focaux *du* Hainaut"): skipped.
# "en" is "and" in Dutch and "in" in French: it is read as "in" before a place.
FILLERS = ("le", "la", "les", "l", "de", "du", "des", "d", "a", "à", "au", "aux", "dans",
           "pour", "chez", "of", "the", "in", "from", "for", "at", "to", "het", "van", "uit",
           "te", "voor", "bij", "op", "der", "die", "das", "den", "dem", "im", "aus", "von",
           "vom", "für", "bei", "zu", "zur", "zum", "у", "в", "з", "із", "зі", "для", "на", "до",
           "province", "provincie", "provinz", "провінція", "провінції", "region", "région",
           "regio", "gewest", "провінцію")
# Words that say a place is a municipality, not the province of the same name.
CITY_WORDS = ("ville", "commune", "stad", "gemeente", "city", "municipality", "town", "stadt",
              "gemeinde", "місто", "міста", "громада")
PROVINCE_WORDS = ("province", "provincie", "provinz", "провінція", "провінції", "провінцію")
MUNICIPALITY_NAME, AREA_NAME = 0, 1  # gazetteer priorities (see gazetteer.py)

CODE_WORD = re.compile(r"(role|org|area):(\S+)", re.I)
HANDLE_WORD = re.compile(r"@\S+|(telegram|matrix|console):\S+", re.I)
_ORG_ID = r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,99}"
ORG_ID_WORDS = re.compile(rf"{_ORG_ID}(\+{_ORG_ID})*")
MAX_READINGS = 6
MAX_ROLE_WORDS = 3
AREA_LANGUAGES = ("fr", "nl", "de", "en")

ROLE_BY_PHRASE = {phrase(word): role for role, words in ROLE_WORDS.items() for word in words}
for _role in Role:
    ROLE_BY_PHRASE.setdefault(phrase(_role.code), _role)
ROLE_DISPLAY = {phrase(word): word for words in ROLE_WORDS.values() for word in words}
EVERYONE_PHRASES = {phrase(word) for word in EVERYONE}
HERE_PHRASES = {phrase(word) for word in HERE}
AND_WORDS = {fold(word) for word in AND}
FILLER_WORDS = {fold(word) for word in FILLERS}
CITY_KEYS = {fold(word) for word in CITY_WORDS}
PROVINCE_KEYS = {fold(word) for word in PROVINCE_WORDS}


def parse_role(text: str) -> Role | None:
    """A role from its code or a role word in any language ("coordinatrice", "aanspreekpunt",
    "point focal", `focal_point`); None when it is none."""
    return Role.parse(text) or ROLE_BY_PHRASE.get(phrase(text))


def split_role(text: str) -> tuple[Role | None, str, str]:
    """The role word(s) at the start of `text` and the rest: "point focal CPAS de Liège" →
    (FOCAL_POINT, "point focal", "CPAS de Liège"). The longest role phrase wins."""
    raw = text.split()
    for size in range(min(MAX_ROLE_WORDS, len(raw)), 0, -1):
        role = parse_role(" ".join(raw[:size]))
        if role is not None:
            return role, " ".join(raw[:size]), " ".join(raw[size:])
    return None, raw[0] if raw else "", " ".join(raw[1:])


def role_names() -> str:
    """The roles as the reader writes them, for error messages."""
    return ", ".join(_(ROLE_LABELS[role]) for role in Role)


