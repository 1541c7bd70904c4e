"""Emoji (SAS) verification of a person's device, started by the person ("Verify session").

matrix-nio 0.26 runs the SAS exchange itself (`m.key.verification.start/accept/key/mac/
cancel`), but not the request step clients use first: `m.key.verification.request` answered
with `ready`, and `done` at the end. This module adds those, accepts the person's `start`,
and confirms the emoji when `bot.devices.DeviceVerifications` says so: at once for an admin
or a device an admin approved beforehand, otherwise once an admin compared the emoji and
approved them with `!verify-device`. A device verified this way is marked verified in nio's
store, which is what `verified_only` trusts."""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from nio import (KeyVerificationCancel, KeyVerificationEvent, KeyVerificationKey,
                 KeyVerificationMac, KeyVerificationStart, LocalProtocolError,
                 UnknownToDeviceEvent)
from nio.crypto.sas import Sas
from nio.event_builders import ToDeviceMessage

if TYPE_CHECKING:
    from nio import AsyncClient

    from bot.devices import DeviceVerifications

# Logs name devices, never people (their ids are personal data; the audit log has approvals).
log = logging.getLogger("coordbot.matrix.verification")

SAS_METHOD = "m.sas.v1"
# The specification's limits for a request's `timestamp`.
REQUEST_MAX_AGE = 600.0
REQUEST_MAX_AHEAD = 300.0
# nio cancels a SAS after 1 minute without a message; an admin comparing emoji needs longer.
SAS_TIMEOUT = timedelta(minutes=10)
MAX_REQUESTS = 100


@dataclass
class _Flow:
    """One verification: from its request (if any) to `done`."""

    user_id: str
    device_id: str
    requested: bool        # started with `request`/`ready`: ends with `done`
    since: float
    confirmed: bool = False
    finished: bool = False


