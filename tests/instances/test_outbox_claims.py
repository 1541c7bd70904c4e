"""Several instances on one database: every queued message is sent by exactly one of them,
and the rows of an instance that died mid-pass are taken over once its claim expires."""
import asyncio
from datetime import timedelta

from sqlalchemy import select, update

from bot.messages import ChatRef, Reply
from bot.outbox import SENT, Outbox, OutboxMessage
from bot.transports.base import Transports
from tests.harness import RecordingTransport


def _instance(bot, name: str) -> tuple[Outbox, RecordingTransport]:
    transport = RecordingTransport("telegram")
    transports = Transports()
    transports.add(transport)
    return Outbox(bot.services.db, transports, bot.clock, instance_id=name), transport


async def _queue(bot, count: int, chats: int = 40) -> None:
    async with bot.services.db.transaction() as session:
        items = [(ChatRef("telegram", str(1000 + n % chats)), Reply(f"message {n}"),
                  f"test:{n}", "test") for n in range(count)]
        await bot.services.outbox.enqueue_many(session, items)


async def test_three_instances_send_each_message_exactly_once(bot):
    await _queue(bot, 300)
    instances = [_instance(bot, f"instance-{n}") for n in range(3)]

    async def drain(outbox: Outbox) -> None:
        for _pass in range(40):  # bounded
            if not await outbox.deliver_pending(limit=25):
                return

    await asyncio.gather(*(drain(outbox) for outbox, _t in instances))
    delivered = [reply.text for _o, transport in instances for _k, reply in transport.sent]
    assert sorted(delivered) == sorted(f"message {n}" for n in range(300))
    assert sum(1 for _o, t in instances if t.sent) >= 2, "the work was not shared"
    async with bot.services.db.session() as session:
        statuses = set(await session.scalars(select(OutboxMessage.status)))
        claims = set(await session.scalars(select(OutboxMessage.claimed_by)))
    assert statuses == {SENT} and claims == {None}


async def test_rows_of_a_dead_instance_are_taken_over_after_the_claim_expires(bot):
    await _queue(bot, 5)
    now = bot.clock.now()
    async with bot.services.db.transaction() as session:
        await session.execute(update(OutboxMessage).values(
            claimed_by="dead", claimed_until=now + timedelta(seconds=Outbox.CLAIM_SECONDS)))
    survivor, transport = _instance(bot, "survivor")
    assert await survivor.deliver_pending() == 0 and transport.sent == []
    bot.clock.advance(timedelta(seconds=Outbox.CLAIM_SECONDS + 1))
    assert await survivor.deliver_pending() == 5
    assert len(transport.sent) == 5


async def test_rows_for_a_platform_not_running_here_are_left_untouched(bot):
    await _queue(bot, 3)
    matrix_only = Transports()
    matrix_only.add(RecordingTransport("matrix"))
    outbox = Outbox(bot.services.db, matrix_only, bot.clock, instance_id="matrix-only")
    assert await outbox.deliver_pending() == 0
    async with bot.services.db.session() as session:
        rows = list(await session.scalars(select(OutboxMessage)))
    assert all(row.claimed_by is None and row.attempts == 0 for row in rows)


async def test_a_webhook_update_is_handled_by_one_instance_only(bot):
    """Telegram webhooks behind a load balancer: a redelivery reaching another instance while
    the first still handles it is not handled twice; a claim left by a dead instance is
    taken over."""
    from datetime import timedelta as span

    from bot.transports.telegram_state import Claim, UpdateLog

    first, second = UpdateLog(bot.services.db, "42"), UpdateLog(bot.services.db, "42")
    outcomes = await asyncio.gather(*(log.claim(7001) for log in (first, second, first)))
    assert sorted(o.value for o in outcomes) == ["busy", "busy", "mine"]
    await first.finish(7001)
    assert await second.claim(7001) is Claim.DONE

    assert await first.claim(7002) is Claim.MINE          # then that instance dies
    assert await second.claim(7002) is Claim.BUSY
    assert await second.claim(7002, stale_after=span(seconds=0)) is Claim.MINE
