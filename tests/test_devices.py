"""`!verify-device` and the registry of device verifications (bot/devices/) without a
homeserver: the Matrix side of the registry is played through its own methods, as the
transport calls them (tests/matrix/test_verification.py runs the real exchange)."""
from __future__ import annotations

from sqlalchemy import select

from bot.devices import DeviceVerifications, VerificationState
from bot.trust.models import AuditEntry

EMOJI = ["🐶", "🔧", "✈️", "🍕", "🎸", "🔑", "🌙"]
PERSON, DEVICE = "@sofia:example.org", "PHONE1"


def waiting(bot, user: str = PERSON, device: str = DEVICE) -> list[tuple[str, str, bool]]:
    """A verification whose emoji the transport just showed; returns the decisions it gets."""
    decisions: list[tuple[str, str, bool]] = []
    bot.services.devices.listen(lambda *decision: decisions.append(decision))
    bot.services.devices.shown(user, device, EMOJI, accepted=False)
    return decisions


async def audit_actions(bot) -> list[tuple[str, str, dict]]:
    async with bot.services.db.session() as session:
        rows = await session.scalars(select(AuditEntry).where(
            AuditEntry.action.like("device.%")).order_by(AuditEntry.id))
        return [(row.action, row.target, row.details) for row in rows]


async def test_an_admin_compares_the_emoji_and_confirms(bot):
    decisions = waiting(bot)
    shown = await bot.ask(f"!verify-device {PERSON} {DEVICE}", as_="alice")
    assert "🐶  Dog" in shown and "🔧  Spanner" in shown and "✈️  Aeroplane" in shown
    assert shown.index("🐶") < shown.index("🔧") < shown.index("🌙")
    assert "Confirm only if they are the same" in shown
    assert "Confirmed" in await bot.ask("1", as_="alice")
    assert decisions == [(PERSON, DEVICE, True)]
    assert bot.services.devices.get(PERSON, DEVICE).state is VerificationState.ACCEPTED
    assert await audit_actions(bot) == [("device.approve", f"matrix:{PERSON}",
                                         {"device": DEVICE})]


async def test_the_emoji_names_are_the_specifications_in_the_admins_language(bot):
    waiting(bot)
    await bot.say("/lang uk", as_="alice")
    shown = await bot.ask(f"/verify_device {PERSON} {DEVICE}", as_="alice")
    assert "🐶  Пес" in shown and "🔧  Гайковий ключ" in shown
    await bot.say("/lang de", as_="alice")
    assert "🍕  Pizza" in await bot.ask(f"/verify_device {PERSON} {DEVICE}", as_="alice")


async def test_cancelled_emoji_are_rejected_and_a_verification_over_is_said_so(bot):
    decisions = waiting(bot)
    await bot.ask(f"!verify-device {PERSON} {DEVICE}", as_="alice")
    assert "stays unverified" in await bot.ask("2", as_="alice")
    assert decisions == [(PERSON, DEVICE, False)]
    assert await audit_actions(bot) == [("device.reject", f"matrix:{PERSON}",
                                         {"device": DEVICE})]

    waiting(bot, device="LAPTOP")
    await bot.ask(f"!verify-device {PERSON} LAPTOP", as_="alice")
    bot.services.devices.finished(PERSON, "LAPTOP", verified=False, reason="Timed out")
    assert "is over" in await bot.ask("1", as_="alice")


async def test_an_approval_ahead_is_recorded_and_a_listing_shows_the_states(bot):
    answer = await bot.ask(f"!verify-device {PERSON} {DEVICE}", as_="alice")
    assert "within 10 minutes" in answer
    assert await bot.services.devices.accepts_at_once("matrix", PERSON, DEVICE)
    assert await audit_actions(bot) == [("device.approve", f"matrix:{PERSON}",
                                         {"device": DEVICE, "ahead": True})]
    assert "No device verification is waiting" in await bot.ask("!verify-device", as_="alice")
    waiting(bot, device="LAPTOP")
    bot.services.devices.shown(PERSON, DEVICE, EMOJI, accepted=True)
    bot.services.devices.finished(PERSON, DEVICE, verified=True)
    listing = await bot.ask("!verify-device", as_="alice")
    assert listing.index("LAPTOP of @sofia:example.org: waiting for your approval.") \
        < listing.index("PHONE1 of @sofia:example.org: verified.")


