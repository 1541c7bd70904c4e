"""The language a newcomer writes in, read from their first words.

Someone who never chose a language (`/lang`) and whose platform gives no hint is answered in
the language of what they write: greetings, thanks and help words in the five languages
("bonjour", "hallo", "dank u", "danke", "привіт", "help"), help words typed as commands
(`/aide`, `/hulp`, `/hilfe`) and, for anything else, the directory's own detection of the
language of a question. The guess is kept as the person's language until they choose one."""
from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from bot.i18n import LOCALES

if TYPE_CHECKING:
    from bot.messages import IncomingMessage
    from bot.people import User

# The directory's language detection for free text (None: it cannot tell).
Detector = Callable[[str], str | None]

GREETING, THANKS, HELP, FAREWELL = "greeting", "thanks", "help", "farewell"

# What people send before they know what the bot does. "hallo" is Dutch and German alike: in
# Belgium far more people write it in Dutch, and a platform hint or /lang settles the rest.
SMALL_TALK: dict[str, dict[str, tuple[str, ...]]] = {
    GREETING: {
        "fr": ("bonjour", "bonsoir", "salut", "coucou", "bjr", "bonjour a tous", "bonjour madame",
               "bonjour monsieur", "re bonjour", "allo"),
        "nl": ("hallo", "hoi", "dag", "goeiedag", "goedendag", "goedemorgen", "goeiemorgen",
               "goedemiddag", "goeiemiddag", "goedenavond", "goeienavond", "hallo allemaal",
               "dag allemaal"),
        "de": ("guten tag", "guten morgen", "guten abend", "gruss gott", "grusse", "servus",
               "moin", "hallo zusammen", "tag"),
        "en": ("hello", "hi", "good morning", "good afternoon", "good evening", "hello there",
               "hi there", "greetings"),
        "uk": ("привіт", "вітаю", "добрий день", "доброго дня", "добрий ранок", "доброго ранку",
               "добрий вечір", "доброго вечора", "здрастуйте", "здравствуйте", "привет"),
    },
    THANKS: {
        "fr": ("merci", "merci beaucoup", "merci bien", "merci a vous", "je vous remercie",
               "merci pour votre aide", "super merci", "ok merci"),
        "nl": ("dank u", "dank je", "dank u wel", "dank je wel", "bedankt", "hartelijk bedankt",
               "merci om te helpen", "dankjewel", "dankuwel", "ok bedankt"),
        "de": ("danke", "danke schon", "dankeschon", "vielen dank", "danke sehr", "besten dank"),
        "en": ("thanks", "thank you", "thx", "many thanks", "thanks a lot", "cheers",
               "thank you very much", "ok thanks"),
        "uk": ("дякую", "дуже дякую", "дякую вам", "спасибі", "спасибо"),
    },
    # Leaving is answered like thanks: "come back whenever you need to".
    FAREWELL: {
        "fr": ("au revoir", "bonne journee", "bonne soiree", "a bientot", "bon weekend"),
        "nl": ("tot ziens", "dag dag", "tot later", "fijne dag", "prettige dag", "doei"),
        "de": ("auf wiedersehen", "tschuss", "schonen tag", "bis bald"),
        "en": ("goodbye", "bye", "see you", "have a nice day"),
        "uk": ("до побачення", "бувайте", "гарного дня"),
    },
    HELP: {
        "fr": ("aide", "a l'aide", "aidez moi", "au secours", "besoin d'aide", "aide svp",
               "commandes"),
        "nl": ("hulp", "help mij", "helpen", "hulp nodig", "ik heb hulp nodig", "commando's"),
        "de": ("hilfe", "hilfe bitte", "ich brauche hilfe", "befehle"),
        "en": ("help", "help me", "i need help", "commands"),
        "uk": ("допомога", "допоможіть", "допомогу", "довідка", "команди"),
    },
}
# Command words a person may try instead of /help or /lang, in their own language.
COMMAND_WORDS: dict[str, tuple[str, str]] = {
    "aide": ("help", "fr"), "aider": ("help", "fr"), "hulp": ("help", "nl"),
    "helpen": ("help", "nl"), "hilfe": ("help", "de"), "допомога": ("help", "uk"),
    "довідка": ("help", "uk"), "langue": ("lang", "fr"), "taal": ("lang", "nl"),
    "sprache": ("lang", "de"), "мова": ("lang", "uk"), "commandes": ("help", "fr"),
    "befehle": ("help", "de"), "команди": ("help", "uk"),
}


def fold(text: str) -> str:
    """Lower case, no Latin accents, punctuation as spaces: "Bonjour !" → "bonjour"."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    kept = [c for i, c in enumerate(decomposed)
            if not (unicodedata.combining(c) and i and "a" <= decomposed[i - 1] <= "z")]
    plain = unicodedata.normalize("NFC", "".join(kept)).replace("’", "'")
    return " ".join(re.sub(r"[^\w']+|_", " ", plain).split())


_TABLE = {fold(phrase): (kind, lang) for kind, by_lang in SMALL_TALK.items()
          for lang, phrases in by_lang.items() for phrase in phrases}


def small_talk(text: str) -> tuple[str, str] | None:
    """("greeting" | "thanks" | "help" | "farewell", language) when the whole message is made
    of such words ("bonjour", "merci, au revoir", "hallo, hulp"); None otherwise. Help wins
    over thanks and farewells, which win over greetings; the language is the first phrase's."""
    words = fold(text).split()
    found: list[tuple[str, str]] = []
    start = 0
    while start < len(words):
        for size in range(min(4, len(words) - start), 0, -1):
            phrase = " ".join(words[start:start + size])
            if phrase in _TABLE:
                found.append(_TABLE[phrase])
                start += size
                break
        else:
            return None
    if not found:
        return None
    kinds = {kind for kind, _lang in found}
    kind = next(k for k in (HELP, THANKS, FAREWELL, GREETING) if k in kinds)
    return kind, found[0][1]


