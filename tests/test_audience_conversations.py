"""Coordinators address people in their own words, in French and in Dutch, through the real
router, the bundled directory and a database: broadcast to the focal points of a region,
schedule the monthly coordination meeting for the focal points of one province, invite a
focal point by organisation name, give a role by its word. Each job takes at most four
messages, and no reply contains an English sentence of the catalogues."""
from __future__ import annotations

import re
from datetime import datetime, UTC
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.harness import RecordingTransport, make_bot
from tests.trust.helpers import code_in

LOCALES = Path(__file__).resolve().parent.parent / "locales"
# Focal points of the bundled directory, each invited for their organisation by name.
FOCAL_POINTS = {
    "fp_namur": "CPAS de Namur",         # city and province of Namur, Wallonia
    "fp_cai": "CAI",                     # province of Namur (its whole coverage)
    "fp_mons": "CPAS de Mons",           # Hainaut, Wallonia
    "fp_liege": "CPAS de Liège",         # Liège, Wallonia
    "fp_gent": "OCMW Gent",              # East Flanders, Flanders
    "fp_hasselt": "OCMW Hasselt",        # Limburg, Flanders
    "fp_genk": "OCMW Genk",              # Limburg, Flanders
}
WALLONIA = {"fp_namur", "fp_cai", "fp_mons", "fp_liege"}
FLANDERS = {"fp_gent", "fp_hasselt", "fp_genk"}


def _english_fragments() -> set[str]:
    """Sentences of the English catalogues (the parts between placeholders), long enough
    that a French or Dutch reply would never contain them by chance."""
    fragments = set()
    for template in LOCALES.glob("*.pot"):
        with template.open("rb") as handle:
            for message in read_po(handle):
                for text in (message.id if isinstance(message.id, tuple) else (message.id,)):
                    for part in re.split(r"\{[^}]*\}", text or ""):
                        part = part.strip(" .,:;()\"'")
                        if len(part) >= 10 and " " in part:
                            fragments.add(part)
    return fragments


ENGLISH = _english_fragments()


def assert_not_english(text: str) -> None:
    found = [fragment for fragment in ENGLISH if fragment in text]
    assert not found, (found, text)


@pytest.fixture
async def belgium(tmp_path, database_url):
    bot = await make_bot(tmp_path, database_url, admins=["console:alice"],
                         seeded=True)
    bot.inbox = RecordingTransport()
    bot.services.transports.add(bot.inbox)
    await bot.say("/whoami", as_="marie", lang="fr")
    await bot.say("/whoami", as_="jan", lang="nl")
    await bot.say("/lang fr", as_="marie")
    await bot.say("/lang nl", as_="jan")
    # The admin gives roles by their words, in French and in Dutch.
    await bot.say("/lang fr", as_="alice")
    assert "coordinateur" in await bot.ask("/role marie coordinatrice", as_="alice")
    await bot.say("/lang nl", as_="alice")
    assert "coördinator" in await bot.ask("/role jan coördinator", as_="alice")
    for name, organisation in FOCAL_POINTS.items():
        code = code_in(await bot.ask(f"/invite point focal {organisation}", as_="marie"))
        assert "Bienvenue" in await bot.ask(f"/start {code}", as_=name, lang="fr")
    bot.inbox.clear()
    yield bot
    await bot.close()


class Job:
    """One person's messages for one job: counts them and checks every reply's language."""

    def __init__(self, bot, person: str):
        self.bot, self.person, self.messages = bot, person, 0

    async def say(self, text: str) -> str:
        self.messages += 1
        assert self.messages <= 4, "the job takes more than four messages"
        replies = await self.bot.say(text, as_=self.person)
        # As the console shows them: the text, then the choices numbered.
        answer = "\n".join(reply.plain() + "".join(
            f"\n{number}. {choice.label}" for number, choice in enumerate(reply.choices, 1))
            for reply in replies)
        assert_not_english(answer)
        return answer


async def until(bot, moment: datetime) -> None:
    bot.clock.advance(moment - bot.clock.now())


async def delivered_to(bot, text: str) -> set[str]:
    await bot.services.outbox.deliver_pending()
    return {key.split(":", 1)[1] for key, reply in bot.inbox.sent if text in reply.text}


async def test_roles_are_given_and_shown_in_the_users_words(belgium):
    bot = belgium
    assert "coordinateur" in await bot.ask("/whoami", as_="marie")
    assert "coördinator" in await bot.ask("/whoami", as_="jan")
    assert "aanspreekpunt" in (await bot.ask("/role fp_gent aanspreekpunt", as_="alice"))
    assert "Onbekende rol" in await bot.ask("/role fp_gent koning", as_="alice")


async def test_broadcast_to_the_focal_points_of_a_region_in_french(belgium):
    job = Job(belgium, "marie")
    preview = await job.say("/broadcast points focaux de Wallonie; La réunion de jeudi est "
                            "reportée à 14h")
    assert "4 destinataires" in preview and "fp_namur" in preview
    assert "fp_gent" not in preview
    assert "B1" in await job.say("oui")
    assert await delivered_to(belgium, "reportée à 14h") == WALLONIA


async def test_broadcast_to_the_focal_points_of_a_region_in_dutch(belgium):
    job = Job(belgium, "jan")
    preview = await job.say("/broadcast contactpersonen in Vlaanderen; De vergadering van "
                            "donderdag is verplaatst")
    assert "3 ontvangers" in preview and "fp_gent" in preview and "fp_mons" not in preview
    assert "B1" in await job.say("ja")
    assert await delivered_to(belgium, "is verplaatst") == FLANDERS


