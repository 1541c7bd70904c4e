"""Reading a person's answer to a meeting or deadline reminder, in their own words.

A reminder offers "I'll attend" / "Can't attend" (meetings) or "Done" (deadlines). Besides the
buttons and their numbers, people write "je serai là", "kan niet komen", "ich komme", "I'll be
there"; with `/ack R3 …` the plain yes/no words of the five languages work too. Bare yes/no
words are not read as answers to a reminder: they confirm previews, whose buttons send them."""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from bot.conversations import PendingConversation
from bot.i18n import N_, ngettext

YES, NO, DONE = "yes", "no", "done"
ACK_ANSWERS = {YES: N_("will attend"), NO: N_("cannot attend"), DONE: N_("done")}
# The background prompt through which a reminder waits for its answer (bot/prompts.py).
ACK_KIND = "reminders.ack"
MAX_ACK_OFFERS = 10
ANSWERS_OF = {"meeting": (YES, NO), "deadline": (DONE,)}

# Whole phrases, compared after `normalize` (lower case, no accents, no final punctuation).
PHRASES = {
    YES: """
        i'll attend | i will attend | i'll be there | i will be there | i'll come | i will come |
        i'm coming | i am coming | attending | present | count me in |
        je serai la | je serai present | je serai presente | j'y serai | je viens | je viendrai |
        je participe | je participerai | present | presente | je serai de la partie |
        ik kom | ik kom zeker | ik ben er | ik ben erbij | ik zal er zijn | ik ben aanwezig |
        aanwezig | ik neem deel | ik doe mee |
        ich komme | ich bin dabei | ich werde da sein | ich nehme teil | anwesend | dabei |
        ich werde teilnehmen |
        буду | я буду | прийду | я прийду | візьму участь | я візьму участь""",
    NO: """
        can't attend | cannot attend | can't come | cannot come | i can't come | i cannot come |
        i can't make it | i won't be there | i will not be there | not coming | i'm not coming |
        absent | apologies |
        je ne peux pas venir | je ne pourrai pas venir | je ne peux pas | je ne pourrai pas |
        je ne serai pas la | je ne viens pas | je ne viendrai pas | absent | absente |
        excuse | excusee | pas disponible | je suis excuse | je suis excusee |
        kan niet komen | ik kan niet komen | ik kan niet | ik kom niet | ik ben er niet |
        ik zal er niet zijn | afwezig | verontschuldigd | ik ben verhinderd | verhinderd |
        ich kann nicht | ich kann nicht kommen | ich komme nicht | ich bin nicht dabei |
        abwesend | verhindert | entschuldigt | ich bin verhindert |
        не можу | я не можу | не можу прийти | не буду | я не буду | не прийду | я не прийду""",
    DONE: """
        done | it's done | finished | sent | completed |
        fait | c'est fait | termine | envoye | c'est envoye | c'est termine |
        klaar | gedaan | verstuurd | in orde | het is klaar | afgewerkt |
        erledigt | fertig | gemacht | geschickt | ist erledigt |
        готово | зроблено | виконано | надіслано""",
}
# With `/ack ID …` only: the words that would be ambiguous alone.
COMMAND_WORDS = {
    YES: "yes | y | oui | ja | так | ok",
    NO: "no | n | non | nee | nein | ні",
    DONE: "",
}
POLITE = re.compile(r"(?:^|\s)(?:merci|thanks|thank you|dank u|dank je|bedankt|danke|дякую)$")


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.strip().lower().replace("’", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c))  # phrases alike
    text = re.sub(r"[.!,;:]+", " ", text)
    return POLITE.sub("", " ".join(text.split())).strip()


def _table(source: dict[str, str]) -> dict[str, str]:
    table: dict[str, str] = {}
    for answer, phrases in source.items():
        for phrase in phrases.split("|"):
            if phrase.strip():
                table[normalize(phrase)] = answer
    return table


_PHRASES = _table(PHRASES)
_COMMAND_WORDS = _table(COMMAND_WORDS)


def read_answer(text: str, kind: str, labels: dict[str, str] | None = None, *,
                command: bool = False) -> str | None:
    """`yes`, `no` or `done` when `text` answers a reminder of `kind`, else None. `1` and `2`
    are the offered choices in order; `labels` are the choices as shown in the reader's
    language; `command` also accepts the plain yes/no words (after `/ack ID`)."""
    offered = ANSWERS_OF.get(kind, ())
    said = normalize(text)
    if said.isdecimal():
        index = int(said) - 1
        return offered[index] if 0 <= index < len(offered) else None
    found = _PHRASES.get(said)
    if found is None and labels:
        found = next((value for value, label in labels.items() if normalize(label) == said), None)
    if found is None and command:
        found = _COMMAND_WORDS.get(said) or (said if said in offered else None)
    return found if found in offered else None


def ack_count(answer: str, n: int) -> str:
    """"3 will attend", for the answers to a meeting or deadline (verbs agree with n)."""
    if answer == YES:
        return ngettext("{n} will attend", "{n} will attend", n).format(n=n)
    if answer == NO:
        return ngettext("{n} cannot attend", "{n} cannot attend", n).format(n=n)
    return ngettext("{n} done", "{n} done", n).format(n=n)


def ack_offers(pending: PendingConversation | None) -> list[dict[str, Any]]:
    """The reminders a background prompt waits answers for (one per row before several
    could wait)."""
    if pending is None:
        return []
    payload = pending.payload or {}
    if "schedule_id" in payload:
        return [{key: payload[key] for key in ("schedule_id", "kind", "occurrence")}]
    return list(payload.get("offers", []))
