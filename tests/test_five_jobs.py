"""Issue 12's five jobs, in French and in Dutch, as a coordinator who writes naturally does them
through the real router, the bundled directory and a database: find who to call; schedule the
monthly coordination meeting for the focal points of one province; broadcast to the focal
points of a region; open a weekly check-in round and read its results; invite a new focal
point by organisation name. Each job takes at most four messages from the coordinator, and no
reply (theirs, or what the focal points read) contains a sentence of the English catalogue."""
from __future__ import annotations

from datetime import datetime, UTC
from pathlib import Path

import pytest

from bot.i18n import Catalogues
from tests.english import english_in
from tests.harness import RecordingTransport, make_bot
from tests.trust.helpers import code_in

# Focal points of the bundled directory, invited for their organisation by name, each with the
# language their chat app announces.
FOCAL_POINTS = {
    "fp_namur": ("CPAS de Namur", "fr"),   # city and province of Namur, Wallonia
    "fp_cai": ("CAI", "fr"),               # province of Namur
    "fp_mons": ("CPAS de Mons", "fr"),     # Hainaut, Wallonia
    "fp_gent": ("OCMW Gent", "nl"),        # East Flanders, Flanders
    "fp_hasselt": ("OCMW Hasselt", "nl"),  # Limburg, Flanders
    "fp_genk": ("OCMW Genk", "nl"),        # Limburg, Flanders
}
LANGUAGE = {name: lang for name, (_org, lang) in FOCAL_POINTS.items()}


@pytest.fixture
async def belgium(tmp_path, database_url):
    bot = await make_bot(tmp_path, database_url, admins=["console:alice"],
                         seeded=True)
    bot.inbox = RecordingTransport()
    bot.services.transports.add(bot.inbox)
    await bot.say("/lang fr", as_="marie")
    await bot.say("/lang nl", as_="jan")
    await bot.say("/role marie coordinatrice", as_="alice")
    await bot.say("/role jan coördinator", as_="alice")
    for name, (organisation, lang) in FOCAL_POINTS.items():
        code = code_in(await bot.ask(f"/invite point focal {organisation}", as_="marie"))
        await bot.ask(f"/start {code}", as_=name, lang=lang)
    bot.inbox.clear()
    yield bot
    await bot.close()


class Job:
    """One coordinator's messages for one job: counts them and reads every reply for English."""

    def __init__(self, bot, person: str, lang: str):
        self.bot, self.person, self.lang, self.messages = bot, person, lang, 0

    async def say(self, text: str) -> str:
        self.messages += 1
        assert self.messages <= 4, "the job takes more than four messages"
        replies = await self.bot.say(text, as_=self.person)
        # As the console shows them: the text, then the choices numbered.
        answer = "\n".join(reply.plain() + "".join(
            f"\n{number}. {choice.label}" for number, choice in enumerate(reply.choices, 1))
            for reply in replies)
        assert not english_in(answer, self.lang), (english_in(answer, self.lang), answer)
        return answer


async def delivered(bot) -> dict[str, list[str]]:
    """What each focal point received, checked for English in their own language."""
    await bot.services.outbox.deliver_pending()
    received: dict[str, list[str]] = {}
    for key, reply in bot.inbox.sent:
        name = key.split(":", 1)[1]
        text = reply.plain()
        if name in LANGUAGE:
            assert not english_in(text, LANGUAGE[name]), (name, english_in(text, LANGUAGE[name]))
        received.setdefault(name, []).append(text)
    return received


async def answer_weekly(bot, name: str, answers: list[str]) -> str:
    reply = ""
    for text in answers:
        reply = await bot.ask(text, as_=name)
        assert not english_in(reply, LANGUAGE[name]), (text, reply)
    return reply


# --- 1. find who to call ------------------------------------------------------------------

async def test_find_who_to_call_in_french(belgium):
    answer = await Job(belgium, "marie", "fr").say(
        "qui s'occupe de l'aide sociale à Charleroi ?")
    assert "CPAS de Charleroi" in answer and "+32 71 23 30 23" in answer
    assert "Qui s'occupe de Aide" not in answer


async def test_find_who_to_call_in_dutch(belgium):
    answer = await Job(belgium, "jan", "nl").say("wie helpt met huisvesting in Gent?")
    assert "OCMW Gent" in answer and "+32 9 266 99 11" in answer
    assert "Wie helpt met Huisvesting voor" not in answer


# --- 2. the monthly coordination meeting of one province ----------------------------------