async def test_monthly_meeting_for_the_focal_points_of_a_province_in_french(belgium):
    bot, job = belgium, Job(belgium, "marie")
    preview = await job.say("/meeting chaque premier mardi du mois à 10h; Réunion mensuelle "
                            "de coordination; points focaux de la province de Namur")
    assert "Province de Namur" in preview and "2 destinataires" in preview
    assert "fp_namur" in preview and "fp_cai" in preview
    await job.say("1")
    await until(bot, datetime(2026, 3, 3, 9, 1, tzinfo=UTC))  # Tuesday, 10:01
    await bot.services.reminders.run_due()
    assert await delivered_to(bot, "Réunion mensuelle") == {"fp_namur", "fp_cai"}


async def test_monthly_meeting_for_the_focal_points_of_a_province_in_dutch(belgium):
    bot, job = belgium, Job(belgium, "jan")
    preview = await job.say("/meeting elke eerste maandag van de maand om 9u30; Maandelijkse "
                            "coördinatievergadering; contactpersonen van Limburg")
    assert "1." in preview and "Provincie Limburg" in preview  # city or province? asked back
    preview = await job.say("2")
    assert "2 ontvangers" in preview and "fp_hasselt" in preview
    await job.say("ja")
    await until(bot, datetime(2026, 4, 6, 7, 31, tzinfo=UTC))  # Monday, 09:31
    await bot.services.reminders.run_due()
    assert await delivered_to(bot, "coördinatievergadering") == {"fp_hasselt", "fp_genk"}


async def test_invite_a_focal_point_by_organisation_name_in_dutch(belgium):
    bot, job = belgium, Job(belgium, "jan")
    answer = await job.say("/invite aanspreekpunt OCMW Brugge")
    assert "OCMW Brugge" in answer and "ocmw-brugge" in answer
    welcome = await bot.ask(f"/start {code_in(answer)}", as_="piet", lang="nl")
    assert "ocmw-brugge" in welcome


async def test_an_unclear_organisation_is_asked_back_and_the_choice_is_used(belgium):
    job = Job(belgium, "marie")
    answer = await job.say("/broadcast points focaux du CPAS de Namurr; Bonjour")
    assert "CPAS de Namurr" in answer and "1. CPAS de Namur" in answer
    preview = await job.say("1")
    assert "1 destinataire : fp_namur." in preview and "Bonjour" in preview
    assert "B1" in await job.say("oui")
    assert await delivered_to(belgium, "Bonjour") == {"fp_namur"}


async def test_the_full_list_of_recipients(belgium):
    answer = await Job(belgium, "jan").say("/audience contactpersonen in Vlaanderen, "
                                          "OCMW Aalst")
    assert "3 ontvangers" in answer
    assert all(name in answer for name in FLANDERS) and "fp_mons" not in answer
    assert "fp_" not in await belgium.ask("/audience iedereen", as_="fp_gent")


async def test_a_round_for_the_focal_points_of_a_province_in_french(belgium):
    bot, job = belgium, Job(belgium, "marie")
    preview = await job.say("/rounds open weekly_local; 2026-03-06 17:00; points focaux de la "
                            "province de Namur")
    assert "2 destinataires" in preview and "fp_namur" in preview and "fp_mons" not in preview
    assert "2" in await job.say("1")
    await bot.services.outbox.deliver_pending()
    assert {key.split(":", 1)[1] for key, _reply in bot.inbox.sent} == {"fp_namur", "fp_cai"}


async def test_an_invitation_for_an_organisation_with_several_services_asks_which(belgium):
    job = Job(belgium, "marie")
    answer = await job.say("/invite point focal Fedasil")
    assert "1. Fedasil" in answer and "2. Fedasil" in answer
    assert "be-fedasil-mena" in await job.say("2")


async def test_a_deadline_for_staff_of_an_organisation_in_dutch(belgium):
    job = Job(belgium, "jan")
    answer = await job.say("/deadline 5/3 17u; Cijfers doorsturen; aanspreekpunten van OCMW Gent")
    assert "1 ontvanger: fp_gent." in answer and "aanspreekpunten van OCMW Gent" in answer


async def test_a_place_reaches_entries_in_it_and_entries_covering_all_of_it(belgium):
    """commands.md: a person is in a place when their organisation's entry covers it or lies
    in it. The CAI covers the whole province of Namur, so it is in Namur (the city)."""
    job = Job(belgium, "marie")
    preview = await job.say("/broadcast points focaux de la ville de Namur; Bonjour")
    assert "2 destinataires" in preview
    await job.say("oui")
    assert await delivered_to(belgium, "Bonjour") == {"fp_namur", "fp_cai"}


async def test_a_choice_answered_after_losing_the_role_does_nothing(belgium):
    bot = belgium
    [question] = await bot.say("/broadcast points focaux de Namur; Test", as_="marie")
    assert [c.label for c in question.choices] == ["Namur (commune)", "Province de Namur"]
    await bot.say("/role marie point focal", as_="alice")
    answer = await bot.ask("2", as_="marie")
    assert "Test" not in answer and "L’envoyer" not in answer
    await bot.services.outbox.deliver_pending()
    assert bot.inbox.sent == []