# Command words people try in their own language. Commands stay in English (docs/commands.md),
# so these are only suggested back, never run: "/rappel" → "did you mean /remind?".
_GUESSES_BY_COMMAND: dict[str, tuple[str, ...]] = {
    "remind": ("rappel", "rappeler", "rappelle", "herinner", "herinnering", "erinnerung",
               "erinnern", "erinnere", "нагадати", "нагадування"),
    "reminders": ("rappels", "mesrappels", "herinneringen", "erinnerungen"),
    "meeting": ("reunion", "rencontre", "vergadering", "overleg", "sitzung", "besprechung",
                "treffen", "зустріч", "нарада"),
    "deadline": ("echeance", "delai", "termijn", "frist", "термін"),
    "broadcast": ("diffuser", "diffusion", "annonce", "envoyer", "rondsturen", "verspreiden",
                  "bericht", "rundschreiben", "rundmail", "senden", "розсилка", "розіслати"),
    "cancel": ("annuler", "supprimer", "annuleren", "verwijderen", "abbrechen", "stornieren",
               "loschen", "скасувати", "видалити"),
    "invite": ("inviter", "invitation", "uitnodigen", "uitnodiging", "einladen", "einladung",
               "запросити", "запрошення"),
    "results": ("resultats", "resultaten", "ergebnisse", "результати"),
    "calendar": ("calendrier", "kalender", "календар"),
    "away": ("absent", "absence", "conge", "vacances", "afwezig", "verlof", "vakantie",
             "abwesend", "urlaub", "відсутній", "відпустка"),
    "who": ("qui", "chercher", "recherche", "wie", "zoeken", "zoek", "wer", "suchen", "suche",
            "хто", "пошук", "знайти"),
    "export": ("exporter", "exporteren", "exportieren", "експорт"),
    "forget": ("oublier", "oubliemoi", "vergeten", "vergeet", "vergessen", "забути"),
    "mydata": ("mesdonnees", "mijngegevens", "meinedaten", "моїдані"),
    "role": ("rol", "rolle", "роль"),
    "start": ("commencer", "demarrer", "inscription", "beginnen", "registreren", "anmelden",
              "почати", "старт"),
    "whoami": ("quisuisje", "moi", "wiebenik", "werbinich", "хтоя"),
    "checkin": ("enquete", "questionnaire", "vragenlijst", "enquête", "umfrage", "fragebogen",
                "опитування"),
}
COMMAND_GUESSES: dict[str, str] = {fold(word).replace(" ", ""): command for command, words
                                   in _GUESSES_BY_COMMAND.items() for word in words}


def suggested_command(word: str, known: Iterable[str]) -> str | None:
    """The command someone most likely meant by an unknown `/word`: a command word of their
    language (`/rappel`, `/vergadering`) or a slip of the keyboard (`/remnd`)."""
    key = fold(word).replace(" ", "")
    known = list(known)
    guessed = COMMAND_GUESSES.get(key)
    if guessed in known:
        return guessed
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    return close[0] if close else None


def command_word(word: str) -> tuple[str, str] | None:
    """("help" | "lang", language) for `/aide`, `/hulp`, `/hilfe`, `/taal`…"""
    return COMMAND_WORDS.get(fold(word))


def guess_language(text: str, detect: Detector | None = None) -> str | None:
    """The language `text` is written in, when its words say so; `detect` is the directory's
    detection for anything that is not small talk."""
    text = (text or "").strip()
    if text[:1] in "/!":
        word = text[1:].split(maxsplit=1)[0].split("@")[0] if len(text) > 1 else ""
        found = command_word(word)
        return found[1] if found else None
    talk = small_talk(text)
    if talk is not None:
        return talk[1]
    guessed = detect(text) if detect is not None and text else None
    return guessed if guessed in LOCALES else None


class FirstWords:
    """The language of someone who never chose one is the language they write in: their first
    message with clear words sets it (stored as their language, so reminders and check-ins
    follow it) and, as long as they have not chosen with /lang, a later message clearly in
    another language moves it. Which languages are guesses is known for this process's
    lifetime; after a restart a stored guess is kept like a choice."""

    def __init__(self) -> None:
        self._guessed: set[int] = set()

    def locale_for(self, user: User, message: IncomingMessage,
                   detect: Detector | None = None) -> str | None:
        if user.locale and user.id not in self._guessed:
            return None
        if not (message.is_direct or message.addressed):
            return user.locale
        guessed = guess_language(message.text, detect)
        if guessed is not None and guessed != user.locale:
            user.locale = guessed
            self._guessed.add(user.id)
        return user.locale

    def adopt(self, user: User, locale: str | None) -> str | None:
        """A likely language from elsewhere (the person who invited them), for someone with
        none yet; what they write later still moves it."""
        if user.locale or locale not in LOCALES:
            return None
        user.locale = locale
        self._guessed.add(user.id)
        return locale

    def chosen(self, user_id: int) -> None:
        """The person chose with /lang: no guess replaces their choice."""
        self._guessed.discard(user_id)