class DeviceVerifier:
    """Answers the verification messages of a sync; registered as a nio to-device callback, so
    it runs inside the sync, right after nio's own SAS state machine has seen the event."""

    def __init__(self, client: AsyncClient, verifications: DeviceVerifications | None) -> None:
        self.client = client
        self.verifications = verifications
        self.sas_timeout = SAS_TIMEOUT
        self._flows: dict[str, _Flow] = {}     # by transaction id
        self._tasks: set[asyncio.Task[None]] = set()
        if verifications is not None:   # without approvals nobody could be accepted
            client.add_to_device_callback(self._on_to_device,
                                          (KeyVerificationEvent, UnknownToDeviceEvent))
            verifications.listen(self._on_decision)

    async def _on_to_device(self, event: Any) -> None:
        try:
            await self._dispatch(event)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - one bad verification must not stop the sync
            log.exception("matrix verification step failed")

    async def _dispatch(self, event: Any) -> None:
        if isinstance(event, UnknownToDeviceEvent):
            if event.type == "m.key.verification.request":
                await self._on_request(event.sender, event.source.get("content") or {})
            elif event.type == "m.key.verification.done":
                log.info("matrix verification done by the other side")
        elif isinstance(event, KeyVerificationStart):
            await self._on_start(event)
        elif isinstance(event, KeyVerificationKey):
            await self._on_key(event.transaction_id)
        elif isinstance(event, KeyVerificationMac):
            await self._on_mac(event.transaction_id)
        elif isinstance(event, KeyVerificationCancel):
            self._on_cancel(event.transaction_id, event.reason)

    # ---- request → ready -------------------------------------------------------------------

    async def _on_request(self, sender: str, content: dict[str, Any]) -> None:
        transaction = str(content.get("transaction_id") or "")
        device_id = str(content.get("from_device") or "")
        age = time.time() - float(content.get("timestamp") or 0) / 1000
        if not transaction or not device_id or not -REQUEST_MAX_AHEAD <= age <= REQUEST_MAX_AGE:
            log.info("matrix verification request ignored (stale or malformed)")
            return
        if SAS_METHOD not in (content.get("methods") or []):
            return  # another of the bot's devices may support it: no cancel (the spec's rule)
        if await self._device(sender, device_id) is None:
            await self._send("m.key.verification.cancel", sender, device_id, {
                "transaction_id": transaction, "code": "m.user",
                "reason": "Unknown device"})
            return
        self._forget_stale_flows()
        self._flows[transaction] = _Flow(sender, device_id, requested=True, since=time.time())
        await self._send("m.key.verification.ready", sender, device_id, {
            "transaction_id": transaction, "from_device": self.client.device_id,
            "methods": [SAS_METHOD]})
        log.info("matrix verification request answered", extra={"fields": {
            "device": device_id}})

    async def _device(self, user_id: str, device_id: str) -> Any:
        """The person's device, its keys fetched first when the bot does not know it yet."""
        devices = self.client.device_store.active_user_devices(user_id)
        device = next((d for d in devices if d.id == device_id), None)
        if device is None and self.client.olm is not None:
            self.client.olm.users_for_key_query.add(user_id)
            await self.client.keys_query()
            devices = self.client.device_store.active_user_devices(user_id)
            device = next((d for d in devices if d.id == device_id), None)
        return device

    # ---- start → accept, key → emoji -------------------------------------------------------

    async def _on_start(self, event: KeyVerificationStart) -> None:
        transaction = event.transaction_id
        sas = self.client.key_verifications.get(transaction)
        if sas is None and await self._device(event.sender, event.from_device) is not None:
            # nio drops a start from a device it did not know yet: now it does.
            self.client.olm.handle_key_verification(event)
            sas = self.client.key_verifications.get(transaction)
        if sas is None or sas.canceled:
            return  # nio already queued the cancellation (unknown method)
        sas._max_age = self.sas_timeout          # noqa: SLF001 - per-verification limits
        sas._max_event_timeout = self.sas_timeout  # noqa: SLF001
        flow = self._flows.get(transaction)
        if flow is None or (flow.user_id, flow.device_id) != (event.sender, event.from_device):
            # A start without a request: the older way, still to be handled.
            self._flows[transaction] = _Flow(event.sender, event.from_device,
                                             requested=False, since=time.time())
        await self.client.accept_key_verification(transaction)

    async def _on_key(self, transaction: str) -> None:
        sas = self.client.key_verifications.get(transaction)
        flow = self._flows.get(transaction)
        if sas is None or flow is None or sas.canceled or sas.established_sas is None:
            return
        # nio queued the bot's own key: it must reach the person before the bot's MAC.
        await self.client.send_to_device_messages()
        emoji = [symbol for symbol, _name in sas.get_emoji()]
        assert self.verifications is not None
        accept = await self.verifications.accepts_at_once("matrix", flow.user_id,
                                                          flow.device_id)
        self.verifications.shown(flow.user_id, flow.device_id, emoji, accepted=accept)
        log.info("matrix verification emoji shown", extra={"fields": {
            "device": flow.device_id, "accepted": accept}})
        if accept:
            await self._confirm(transaction)

    # ---- the admin's decision, MACs, done ----------------------------------------------------

    def _on_decision(self, user_id: str, device_id: str, approved: bool) -> None:
        transaction = next((t for t, f in self._flows.items() if not f.finished
                            and (f.user_id, f.device_id) == (user_id, device_id)), None)
        if transaction is None:
            return
        step = self._confirm(transaction) if approved else self._reject(transaction)
        task = asyncio.get_running_loop().create_task(step)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _confirm(self, transaction: str) -> None:
        flow = self._flows.get(transaction)
        if flow is None or flow.confirmed:
            return
        flow.confirmed = True
        try:
            await self.client.confirm_short_auth_string(transaction)
        except LocalProtocolError:
            log.info("matrix verification ended before it was confirmed")
            return
        await self._finish_if_verified(transaction)

    async def _reject(self, transaction: str) -> None:
        try:
            await self.client.cancel_key_verification(transaction, reject=True)
        except LocalProtocolError:
            pass  # already over
        self._on_cancel(transaction, "Mismatched short authentication string")

    async def _on_mac(self, transaction: str) -> None:
        sas = self.client.key_verifications.get(transaction)
        if sas is not None and sas.canceled:
            self._on_cancel(transaction, sas.cancel_reason)  # nio queued the cancel itself
            return
        await self._finish_if_verified(transaction)

    async def _finish_if_verified(self, transaction: str) -> None:
        sas: Sas | None = self.client.key_verifications.get(transaction)
        flow = self._flows.get(transaction)
        if sas is None or flow is None or flow.finished or not sas.verified:
            return
        flow.finished = True
        device = sas.other_olm_device
        self.client.verify_device(device)
        # Room keys already shared left this device out (verified_only): new ones include it.
        for room in list(self.client.rooms.values()):
            if flow.user_id in room.users and room.encrypted:
                self.client.invalidate_outbound_session(room.room_id)
        if flow.requested:
            await self._send("m.key.verification.done", flow.user_id, flow.device_id,
                             {"transaction_id": transaction})
        assert self.verifications is not None
        self.verifications.finished(flow.user_id, flow.device_id, verified=True)
        log.info("matrix device verified", extra={"fields": {
            "device": flow.device_id}})

    def _on_cancel(self, transaction: str, reason: str) -> None:
        flow = self._flows.pop(transaction, None)
        if flow is None or flow.finished:
            return
        assert self.verifications is not None
        self.verifications.finished(flow.user_id, flow.device_id, verified=False,
                                    reason=reason)
        log.info("matrix verification cancelled", extra={"fields": {
            "device": flow.device_id, "reason": reason}})

    # ---- helpers ---------------------------------------------------------------------------

    async def _send(self, event_type: str, user_id: str, device_id: str,
                    content: dict[str, Any]) -> None:
        await self.client.to_device(ToDeviceMessage(event_type, user_id, device_id, content))

    def _forget_stale_flows(self) -> None:
        now = time.time()
        for transaction, flow in list(self._flows.items()):
            if flow.finished or now - flow.since > REQUEST_MAX_AGE:
                del self._flows[transaction]
        while len(self._flows) >= MAX_REQUESTS:
            del self._flows[next(iter(self._flows))]

    async def stop(self) -> None:
        """Verifications in progress end with the transport (their keys live in its client):
        an admin asked afterwards is told they are over, not shown emoji nobody can confirm."""
        if self.verifications is not None:
            self.verifications.unlisten(self._on_decision)
            for transaction in list(self._flows):
                self._on_cancel(transaction, "The bot stopped")
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
