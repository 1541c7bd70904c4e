import json
from datetime import timedelta

from sqlalchemy import select

from bot.messages import ChatRef, Reply
from bot.outbox import OutboxMessage
from bot.people import Identity, KnownChat, User
from bot.scheduling import schedule
from bot.trust.models import AuditEntry
from tests.trust.helpers import code_in, invite


async def my_data(bot, **kwargs) -> dict:
    replies = await bot.say("/mydata", **kwargs)
    assert replies[0].attachment is not None
    assert replies[0].attachment.mime_type == "application/json"
    return json.loads(replies[0].attachment.content)


async def queue_message(bot, chat_key: str, text: str, key: str) -> None:
    async with bot.services.db.transaction() as session:
        await bot.services.outbox.enqueue(session, ChatRef.parse(chat_key), Reply(text), key)


async def test_mydata_sends_everything_the_core_stores_about_the_person(bot):
    code = await invite(bot, entry="entry-42")
    await bot.say(f"/start {code}", as_="fiona")
    await bot.say("/lang nl", as_="fiona")
    await queue_message(bot, "console:fiona", "Meeting tomorrow 10:00", "r1")
    await queue_message(bot, "console:bob", "Someone else's message", "r2")
    data = await my_data(bot, as_="fiona")
    core = data["sections"]["core"]
    assert core["user"]["display_name"] == "fiona" and core["user"]["entry_id"] == "entry-42"
    assert [i["platform_user_id"] for i in core["identities"]] == ["fiona"]
    assert [m["text"] for m in core["messages_sent_to_you"]] == ["Meeting tomorrow 10:00"]
    assert any(e["action"] == "invitation.redeem" for e in core["audit_entries"])
    assert core["direct_chats"][0]["key"] == "console:fiona"


async def test_mydata_only_in_a_direct_chat(bot):
    replies = await bot.say("/mydata", as_="bob", chat="group1")
    assert replies[0].attachment is None and "direct chat" in replies[0].plain()


async def test_features_add_their_own_exporters_and_erasers(bot):
    erased = []

    async def export(session, user):
        return {"notes": [f"note of user {user.id}"]}

    async def erase(session, user):
        erased.append(user.id)

    bot.services.trust.privacy.register("example", export, erase)
    data = await my_data(bot, as_="bob")
    assert data["sections"]["example"]["notes"][0].startswith("note of user")
    await bot.say("/forget", as_="bob")
    await bot.say("yes", as_="bob")
    assert erased == [data["user_id"]]


async def test_forget_asks_for_confirmation_and_cancel_keeps_everything(bot):
    await bot.say("/whoami", as_="bob")
    replies = await bot.say("/forget", as_="bob")
    assert [c.value for c in replies[0].choices] == ["yes", "no"]
    assert "answer 1" in await bot.ask("maybe", as_="bob")
    assert "Nothing was erased" in await bot.ask("2", as_="bob")
    assert "Name: bob" in await bot.ask("/whoami", as_="bob")


async def test_forget_erases_identities_and_personal_data_keeping_an_anonymous_id(bot):
    code = await invite(bot, entry="entry-42")
    await bot.say(f"/start {code}", as_="fiona")
    await queue_message(bot, "console:fiona", "Meeting tomorrow 10:00", "r1")
    await bot.say("/forget", as_="fiona")
    assert "erased" in await bot.ask("1", as_="fiona")
    async with bot.services.db.session() as session:
        names = list(await session.scalars(select(User.display_name)))
        identities = list(await session.scalars(select(Identity.platform_user_id)))
        outbox = list(await session.scalars(select(OutboxMessage.text)))
        chats = list(await session.scalars(select(KnownChat.key)))
        forgotten = await session.scalar(select(AuditEntry).where(
            AuditEntry.action == "privacy.forget"))
    assert "fiona" not in names and "" in names
    assert "fiona" not in identities and outbox == [] and "console:fiona" not in chats
    erased_user = await bot_user(bot, forgotten.actor_user_id)
    assert erased_user.display_name == "" and erased_user.role_code == "guest"
    assert erased_user.entry_id is None
    # Writing again makes a new, unknown guest.
    whoami = await bot.ask("/whoami", as_="fiona")
    assert "Role: guest" in whoami
    assert f"user:{forgotten.actor_user_id}" in await bot.ask("/audit", as_="alice")


async def bot_user(bot, user_id):
    async with bot.services.db.session() as session:
        return await session.get(User, user_id)


async def test_forget_also_removes_a_pending_link_code(bot):
    code = await invite(bot)
    await bot.say(f"/start {code}", as_="fiona")
    link_code = code_in(await bot.ask("/link", as_="fiona"))
    await bot.say("/forget", as_="fiona")
    await bot.say("1", as_="fiona")
    assert "not valid" in await bot.ask(f"/start {link_code}", as_="mallory")


async def test_daily_retention_runs_registered_tasks_and_the_core_ones(bot):
    await queue_message(bot, "console:bob", "Old news", "old")
    async with bot.services.db.transaction() as session:
        row = await session.scalar(select(OutboxMessage))
        row.status = "sent"
    seen = []

    async def purge_answers(session, now):
        seen.append(now)
        return 3

    bot.services.trust.retention.register("example.raw_answers", purge_answers)
    bot.clock.advance(timedelta(days=91))
    done = await bot.services.trust.retention.run_due()
    assert done["example.raw_answers"] == 3 and seen == [bot.clock.now()]
    assert done["core.outbox"] == 1
    async with bot.services.db.session() as session:
        assert await session.scalar(select(OutboxMessage.text)) == ""


async def test_a_failing_retention_task_does_not_stop_the_others(bot):
    async def broken(session, now):
        raise RuntimeError("boom")

    bot.services.trust.retention.register("broken", broken)
    done = await bot.services.trust.retention.run_due()
    assert done["broken"] == -1 and done["core.audit"] == 0


async def test_retention_job_is_scheduled_once_with_a_stable_id(bot):
    bot.services.scheduler.start(paused=True)  # App.stop shuts it down
    schedule(bot.services.scheduler, bot.services.trust.jobs())
    schedule(bot.services.scheduler, bot.services.trust.jobs())
    jobs = [job.id for job in bot.services.scheduler.get_jobs()]
    assert jobs.count("trust.retention") == 1
