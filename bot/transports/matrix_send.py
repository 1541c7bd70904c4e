"""Sending for the Matrix transport: a reply as a notice (with keycap reactions for its choices)
and its file, each event with a stable transaction id, retried by the `matrix.send` policy.

A rate limit (`M_LIMIT_EXCEEDED`) longer than the policy waits out is handed back to the
caller with its `retry_after`, so that the outbox pauses the platform."""
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import io
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from collections.abc import Awaitable, Callable, Iterator

from bot.messages import Attachment, Reply
from bot.retry import Retry
from bot.transports.matrix_format import KEYCAPS, render_notice, transaction_id

if TYPE_CHECKING:
    from nio import MatrixRoom

    from bot.transports.matrix import MatrixTransport

PERMANENT_CODES = {"M_FORBIDDEN", "M_NOT_FOUND"}


@dataclass
class _Answering:
    event_id: str
    sent: int = 0


# The event being answered, so that `send` can derive stable transaction ids for its replies.
_answering: contextvars.ContextVar[_Answering | None] = contextvars.ContextVar(
    "coordbot_matrix_answering", default=None)


@contextlib.contextmanager
def answering(event_id: str) -> Iterator[None]:
    """Replies sent inside get transaction ids derived from the event they answer."""
    token = _answering.set(_Answering(event_id))
    try:
        yield
    finally:
        _answering.reset(token)


class SendFailed(Exception):
    def __init__(self, reason: str, *, permanent: bool = False,
                 retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


def transaction_base(idempotency_key: str | None) -> str:
    if idempotency_key:
        return transaction_id("outbox", idempotency_key)
    current = _answering.get()
    if current is not None:
        current.sent += 1
        return transaction_id("reply", current.event_id, str(current.sent))
    return transaction_id("adhoc", os.urandom(16).hex())


def classify_response(error: BaseException | None, response: Any) -> Retry | None:
    """Network errors, 5xx and M_LIMIT_EXCEEDED (after `retry_after_ms`) are retried."""
    if error is not None:
        return Retry()   # aiohttp/OS errors while the server is away
    result = response[0] if isinstance(response, tuple) else response
    if getattr(result, "status_code", None) == "M_LIMIT_EXCEEDED":
        return Retry(after=limit_wait(result))
    status = getattr(getattr(result, "transport_response", None), "status", 200)
    return Retry() if status is not None and status >= 500 else None


def limit_wait(response: Any) -> float:
    """Seconds an `M_LIMIT_EXCEEDED` answer asks to wait (one when it does not say)."""
    return (getattr(response, "retry_after_ms", 0) or 1000) / 1000


class RoomSender:
    def __init__(self, transport: MatrixTransport):
        self.transport = transport
        self.policy = transport.retry.send

    async def send_reply(self, room: MatrixRoom, reply: Reply, base: str) -> str | None:
        """Sends `reply` into `room`; returns the id of its first event."""
        state = self.transport.state
        first_id = None
        if reply.text.strip() or reply.choices or reply.attachment is None:
            first_id = await self.send_event(room, "m.room.message", render_notice(reply),
                                             f"{base}.0")
            state.remember_sent(room.room_id, first_id,
                                [[c.label, c.value] for c in reply.choices])
            if reply.choices and len(reply.choices) <= len(KEYCAPS):
                await self._offer_reactions(room, first_id, len(reply.choices), base)
        if reply.attachment is not None:
            file_id = await self._send_file(room, reply.attachment, base)
            state.remember_sent(room.room_id, file_id, [])
            first_id = first_id or file_id
        return first_id

    async def _offer_reactions(self, room: MatrixRoom, event_id: str, count: int,
                               base: str) -> None:
        """Pre-adds the keycap reactions so that answering is one click in Element."""
        for index in range(count):
            content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id,
                                        "key": KEYCAPS[index]}}
            try:
                await self.send_event(room, "m.reaction", content, f"{base}.r{index}")
            except SendFailed:
                return  # the options can still be answered by number or text

    async def _send_file(self, room: MatrixRoom, attachment: Attachment, base: str) -> str:
        from nio import UploadResponse

        client = self.transport.client
        encrypted = bool(room.encrypted)
        uploaded, keys = await self.with_retries(lambda: client.upload(
            io.BytesIO(attachment.content), content_type=attachment.mime_type,
            filename=attachment.filename, encrypt=encrypted, filesize=len(attachment.content)))
        if not isinstance(uploaded, UploadResponse):
            raise _failure(uploaded, "upload failed: ")
        content: dict[str, Any] = {
            "msgtype": "m.image" if attachment.is_image else "m.file",
            "body": attachment.filename, "filename": attachment.filename,
            "info": {"mimetype": attachment.mime_type, "size": len(attachment.content)}}
        if encrypted:
            content["file"] = {"url": uploaded.content_uri, **keys}
        else:
            content["url"] = uploaded.content_uri
        return await self.send_event(room, "m.room.message", content, f"{base}.file")

    async def send_event(self, room: MatrixRoom, event_type: str, content: dict[str, Any],
                         tx_id: str) -> str:
        from nio import RoomSendResponse

        transport = self.transport
        if room.encrypted and not await transport.keys.prepare(room) \
                and transport.is_direct(room):
            # The person's device keys are not known yet (invited, never logged in with
            # encryption): a message now would be unreadable for them; the outbox retries.
            raise SendFailed("waiting for the person's device keys")

        async def attempt() -> Any:
            return await transport.client.room_send(room.room_id, event_type, content,
                                                    tx_id=tx_id, ignore_unverified_devices=True)

        response = await self.with_retries(attempt)
        if isinstance(response, RoomSendResponse):
            return response.event_id
        raise _failure(response)

    async def with_retries(self, call: Callable[[], Awaitable[Any]]) -> Any:
        """A few attempts on network errors, 5xx and M_LIMIT_EXCEEDED; the transaction id
        makes each retry safe. Returns the last response."""
        try:
            return await self.policy.run(call, classify_response,
                                         stopping=lambda: self.transport.stopping)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - aiohttp/OS errors while the server is away
            raise SendFailed(f"homeserver unreachable ({type(exc).__name__})") from exc


def _failure(response: Any, prefix: str = "") -> SendFailed:
    code = getattr(response, "status_code", None)
    limited = code == "M_LIMIT_EXCEEDED"
    return SendFailed(f"{prefix}{code}: {getattr(response, 'message', '')}"[:300],
                      permanent=code in PERMANENT_CODES,
                      retry_after=limit_wait(response) if limited else None)
