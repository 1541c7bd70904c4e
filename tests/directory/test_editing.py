"""Focal points keep their own entry current in chat (issue 18, section 3): `/myentry` edits one
field at a time with checked values and a summary to confirm; every change is logged with who,
when and the previous value, shown in `/entry`, sent to coordinators in a daily digest, can be
reverted, and can be made to wait for a coordinator's approval. The clock is a FakeClock
(Monday 2 March 2026)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.conversations import PendingConversation
from bot.directory import fields
from bot.directory.changes import DirectoryChange
from bot.directory.models import DirectoryEntry
from bot.trust.models import AuditEntry
from tests.harness import RecordingTransport, make_bot
from tests.places import link, load_directory


async def _bot(tmp_path, database_url, **settings):
    bot = await make_bot(tmp_path, database_url, admins=["console:alice"], **settings)
    bot.sent = RecordingTransport("console")
    bot.services.transports.add(bot.sent)
    await load_directory(bot)
    await bot.say("/start", as_="alice")
    await bot.say("/start", as_="marc")
    await bot.say("/role marc coordinator", as_="alice")
    return bot


@pytest.fixture
async def ebot(tmp_path, database_url):
    bot = await _bot(tmp_path, database_url)
    yield bot
    await bot.close()


async def focal_point(bot, name: str, entry_id: str, lang: str) -> None:
    await bot.say("/start", as_=name)
    await bot.say(f"/lang {lang}", as_=name)
    await link(bot, name, entry_id=entry_id)


async def entry_row(bot, entry_id: str) -> DirectoryEntry:
    async with bot.services.db.session() as session:
        return await session.get(DirectoryEntry, entry_id)


async def change_rows(bot) -> list[DirectoryChange]:
    async with bot.services.db.session() as session:
        return list(await session.scalars(select(DirectoryChange).order_by(DirectoryChange.id)))


async def test_a_french_focal_point_completes_their_entry_and_a_coordinator_sees_it(ebot):
    bot = ebot
    await focal_point(bot, "luc", "cpas-liege", "fr")
    menu = await bot.ask("/myentry", as_="luc")
    assert "Votre fiche CPAS de Liège" in menu and "• Téléphone : (vide)" in menu
    assert "• Langues : fr" in menu
    [reply] = await bot.say("/myentry", as_="luc")
    assert [c.label for c in reply.choices][::7] == ["Téléphone", "Relire et enregistrer"]
    assert "Envoyez le numéro de téléphone" in await bot.ask("1", as_="luc")
    assert "✓ Téléphone : +32 4 220 58 11" in await bot.ask("04/220.58.11", as_="luc")
    await bot.ask("2", as_="luc")
    await bot.ask("Accueil@CPAS-Liege.BE", as_="luc")
    summary = await bot.ask("8", as_="luc")
    assert "Vérifiez vos modifications de CPAS de Liège" in summary
    assert "Téléphone : (vide) → +32 4 220 58 11" in summary
    assert "E-mail : (vide) → Accueil@cpas-liege.be" in summary
    assert (await entry_row(bot, "cpas-liege")).phone == ""  # nothing written before Confirm
    assert "Enregistré : 2 modifications de CPAS de Liège sont en ligne" in await bot.ask(
        "confirmer", as_="luc")

    shown = await bot.ask("/entry cpas-liege", as_="marc")
    assert "+32 4 220 58 11" in shown and "Accueil@cpas-liege.be" in shown
    assert "Updated by its focal point on 2026-03-02." in shown
    assert "Verified on 2026-03-02." in shown
    assert "+32 4 220 58 11" in await bot.ask("/who cpas liège", as_="marc")  # index updated
    row = await entry_row(bot, "cpas-liege")
    assert row.attributes["source"] == "chat:2026-03-02"
    [phone, email] = await change_rows(bot)
    assert (phone.field, phone.old_value, phone.new_value) == ("phone", "", "+32 4 220 58 11")
    assert phone.status == "live" and phone.changed_by is not None

    assert await bot.services.directory.changes.run_digest() == 2  # alice (admin) and marc
    await bot.services.outbox.deliver_pending()
    [digest] = bot.sent.to("marc")
    assert "2 changes to the directory by focal points" in digest
    assert "Phone: (empty) → +32 4 220 58 11, by luc on 2026-03-02" in digest
    assert await bot.services.directory.changes.run_digest() == 0  # once per change


async def test_a_dutch_focal_point_gets_clear_errors_and_bad_values_change_nothing(ebot):
    bot = ebot
    await focal_point(bot, "jan", "ocmw-gent", "nl")
    assert "Uw fiche OCMW Gent" in await bot.ask("/myentry", as_="jan")
    await bot.ask("1", as_="jan")
    error = await bot.ask("12345", as_="jan")
    assert "\"12345\" is geen Belgisch telefoonnummer" in error
    assert "Stuur het telefoonnummer" in error  # asked again
    await bot.ask("0", as_="jan")
    await bot.ask("2", as_="jan")
    assert "\"jan@gent\" is geen e-mailadres" in await bot.ask("jan@gent", as_="jan")
    await bot.ask("0", as_="jan")
    await bot.ask("3", as_="jan")
    assert "9999 is geen Belgische postcode" in await bot.ask("Stationsstraat 5, 9999 Gent",
                                                             as_="jan")
    assert "moet een postcode bevatten" in await bot.ask("Stationsstraat 5, Gent", as_="jan")
    assert "Postcode van Gent" in await bot.ask("Stationsstraat 5, 9000 Gent", as_="jan")
    assert "Geannuleerd; uw fiche is niet gewijzigd." in await bot.ask("9", as_="jan")
    row = await entry_row(bot, "ocmw-gent")
    assert (row.phone, row.email, row.address) == ("", "", "")
    assert await change_rows(bot) == []


async def test_a_dutch_focal_point_sets_hours_languages_description_and_a_closure(ebot):
    bot = ebot
    await focal_point(bot, "jan", "ocmw-gent", "nl")
    for text in ("/myentry", "4", "ma-vr 9-12 u", "5", "Nederlands, Engels en Oekraïens",
                 "6", "Leefloon en huisvesting voor nieuwkomers", "7", "1", "15/04", "8"):
        last = await bot.ask(text, as_="jan")
    assert "Talen: nl → nl, en, uk" in last
    assert "Tijdelijk gesloten of volzet: (leeg) → tijdelijk gesloten tot 2026-04-15" in last
    assert "zijn zichtbaar" in await bot.ask("1", as_="jan")
    record = bot.services.directory.index.get("ocmw-gent")
    assert record.languages == ("nl", "en", "uk") and record.hours == "ma-vr 9-12 u"
    assert record.services["nl"] == "Leefloon en huisvesting voor nieuwkomers"
    answer = await bot.ask("/who leefloon gent", as_="jan")
    assert "Tijdelijk gesloten tot 2026-04-15." in answer
    assert "Leefloon en huisvesting voor nieuwkomers" in answer
    bot.clock.advance(timedelta(days=45))  # the closure ended: no warning any more
    assert "gesloten tot" not in await bot.ask("/who leefloon gent", as_="jan")


async def test_someone_who_is_not_the_entry_s_focal_point_cannot_edit_it(ebot):
    bot = ebot
    await focal_point(bot, "jan", "ocmw-gent", "nl")
    await bot.say("/start", as_="bob")
    assert "not registered as the focal point" in await bot.ask("/myentry", as_="bob")
    refused = await bot.ask("/myentry ocmw-gent", as_="bob")
    assert "Only the focal point of ocmw-gent can edit it" in refused
    assert "Send the phone number" not in await bot.ask("1", as_="bob")  # no editor opened
    assert "Alleen het aanspreekpunt van cpas-liege" in await bot.ask("/myentry cpas-liege",
                                                                       as_="jan")
    # A coordinator is not a focal point either: corrections go through the focal point.
    assert "Only the focal point" in await bot.ask("/myentry ocmw-gent", as_="marc")
    assert await change_rows(bot) == []
    async with bot.services.db.session() as session:
        kinds = list(await session.scalars(select(PendingConversation.kind)))
    assert "directory.edit" not in kinds


async def test_the_editor_works_only_in_a_direct_chat(ebot):
    bot = ebot
    await focal_point(bot, "jan", "ocmw-gent", "nl")
    answer = await bot.ask("/myentry", as_="jan", chat="-100", direct=False)
    assert "werkt /myentry alleen in een privégesprek met mij" in answer


async def test_needs_changes_at_re_verification_opens_the_editor(ebot):
    bot = ebot
    await focal_point(bot, "luc", "cpas-liege", "fr")
    assert await bot.services.directory.verification.run_due() == 1
    answer = await bot.ask("2", as_="luc")  # "À modifier"
    assert "Corrigez votre fiche ici" in answer and "Votre fiche CPAS de Liège" in answer
    assert "cpas-liege" in await bot.ask("/stale", as_="marc")
    for text in ("1", "+32 (0)4 220 58 11", "8"):
        await bot.ask(text, as_="luc")
    assert "en ligne" in await bot.ask("1", as_="luc")
    stale = await bot.ask("/stale", as_="marc")
    assert "need changes" not in stale  # saved: the request is answered, the entry verified
    assert (await entry_row(bot, "cpas-liege")).last_verified == date(2026, 3, 2)


async def test_a_coordinator_reverts_a_change_and_only_the_latest_of_a_field(ebot):
    bot = ebot
    await focal_point(bot, "luc", "cpas-liege", "fr")
    for phone in ("04 220 58 11", "04 220 58 12"):
        for text in ("/myentry", "1", phone, "8", "1"):
            await bot.ask(text, as_="luc")
    first, second = await change_rows(bot)
    assert second.old_value == "+32 4 220 58 11"
    assert "revert that one first" in await bot.ask(f"/revert {first.id}", as_="marc")
    assert "ne vous est pas accessible" in await bot.ask(f"/revert {second.id}", as_="luc")
    reverted = await bot.ask(f"/revert {second.id}", as_="marc")
    assert "is back to +32 4 220 58 11" in reverted
    assert bot.services.directory.index.get("cpas-liege").phone == "+32 4 220 58 11"
    assert "is not live" in await bot.ask(f"/revert {second.id}", as_="marc")
    assert "There is no change #999" in await bot.ask("/revert 999", as_="marc")
    listing = await bot.ask("/changes cpas-liege", as_="marc")
    assert f"#{second.id}" in listing and "(reverted)" in listing
    async with bot.services.db.session() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert actions.count("directory.edit") == 2 and "directory.revert" in actions


async def test_with_approval_required_changes_wait_for_a_coordinator(tmp_path, database_url):
    bot = await _bot(tmp_path, database_url, directory_changes_need_approval=True)
    try:
        await focal_point(bot, "jan", "ocmw-gent", "nl")
        for text in ("/myentry", "1", "09 266 99 00", "8"):
            last = await bot.ask(text, as_="jan")
        assert "Een coördinator keurt ze goed" in last
        assert "wacht op goedkeuring" in await bot.ask("1", as_="jan")
        assert bot.services.directory.index.get("ocmw-gent").phone == ""
        assert "+32 9 266 99 00" not in await bot.ask("/entry ocmw-gent", as_="marc")
        assert "(waiting for approval)" in await bot.ask("/changes", as_="marc")
        assert "Approved: 1 change to OCMW Gent is live." in await bot.ask(
            "/approve ocmw-gent", as_="marc")
        assert bot.services.directory.index.get("ocmw-gent").phone == "+32 9 266 99 00"
        assert "No changes to ocmw-gent wait" in await bot.ask("/approve ocmw-gent", as_="marc")
        for text in ("/myentry", "1", "-", "8", "1"):
            await bot.ask(text, as_="jan")
        assert "Rejected: 1 change" in await bot.ask("/reject ocmw-gent", as_="marc")
        assert bot.services.directory.index.get("ocmw-gent").phone == "+32 9 266 99 00"
        await bot.services.outbox.deliver_pending()
        approved, rejected = bot.sent.to("jan")
        assert "Een coördinator heeft uw wijzigingen aan OCMW Gent goedgekeurd" in approved
        assert "niet aanvaard" in rejected
    finally:
        await bot.close()


@pytest.mark.parametrize("typed,stored", [
    ("02 123 45 67", "+32 2 123 45 67"), ("02/123.45.67", "+32 2 123 45 67"),
    ("0032 2 123 45 67", "+32 2 123 45 67"), ("+32 (0)2 123 45 67", "+32 2 123 45 67"),
    ("081 22 33 44", "+32 81 22 33 44"), ("0470/12.34.56", "+32 470 12 34 56"),
    ("+32470123456", "+32 470 12 34 56"), ("0800 12 345", "+32 800 12 345"),
    ("+352 12 34 56", "+352123456"),
])
def test_belgian_phone_formats_are_normalised(typed, stored):
    assert fields.normalise_phone(typed) == stored


@pytest.mark.parametrize("typed", ["12345", "02 123 45", "0470 12 34 56 78", "phone", "+32 0",
                                   "04x 220 58 11"])
def test_unreadable_phones_are_refused(typed):
    with pytest.raises(fields.InvalidValue):
        fields.normalise_phone(typed)


async def test_the_completeness_campaign_nudges_only_those_who_have_not_answered(ebot):
    bot = ebot
    await focal_point(bot, "luc", "cpas-liege", "fr")
    await focal_point(bot, "jan", "ocmw-gent", "nl")
    await bot.say("/role jan focal_point", as_="alice")
    preview = await bot.ask("/complete_entries", as_="marc")
    assert "2 focal points whose entry lacks a phone number or an e-mail address" in preview
    assert "3 incomplete entries have no focal point I can reach" in preview
    assert "Campaign 1 started: 2 focal points are being asked" in await bot.ask(
        "1", as_="marc")
    await bot.services.outbox.deliver_pending()
    [asked_fr] = bot.sent.to("luc")
    assert "Votre fiche dans le répertoire est incomplète" in asked_fr
    [asked_nl] = bot.sent.to("jan")
    assert "OCMW Gent heeft geen telefoonnummer of e-mailadres in de gids" in asked_nl
    # Luc answers by completing his entry; Jan declares an absence.
    for text in ("/myentry cpas-liege", "1", "04 220 58 11", "8", "1"):
        await bot.ask(text, as_="luc")
    assert "2026-03-05" in await bot.ask("/away 2026-03-05 2026-03-06", as_="jan")
    bot.sent.clear()
    campaign = bot.services.directory.campaign
    bot.clock.advance(timedelta(days=3))        # Thursday 5 March: Jan is away
    assert await campaign.run_due() == 0
    bot.clock.advance(timedelta(days=2))        # Saturday 7 March: back
    assert await campaign.run_due() == 1
    await bot.services.outbox.deliver_pending()
    assert bot.sent.chats() == {"jan"}
    assert "Een herinnering" in bot.sent.to("jan")[0]
    bot.clock.advance(timedelta(days=2))        # a week after the question: the last nudge
    assert await campaign.run_due() == 1
    bot.clock.advance(timedelta(days=30))
    assert await campaign.run_due() == 0        # never more than two nudges
    status = await bot.ask("/complete_entries status", as_="marc")
    assert "Campaign 1: 2 focal points asked, 1 completed their entry, 1 not yet." in status
    # The campaign is over: a new one asks Jan again, and Luc, whose entry still lacks an e-mail.
    assert "2 focal points whose entry lacks" in await bot.ask("/complete_entries", as_="marc")


async def test_only_coordinators_start_a_campaign_and_cancel_asks_nobody(ebot):
    bot = ebot
    await focal_point(bot, "luc", "cpas-liege", "fr")
    assert "ne vous est pas accessible" in await bot.ask("/complete_entries", as_="luc")
    await bot.ask("/complete_entries", as_="marc")
    assert "nobody was asked" in await bot.ask("2", as_="marc")
    assert await bot.services.directory.campaign.run_due() == 0
    await bot.services.outbox.deliver_pending()
    assert bot.sent.to("luc") == []
    await bot.ask("/complete_entries", as_="marc")
    await bot.ask("1", as_="marc")
    # While a campaign runs, an entry is not asked twice.
    again = await bot.ask("/complete_entries", as_="marc")
    assert "1 entry was already asked" in again and "No focal point to ask" in again


async def test_a_focal_point_invited_for_the_entry_edits_it_and_forget_leaves_the_values(ebot):
    from tests.trust.helpers import invite
    from tests.trust.test_privacy import my_data

    bot = ebot
    code = await invite(bot, org="cpas-liege", entry="cpas-liege")
    await bot.say(f"/start {code}", as_="fiona")
    await bot.say("/lang en", as_="fiona")   # welcomed in her inviter's language until she chooses
    for text in ("/myentry", "2", "accueil@cpas-liege.be", "8", "1"):
        await bot.ask(text, as_="fiona")
    section = (await my_data(bot, as_="fiona"))["sections"]["directory"]
    assert section["entry_changes"][0]["new"] == "accueil@cpas-liege.be"
    await bot.say("/forget", as_="fiona")
    assert "erased" in await bot.ask("1", as_="fiona")
    [change] = await change_rows(bot)
    assert change.changed_by is None and change.new_value == "accueil@cpas-liege.be"
    assert "by a former user" in await bot.ask("/changes", as_="marc")
    assert bot.services.directory.index.get("cpas-liege").email == "accueil@cpas-liege.be"


async def test_an_entry_edited_in_chat_exports_and_imports_again_unchanged(ebot):
    bot = ebot
    await focal_point(bot, "luc", "cpas-liege", "fr")
    for text in ("/myentry", "1", "04 220 58 11", "4", "lu-ve 9h-12h", "7", "2", "30/04", "8",
                 "1"):
        await bot.ask(text, as_="luc")
    before = bot.services.directory.index.get("cpas-liege")
    directory = bot.services.directory
    async with bot.services.db.transaction() as session:
        exported = await directory.export(session)
        report = await directory.import_file(session, exported, replace=True)
        assert report.applied, report.problems
        await directory.refresh(session)
    after = directory.index.get("cpas-liege")
    assert after == before
    assert after.source == ("chat:2026-03-02",)
    assert after.attributes["availability"] == "full:2026-04-30"


async def test_open_re_verification_questions_come_back_after_the_editor(ebot):
    bot = ebot
    await focal_point(bot, "luc", "cpas-liege", "fr")
    assert await bot.services.directory.verification.run_due() == 1
    await bot.ask("/myentry", as_="luc")   # typed instead of answering the question
    back = await bot.ask("9", as_="luc")
    assert "votre fiche n'a pas été modifiée" in back
    assert "Votre fiche dans le répertoire est-elle toujours correcte" in back
    assert "vérifiée" in await bot.ask("1", as_="luc")  # "Toujours correcte"
