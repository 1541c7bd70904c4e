"""The chat's last question, kept by the directory service for `/more`: remembered per chat
and person, paged on, and not remembered while its place must be asked back."""
from __future__ import annotations

from bot.config import PROJECT_ROOT
from bot.directory.models import LastQuery
from bot.directory.service import DirectoryService
from bot.people import User
from tests.directory.conftest import SAMPLE

CHAT = "console:bob"


async def _loaded(db) -> tuple[DirectoryService, int]:
    service = DirectoryService(PROJECT_ROOT / "data")
    async with db.transaction() as session:
        await service.import_file(session, SAMPLE.read_bytes(), replace=True)
        user = User(display_name="Bob")
        session.add(user)
        await session.flush()
        await service.refresh(session)
        return service, user.id


async def test_more_results_page_on_from_the_remembered_question(db):
    service, user_id = await _loaded(db)
    async with db.transaction() as session:
        first = await service.answer_query(session, CHAT, user_id, "logement Liège", limit=2,
                                           language="fr")
    async with db.transaction() as session:
        page = await service.more_results(session, CHAT, user_id, limit=2, language="fr")
    assert page is not None and page.query == "logement Liège" and page.shown_before == 2
    everything = service.search("logement Liège", limit=4, language="fr").results
    assert [r.entry.id for r in first.results + page.outcome.results] == \
        [r.entry.id for r in everything]
    async with db.session() as session:
        row = await session.get(LastQuery, 1)
        assert row is not None and row.shown == 2 + len(page.outcome.results)


async def test_no_question_no_more_and_each_chat_has_its_own(db):
    service, user_id = await _loaded(db)
    async with db.transaction() as session:
        await service.answer_query(session, CHAT, user_id, "logement Liège", limit=2,
                                   language="fr")
        assert await service.more_results(session, "console:other", user_id, limit=2,
                                          language="fr") is None


async def test_a_question_asked_back_is_not_remembered_until_the_place_is_chosen(db):
    service, user_id = await _loaded(db)
    async with db.transaction() as session:
        asked = await service.answer_query(session, CHAT, user_id, "aide sociale Saint-Nicolas",
                                           limit=3, language="fr")
        assert asked.ambiguous
        assert await service.more_results(session, CHAT, user_id, limit=3,
                                          language="fr") is None
        await service.answer_query(session, CHAT, user_id, "aide sociale Saint-Nicolas",
                                   limit=1, language="fr", place="62093")
        page = await service.more_results(session, CHAT, user_id, limit=3, language="fr")
    assert page is not None and page.shown_before == 1
    assert "ocmw-sint-niklaas" not in [r.entry.id for r in page.outcome.results]
