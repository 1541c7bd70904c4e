"""Issue 17, device verification: a person verifies their device with the bot by emoji, the way
Element does it over to-device messages (request → ready → start → accept → keys → MACs →
done), against the real Synapse. A second nio client plays Element; the bot runs in
`verified_only`, so that "verified" means something."""
from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from nio import KeyVerificationEvent, ToDeviceMessage, UnknownToDeviceEvent
from nio.crypto.sas import Sas, SasState

from bot.devices import VerificationState
from bot.transports.matrix_verification import DeviceVerifier
from tests.matrix.people import MatrixPerson

pytestmark = pytest.mark.slow


class ElementVerification:
    """The person's side of "Verify session" on the bot's device."""

    def __init__(self, person: MatrixPerson, bot_id: str, bot_device: str) -> None:
        self.person = person
        self.client = person.client
        self.bot_id = bot_id
        self.bot_device = bot_device
        self.transaction = uuid.uuid4().hex
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.sas: Sas | None = None
        self._arrived = asyncio.Condition()
        self.client.add_to_device_callback(self._on_to_device,
                                           (KeyVerificationEvent, UnknownToDeviceEvent))

    async def _on_to_device(self, event: Any) -> None:
        content = event.source.get("content") or {}
        if content.get("transaction_id") != self.transaction:
            return
        async with self._arrived:
            self.received.append((event.source.get("type", ""), content))
            self._arrived.notify_all()

    async def next(self, event_type: str, within: float = 20) -> dict[str, Any]:
        async def arrived() -> dict[str, Any]:
            async with self._arrived:
                while True:
                    found = [c for t, c in self.received if t == event_type]
                    if found:
                        return found[0]
                    await self._arrived.wait()
        return await asyncio.wait_for(arrived(), within)

    def got(self, event_type: str) -> bool:
        return any(t == event_type for t, _c in self.received)

    async def request(self, age: float = 0) -> None:
        await self._send("m.key.verification.request", {
            "from_device": self.client.device_id, "methods": ["m.sas.v1"],
            "timestamp": int((time.time() - age) * 1000), "transaction_id": self.transaction})

    async def start(self) -> None:
        """After `ready`: the person picks "Verify with emoji"."""
        self.client.olm.users_for_key_query.add(self.bot_id)
        await self.client.keys_query()
        device = self.client.device_store[self.bot_id][self.bot_device]
        self.sas = Sas(self.client.user_id, self.client.device_id,
                       self.client.olm.account.identity_keys["ed25519"], device,
                       transaction_id=self.transaction)
        self.client.olm.key_verifications[self.transaction] = self.sas
        await self.client.to_device(self.sas.start_verification())

    async def emoji(self, within: float = 20) -> list[str]:
        deadline = time.monotonic() + within
        # The bot's MAC may come in the same sync as its key (an accepted device).
        while self.sas is None or self.sas.state not in (SasState.key_received,
                                                         SasState.mac_received):
            assert time.monotonic() < deadline, f"no key exchange: {self.received}"
            await asyncio.sleep(0.05)
        return [symbol for symbol, _name in self.sas.get_emoji()]

    async def they_match(self) -> None:
        await self.client.confirm_short_auth_string(self.transaction)

    async def they_do_not_match(self) -> None:
        await self.client.cancel_key_verification(self.transaction, reject=True)

    async def _send(self, event_type: str, content: dict[str, Any]) -> None:
        await self.client.to_device(ToDeviceMessage(event_type, self.bot_id, self.bot_device,
                                                    content))


async def verifying_bot(make_matrix_bot, **settings):
    """The bot with its verifications wired as `coordbot run` wires them (the shared fixture
    builds the transport without them)."""
    bot = await make_matrix_bot(matrix_trust="verified_only", **settings)
    bot.transport.verification = DeviceVerifier(bot.transport.client, bot.services.devices)
    return bot


def bot_trusts(bot, person: MatrixPerson) -> bool:
    device = bot.transport.client.device_store[person.user_id].get(person.client.device_id)
    return device is not None and bot.transport.client.olm.is_device_verified(device)