async def test_monthly_meeting_of_a_province_in_french(belgium):
    bot, job = belgium, Job(belgium, "marie", "fr")
    preview = await job.say("/meeting chaque premier mardi du mois à 10h; Réunion mensuelle de "
                            "coordination; points focaux de la province de Namur")
    assert "2 destinataires" in preview and "Prochaines dates" in preview
    assert "Prochaines fois" not in preview
    assert "enregistré" in (await job.say("oui")).lower()
    bot.clock.advance(datetime(2026, 3, 3, 9, 1, tzinfo=UTC) - bot.clock.now())
    await bot.services.reminders.run_due()
    received = await delivered(bot)
    assert {name for name, texts in received.items()
            if any("Réunion mensuelle" in t for t in texts)} == {"fp_namur", "fp_cai"}


async def test_monthly_meeting_of_a_province_in_dutch(belgium):
    bot, job = belgium, Job(belgium, "jan", "nl")
    preview = await job.say("/meeting elke eerste maandag van de maand om 9u30; Maandelijkse "
                            "coördinatievergadering; aanspreekpunten van de provincie Limburg")
    assert "2 ontvangers" in preview and "fp_hasselt" in preview and "fp_gent" not in preview
    assert "Volgende keren" not in preview
    await job.say("ja")
    bot.clock.advance(datetime(2026, 4, 6, 7, 31, tzinfo=UTC) - bot.clock.now())
    await bot.services.reminders.run_due()
    received = await delivered(bot)
    assert {name for name, texts in received.items()
            if any("coördinatievergadering" in t for t in texts)} == {"fp_hasselt", "fp_genk"}


# --- 3. broadcast to the focal points of a region -----------------------------------------

async def test_broadcast_to_a_region_in_french(belgium):
    bot, job = belgium, Job(belgium, "marie", "fr")
    preview = await job.say("/broadcast points focaux de Wallonie; La réunion de jeudi est "
                            "reportée à 14h")
    assert "3 destinataires" in preview
    sent = await job.say("oui")
    assert "B1" in sent and "3 conversations" in sent and "Diffusion" not in sent
    received = await delivered(bot)
    assert {n for n, texts in received.items() if any("reportée" in t for t in texts)} == {
        "fp_namur", "fp_cai", "fp_mons"}
    report = "\n".join(received["marie"])
    assert "3 envoyés, 0 échec" in report


async def test_broadcast_to_a_region_in_dutch(belgium):
    bot, job = belgium, Job(belgium, "jan", "nl")
    preview = await job.say("/broadcast aanspreekpunten in Vlaanderen; De vergadering van "
                            "donderdag is verplaatst")
    assert "3 ontvangers" in preview
    sent = await job.say("ja")
    assert "Groepsbericht B1" in sent and "3 gesprekken" in sent and "verzendrapport" in sent
    assert "Rondzending" not in sent and "afleveringsrapport" not in sent
    received = await delivered(bot)
    assert {n for n, texts in received.items() if any("verplaatst" in t for t in texts)} == {
        "fp_gent", "fp_hasselt", "fp_genk"}
    assert "Groepsbericht B1: 3 verzonden, 0 mislukt." in "\n".join(received["jan"])


# --- 4. a weekly check-in round and its results -------------------------------------------

async def test_weekly_round_and_results_in_french(belgium):
    bot, job = belgium, Job(belgium, "marie", "fr")
    preview = await job.say("/rounds open weekly_local; vendredi 17h; points focaux de la "
                            "province de Namur")
    assert "2 destinataires" in preview and "06/03/2026 17:00" in preview
    assert "2 personnes sont interrogées" in await job.say("oui")
    asked = await delivered(bot)
    assert set(asked) == {"fp_namur", "fp_cai"}
    assert asked["fp_namur"][0].startswith("Point hebdomadaire sur la situation locale (tour 1)")
    for name, arrivals in (("fp_namur", "1.250"), ("fp_cai", "12")):
        assert "Merci" in await answer_weekly(bot, name, [
            "namur", arrivals, "30", "orange", "logement", "1 et 3", "/skip", "envoyer"])
    results = await job.say("/results weekly_local")
    assert "Réponses : 2 sur 2 (100 %)" in results
    # French groups thousands with a narrow no-break space, as babel writes them for fr_BE.
    assert "total 1\u202f262 (2 réponses, moyenne 631)" in results
    assert "Situation générale cette semaine : Orange : sous tension (2)" in results
    assert "Point de situation Point" not in results