async def test_only_admins_in_a_direct_chat_with_well_formed_ids(bot):
    waiting(bot)
    assert "is not available to you" in await bot.ask(f"!verify-device {PERSON} {DEVICE}",
                                                      as_="bob")
    in_group = await bot.ask(f"!verify-device {PERSON} {DEVICE}", as_="alice", chat="-100")
    assert "decides whose devices I trust" in in_group
    for arguments in ("sofia PHONE1", f"{PERSON}", f"{PERSON} PHONE1 extra", "@x PHONE1"):
        assert "Usage" in await bot.ask(f"!verify-device {arguments}", as_="alice")
    assert bot.services.devices.get(PERSON, DEVICE).state is VerificationState.WAITING
    assert await audit_actions(bot) == []


async def test_admins_come_from_the_database_or_the_admins_setting(bot):
    devices = bot.services.devices
    await bot.say("hello", as_="@bob:example.org", platform="matrix")
    assert not await devices.accepts_at_once("matrix", "@bob:example.org", "D1")
    await bot.say("/role matrix:@bob:example.org admin", as_="alice")
    assert await devices.accepts_at_once("matrix", "@bob:example.org", "D1")
    assert await devices.is_admin("console", "alice")   # COORDBOT_ADMINS, no message needed
    assert not await devices.is_admin("matrix", "@alice:example.org")


async def test_an_approval_ahead_expires_and_is_used_once(bot):
    now = [1000.0]
    devices = DeviceVerifications(bot.services.db, bot.services.people, bot.services.clock,
                                  monotonic=lambda: now[0], approval_seconds=600)
    async with bot.services.db.transaction() as session:
        await devices.approve_ahead(session, 1, PERSON, DEVICE)
        await devices.approve_ahead(session, 1, PERSON, "LATE")
    assert await devices.accepts_at_once("matrix", PERSON, DEVICE)
    assert not await devices.accepts_at_once("matrix", PERSON, DEVICE)   # used up
    now[0] += 601
    assert not await devices.accepts_at_once("matrix", PERSON, "LATE")


async def test_coordbot_run_gives_the_matrix_transport_the_shared_verifications(
        tmp_path, database_url):
    from bot.transports.registry import transport_plans
    from tests.harness import make_bot

    bot = await make_bot(tmp_path, database_url, matrix_homeserver="http://127.0.0.1:9",
                         matrix_user_id="@coordbot:example.org", matrix_password="secret",
                         matrix_store_path=str(tmp_path / "store"))
    try:
        [plan] = [p for p in transport_plans(bot.services.settings, bot.services)
                  if p.platform == "matrix"]
        transport = plan.build()
        assert transport.verification.verifications is bot.services.devices
        await transport.stop()
    finally:
        await bot.close()



async def queued_for(bot, chat_key: str, within: float = 5) -> list[str]:
    import asyncio
    import time

    from bot.outbox import OutboxMessage

    deadline = time.monotonic() + within
    while True:
        async with bot.services.db.session() as session:
            texts = list(await session.scalars(select(OutboxMessage.text).where(
                OutboxMessage.chat_key == chat_key)))
        if texts or time.monotonic() > deadline:
            return texts
        await asyncio.sleep(0.05)


async def test_admins_are_told_at_once_that_a_verification_waits_in_their_language(bot):
    await bot.say("/lang fr", as_="alice")
    await bot.say("/whoami", as_="bob")      # not an admin: told nothing
    bot.services.devices.shown("@ana:example.org", "TABLET", EMOJI, accepted=True)
    waiting(bot)
    [notice] = await queued_for(bot, "console:alice")
    assert "@sofia:example.org" in notice and "PHONE1" in notice
    assert "🐶  Chien" in notice and "🔧  Clé à molette" in notice and "attend un admin" in notice
    assert "/verify_device @sofia:example.org PHONE1" in notice
    assert await queued_for(bot, "console:bob", within=0.5) == []
    assert "TABLET" not in notice    # an accepted verification waits for nobody


async def test_the_audit_names_the_persons_account_once_the_bot_knows_them(bot):
    await bot.say("hello", as_=PERSON, platform="matrix")
    async with bot.services.db.session() as session:
        identity = await bot.services.people.identity(session, "matrix", PERSON)
    await bot.ask(f"!verify-device {PERSON} {DEVICE}", as_="alice")
    assert await audit_actions(bot) == [("device.approve", f"user:{identity.user_id}",
                                         {"device": DEVICE, "ahead": True})]