async def state_of(bot, person: MatrixPerson, wanted: VerificationState,
                   within: float = 20) -> Any:
    deadline = time.monotonic() + within
    while True:
        verification = bot.services.devices.get(person.user_id, person.client.device_id)
        if verification is not None and verification.state is wanted:
            return verification
        assert time.monotonic() < deadline, verification
        await asyncio.sleep(0.05)


async def test_an_admin_verifies_their_device_and_is_then_answered_in_verified_only(
        make_matrix_bot, people):
    ana = await people("ana")
    bot = await verifying_bot(make_matrix_bot, admins=[f"matrix:{ana.user_id}"])
    room = await ana.direct_chat(bot.user_id, encrypted=True)
    await ana.say(room, "!whoami")
    await asyncio.sleep(2)
    assert not ana.messages_from(bot.user_id, room), "an unverified device was answered"

    element = ElementVerification(ana, bot.user_id, bot.transport.client.device_id)
    started = time.monotonic()
    await element.request()
    ready = await element.next("m.key.verification.ready")
    assert ready["methods"] == ["m.sas.v1"]
    assert ready["from_device"] == bot.transport.client.device_id
    await element.start()
    await element.next("m.key.verification.accept")
    seen_by_ana = await element.emoji()
    shown = await state_of(bot, ana, VerificationState.ACCEPTED)
    assert shown.emoji == seen_by_ana and len(seen_by_ana) == 7
    await element.they_match()
    await element.next("m.key.verification.mac")
    await element.next("m.key.verification.done")
    elapsed = time.monotonic() - started
    await state_of(bot, ana, VerificationState.VERIFIED)
    assert bot_trusts(bot, ana)
    assert element.sas is not None and element.sas.verified   # Ana's side trusts the bot too
    print(f"admin verification, request to done: {elapsed * 1000:.0f} ms")

    answer = await ana.ask(room, bot.user_id, "!whoami")
    assert answer.decrypted and ana.user_id in answer.body


async def test_a_persons_verification_waits_for_an_admins_approval_with_the_emoji(
        make_matrix_bot, people):
    sofia = await people("sofia")
    bot = await verifying_bot(make_matrix_bot, admins=["console:alice"])
    element = ElementVerification(sofia, bot.user_id, bot.transport.client.device_id)
    await element.request()
    await element.next("m.key.verification.ready")
    await element.start()
    seen_by_sofia = await element.emoji()
    await state_of(bot, sofia, VerificationState.WAITING)
    await element.they_match()
    await asyncio.sleep(1.5)
    assert not bot_trusts(bot, sofia) and not element.got("m.key.verification.mac")

    device = sofia.client.device_id
    shown = await bot.harness.ask(f"!verify-device {sofia.user_id} {device}", as_="alice")
    assert all(symbol in shown for symbol in seen_by_sofia), shown
    assert "Confirm" in shown
    confirmed = await bot.harness.ask("1", as_="alice")
    assert "Confirmed" in confirmed
    await element.next("m.key.verification.done")
    await state_of(bot, sofia, VerificationState.VERIFIED)
    assert bot_trusts(bot, sofia)
    listing = await bot.harness.ask("/verify_device", as_="alice")
    assert f"{device} of {sofia.user_id}: verified." in listing, listing


async def test_emoji_the_admin_rejects_cancel_and_leave_the_device_unverified(
        make_matrix_bot, people):
    tom = await people("tom")
    bot = await verifying_bot(make_matrix_bot, admins=["console:alice"])
    element = ElementVerification(tom, bot.user_id, bot.transport.client.device_id)
    await element.request()
    await element.next("m.key.verification.ready")
    await element.start()
    await element.emoji()
    await state_of(bot, tom, VerificationState.WAITING)
    await bot.harness.ask(f"!verify-device {tom.user_id} {tom.client.device_id}", as_="alice")
    assert "stays unverified" in await bot.harness.ask("2", as_="alice")
    cancel = await element.next("m.key.verification.cancel")
    assert cancel["code"] == "m.mismatched_sas"
    assert not bot_trusts(bot, tom)