async def test_weekly_round_and_results_in_dutch(belgium):
    bot, job = belgium, Job(belgium, "jan", "nl")
    preview = await job.say("/rounds open weekly_local; vrijdag om 17u; aanspreekpunten in "
                            "Vlaanderen")
    assert "3 ontvangers" in preview and "06/03/2026 17:00" in preview
    assert "3 personen worden bevraagd" in await job.say("ja")
    asked = await delivered(bot)
    assert set(asked) == {"fp_gent", "fp_hasselt", "fp_genk"}
    assert asked["fp_gent"][0].startswith("Wekelijkse bevraging lokale situatie (ronde 1)")
    for name, arrivals in (("fp_gent", "12"), ("fp_hasselt", "15")):
        assert "Bedankt" in await answer_weekly(bot, name, [
            "Oost-Vlaanderen", arrivals, "3", "oranje", "personeel", "1 en 3", "/skip",
            "verzenden"])
    results = await job.say("/results weekly_local")
    assert "Antwoorden: 2 van 3 (67%)" in results and "Nog niet geantwoord: fp_genk" in results
    assert "totaal 27 (2 antwoorden, gemiddelde 13,5)" in results
    assert "Check-in Wekelijkse" not in results and "Bevraging Wekelijkse" not in results


# --- 5. invite a new focal point by organisation name -------------------------------------

async def test_invite_by_organisation_name_in_french(belgium):
    bot, job = belgium, Job(belgium, "marie", "fr")
    answer = await job.say("/invite point focal CPAS de Liège")
    assert "Invitation (point focal) pour CPAS de Liège" in answer and "un·e" not in answer
    welcome = await bot.ask(f"/start {code_in(answer)}", as_="sophie", lang="fr")
    assert "Bienvenue" in welcome and "cpas-liege" in welcome
    assert not english_in(welcome, "fr")


async def test_invite_by_organisation_name_in_dutch(belgium):
    bot, job = belgium, Job(belgium, "jan", "nl")
    answer = await job.say("/invite aanspreekpunt OCMW Brugge")
    assert "OCMW Brugge" in answer and "ocmw-brugge" in answer
    welcome = await bot.ask(f"/start {code_in(answer)}", as_="piet", lang="nl")
    assert "Welkom" in welcome and "ocmw-brugge" in welcome
    assert not english_in(welcome, "nl")


# --- plurals ------------------------------------------------------------------------------

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
PLURALS = [
    (("{count} question", "{count} questions"),
     {"fr": ("1 question", "2 questions"), "nl": ("1 vraag", "2 vragen")}),
    (("Round {number} of {form} is open: {count} person is being asked.",
      "Round {number} of {form} is open: {count} people are being asked."),
     {"fr": ("1 personne est interrogée", "2 personnes sont interrogées"),
      "nl": ("1 persoon wordt bevraagd", "2 personen worden bevraagd")}),
    (("Broadcast B{id} is on its way to {count} chat; I will send you a delivery report.",
      "Broadcast B{id} is on its way to {count} chats; I will send you a delivery report."),
     {"fr": ("vers 1 conversation ;", "vers 2 conversations ;"),
      "nl": ("naar 1 gesprek;", "naar 2 gesprekken;")}),
    (("{n} will attend", "{n} will attend"),
     {"fr": ("1 sera là", "2 seront là"), "nl": ("1 komt", "2 komen")}),
    (("{count} response. Questions holding personal data are left out of the rows; the "
      "summary sheet has their totals.", "{count} responses. Questions holding personal data "
      "are left out of the rows; the summary sheet has their totals."),
     {"fr": ("1 réponse.", "2 réponses."), "nl": ("1 antwoord.", "2 antwoorden.")}),
    (("… and {n} more problem.", "… and {n} more problems."),
     {"fr": ("1 autre problème", "2 autres problèmes"), "nl": ("1 probleem", "2 problemen")}),
]


@pytest.mark.parametrize("ids, expected", PLURALS)
@pytest.mark.parametrize("locale", ["fr", "nl"])
def test_counts_agree_with_their_number(ids, expected, locale):
    catalogue = Catalogues(LOCALES_DIR).get(locale)
    for count, text in zip((1, 2), expected[locale], strict=True):
        written = catalogue.ngettext(*ids, count).format(count=count, n=count, id=1, number=1,
                                                         form="weekly_local")
        assert text in written, (count, written)
