"""A person on Matrix for the tests: a matrix-nio client with encryption that creates rooms,
writes to the bot and waits for what the bot answers."""
from __future__ import annotations

import asyncio
import io
import time
from typing import Any

from nio import (AsyncClient, AsyncClientConfig, LoginResponse, MegolmEvent, ReactionEvent,
                 RoomCreateResponse, RoomEncryptedMedia, RoomMessage, RoomMessageMedia,
                 RoomSendResponse, UploadResponse)
from nio.crypto.attachments import decrypt_attachment

from tests.matrix.synapse import MatrixAccount

ENCRYPTION = {"type": "m.room.encryption", "state_key": "",
              "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


class MatrixPerson:
    def __init__(self, homeserver: str, account: MatrixAccount, store):
        store.mkdir(parents=True, exist_ok=True)
        self.account = account
        self.user_id = account.user_id
        self.client = AsyncClient(homeserver, account.user_id, store_path=str(store),
                                  config=AsyncClientConfig(
                                      encryption_enabled=True, store_sync_tokens=False,
                                      # reconnect within a second once an outage is over
                                      max_timeout_retry_wait_time=1))
        self.received: list[Any] = []
        self._arrived = asyncio.Condition()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        response = await self.client.login(self.account.password, device_name="test")
        assert isinstance(response, LoginResponse), response
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        self.client.add_event_callback(self._on_event, (RoomMessage, ReactionEvent, MegolmEvent))
        await self.client.sync(timeout=0, full_state=True)
        self._task = asyncio.create_task(self.client.sync_forever(timeout=1000))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        await self.client.close()

    async def _on_event(self, room, event) -> None:
        async with self._arrived:
            self.received.append((room.room_id, event))
            self._arrived.notify_all()

    # ---- rooms ---------------------------------------------------------------------------

    async def direct_chat(self, bot_id: str, *, encrypted: bool = True) -> str:
        response = await self.client.room_create(
            invite=[bot_id], is_direct=True,
            initial_state=[ENCRYPTION] if encrypted else [])
        assert isinstance(response, RoomCreateResponse), response
        await self.wait_joined(response.room_id, bot_id)
        return response.room_id

    async def group(self, invite: list[str], *, encrypted: bool = False,
                    name: str = "Coordination Liège") -> str:
        response = await self.client.room_create(
            name=name, invite=invite, initial_state=[ENCRYPTION] if encrypted else [])
        assert isinstance(response, RoomCreateResponse), response
        return response.room_id

    async def join(self, room_id: str) -> None:
        await self.client.join(room_id)

    async def wait_joined(self, room_id: str, user_id: str, within: float = 20) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            room = self.client.rooms.get(room_id)
            if room and user_id in room.users and user_id not in room.invited_users:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{user_id} did not join {room_id} within {within} s")

    # ---- messages ------------------------------------------------------------------------

    async def keys_known(self) -> None:
        """Like Element: learn new devices (the bot's) before encrypting for them."""
        if self.client.should_query_keys:
            await self.client.keys_query()

    async def say(self, room_id: str, text: str, **extra) -> str:
        await self.keys_known()
        content = {"msgtype": "m.text", "body": text, **extra}
        response = await self.client.room_send(room_id, "m.room.message", content,
                                               ignore_unverified_devices=True)
        assert isinstance(response, RoomSendResponse), response
        return response.event_id

    async def react(self, room_id: str, event_id: str, key: str) -> str:
        await self.keys_known()
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id,
                                    "key": key}}
        response = await self.client.room_send(room_id, "m.reaction", content,
                                               ignore_unverified_devices=True)
        assert isinstance(response, RoomSendResponse), response
        return response.event_id

    async def send_file(self, room_id: str, filename: str, data: bytes, mime: str, *,
                        caption: str | None = None, mentions: list[str] | None = None) -> str:
        await self.keys_known()
        room = self.client.rooms[room_id]
        uploaded, keys = await self.client.upload(io.BytesIO(data), content_type=mime,
                                                  filename=filename, encrypt=room.encrypted,
                                                  filesize=len(data))
        assert isinstance(uploaded, UploadResponse), uploaded
        content = {"msgtype": "m.file", "body": caption or filename, "filename": filename,
                   "info": {"mimetype": mime, "size": len(data)}}
        if mentions is not None:   # Element's pills (m.mentions)
            content["m.mentions"] = {"user_ids": mentions}
        if room.encrypted:
            content["file"] = {"url": uploaded.content_uri, **keys}
        else:
            content["url"] = uploaded.content_uri
        response = await self.client.room_send(room_id, "m.room.message", content,
                                               ignore_unverified_devices=True)
        assert isinstance(response, RoomSendResponse), response
        return response.event_id

    def messages_from(self, sender: str, room_id: str | None = None) -> list:
        return [event for room, event in self.received
                if event.sender == sender and (room_id is None or room == room_id)
                and isinstance(event, (RoomMessage,))]

    async def next_from(self, sender: str, room_id: str, *, after: int = 0,
                        within: float = 20) -> Any:
        """The first message from `sender` in `room_id` beyond the first `after` ones."""
        async def arrived():
            async with self._arrived:
                while True:
                    found = self.messages_from(sender, room_id)
                    if len(found) > after:
                        return found[after]
                    await self._arrived.wait()
        return await asyncio.wait_for(arrived(), within)

    async def ask(self, room_id: str, bot_id: str, text: str, within: float = 20):
        """Sends `text` and returns the bot's next message in that room."""
        before = len(self.messages_from(bot_id, room_id))
        await self.say(room_id, text)
        return await self.next_from(bot_id, room_id, after=before, within=within)

    async def file_content(self, event) -> bytes:
        response = await self.client.download(mxc=event.url)
        data = response.body
        if isinstance(event, RoomEncryptedMedia):
            data = decrypt_attachment(data, event.key["k"], event.hashes["sha256"], event.iv)
        return data


def is_file(event) -> bool:
    return isinstance(event, (RoomMessageMedia, RoomEncryptedMedia))