async def test_a_person_who_sees_other_emoji_cancels_and_stays_unverified(
        make_matrix_bot, people):
    ana = await people("ana")
    bot = await verifying_bot(make_matrix_bot, admins=[f"matrix:{ana.user_id}"])
    element = ElementVerification(ana, bot.user_id, bot.transport.client.device_id)
    await element.request()
    await element.next("m.key.verification.ready")
    await element.start()
    await element.emoji()
    await element.they_do_not_match()
    verification = await state_of(bot, ana, VerificationState.CANCELLED)
    assert "Mismatched" in verification.reason
    await asyncio.sleep(1)
    assert not bot_trusts(bot, ana) and not element.got("m.key.verification.done")


async def test_an_approval_given_ahead_accepts_the_device_and_a_silent_one_times_out(
        make_matrix_bot, people):
    lena, mark = await people("lena"), await people("mark")
    bot = await verifying_bot(make_matrix_bot, admins=["console:alice"])
    answer = await bot.harness.ask(
        f"!verify-device {lena.user_id} {lena.client.device_id}", as_="alice")
    assert "within 10 minutes" in answer
    element = ElementVerification(lena, bot.user_id, bot.transport.client.device_id)
    await element.request()
    await element.next("m.key.verification.ready")
    await element.start()
    await element.emoji()
    await element.they_match()
    await element.next("m.key.verification.done")
    assert bot_trusts(bot, lena)

    bot.transport.verification.sas_timeout = timedelta(seconds=1)
    silent = ElementVerification(mark, bot.user_id, bot.transport.client.device_id)
    await silent.request()
    await silent.next("m.key.verification.ready")
    await silent.start()
    await silent.emoji()
    cancel = await silent.next("m.key.verification.cancel", within=20)
    assert cancel["code"] == "m.timeout"
    assert (await state_of(bot, mark, VerificationState.CANCELLED)).reason == "Timed out"
    assert not bot_trusts(bot, mark)


async def test_a_stale_request_is_ignored_and_a_stopped_bot_ends_its_verifications(
        make_matrix_bot, people):
    nina = await people("nina")
    bot = await verifying_bot(make_matrix_bot, admins=["console:alice"])
    stale = ElementVerification(nina, bot.user_id, bot.transport.client.device_id)
    await stale.request(age=3600)   # an hour old: the person's app gave up long ago
    element = ElementVerification(nina, bot.user_id, bot.transport.client.device_id)
    await element.request()
    await element.next("m.key.verification.ready")
    assert not stale.got("m.key.verification.ready")
    await element.start()
    await element.emoji()
    await state_of(bot, nina, VerificationState.WAITING)
    devices = bot.services.devices
    await bot.stop()
    verification = devices.get(nina.user_id, nina.client.device_id)
    assert verification.state is VerificationState.CANCELLED
    assert verification.reason == "The bot stopped"


async def test_a_matrix_admin_is_told_and_approves_in_their_encrypted_direct_chat(
        make_matrix_bot, people):
    ana, sofia = await people("ana"), await people("sofia")
    bot = await verifying_bot(make_matrix_bot, admins=[f"matrix:{ana.user_id}"])
    own = ElementVerification(ana, bot.user_id, bot.transport.client.device_id)
    await own.request()
    await own.next("m.key.verification.ready")
    await own.start()
    await own.emoji()
    await own.they_match()
    await own.next("m.key.verification.done")
    room = await ana.direct_chat(bot.user_id, encrypted=True)
    await ana.ask(room, bot.user_id, "!whoami")          # her direct chat is now known

    element = ElementVerification(sofia, bot.user_id, bot.transport.client.device_id)
    await element.request()
    await element.next("m.key.verification.ready")
    await element.start()
    seen_by_sofia = await element.emoji()
    shown_at = time.monotonic()
    notice = await ana.next_from(bot.user_id, room, after=1)
    print(f"admin's notice {1000 * (time.monotonic() - shown_at):.0f} ms after the emoji")
    assert notice.decrypted and sofia.user_id in notice.body
    assert all(symbol in notice.body for symbol in seen_by_sofia), notice.body
    device = sofia.client.device_id
    shown = await ana.ask(room, bot.user_id, f"!verify-device {sofia.user_id} {device}")
    assert all(symbol in shown.body for symbol in seen_by_sofia)
    await element.they_match()
    assert "Confirmed" in (await ana.ask(room, bot.user_id, "1")).body
    await element.next("m.key.verification.done")
    assert bot_trusts(bot, sofia)
