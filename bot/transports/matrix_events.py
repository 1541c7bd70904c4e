"""Reading Matrix room events into the neutral `IncomingMessage`: texts (with mentions, replies
and answers to the bot's numbered options), reactions to those options, and files."""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from bot.messages import Attachment, ChatRef, IncomingMessage
from bot.transports.matrix_format import (answers_choice, caption, choice_for_reaction,
                                          command_choice, is_command, reply_target,
                                          strip_mention, strip_reply_fallback)

if TYPE_CHECKING:
    from nio import (MatrixRoom, ReactionEvent, RoomEncryptedMedia, RoomMessageMedia,
                     RoomMessageText)

    from bot.transports.matrix import MatrixTransport

log = logging.getLogger("coordbot.matrix")

MAX_DOWNLOAD = 20 * 1024 * 1024


class EventReader:
    def __init__(self, transport: MatrixTransport):
        self.transport = transport

    @property
    def user_id(self) -> str:
        return self.transport.user_id

    def _base(self, room: MatrixRoom, event: Any, text: str, direct: bool,
              **extra: Any) -> IncomingMessage:
        return IncomingMessage(
            chat=ChatRef("matrix", room.room_id), sender_id=event.sender, text=text,
            is_direct=direct, sender_name=room.user_name(event.sender) or event.sender,
            sender_username=event.sender, message_id=event.event_id, **extra)

    def from_text(self, room: MatrixRoom, event: RoomMessageText,
                  direct: bool) -> IncomingMessage | None:
        content = event.source.get("content", {})
        reply_to = reply_target(content)
        text, addressed = self._addressing(room, content, strip_reply_fallback(event.body or ""),
                                           reply_to)
        if not direct and not (addressed or is_command(text)
                               or self._answers_open_choice(room.room_id, text)):
            return None  # group chatter that is not for the bot
        if not direct:
            # A choice whose value is a command (a reminder's "I'll attend") is for everyone
            # in the room, and nobody has a conversation waiting for "1": typing the number
            # or the label must act like the reaction (or a Telegram button) and send the value.
            text = self.open_command_choice(room.room_id, text) or text
        return self._base(room, event, text.strip(), direct, reply_to=reply_to,
                          addressed=addressed and not direct)

    def _addressing(self, room: MatrixRoom, content: dict[str, Any], text: str,
                    reply_to: str | None) -> tuple[str, bool]:
        """The text without a leading mention of the bot, and whether the bot was addressed:
        named, mentioned (an Element pill), or answered (a reply to its own message)."""
        user_id = self.user_id
        names = [user_id, user_id.partition(":")[0], user_id.partition(":")[0].lstrip("@"),
                 room.user_name(user_id) or ""]
        text, mentioned = strip_mention(text, names)
        mentions = (content.get("m.mentions") or {}).get("user_ids") or []
        formatted = content.get("formatted_body") or ""
        addressed = (mentioned or user_id in mentions or user_id in formatted
                     or (reply_to is not None and reply_to in self.transport.state.sent_events))
        return text, bool(addressed)

    def _open_choices(self, room_id: str) -> list[list[str]]:
        state = self.transport.state
        return state.choices.get(state.open_choice.get(room_id, "")) or []

    def _answers_open_choice(self, room_id: str, text: str) -> bool:
        choices = self._open_choices(room_id)
        return bool(choices) and answers_choice(choices, text)

    def open_command_choice(self, room_id: str, text: str) -> str | None:
        return command_choice(self._open_choices(room_id), text)

    def from_reaction(self, room: MatrixRoom, event: ReactionEvent,
                      direct: bool) -> IncomingMessage | None:
        choices = self.transport.state.choices.get(event.reacts_to)
        if not choices:
            return None
        value = choice_for_reaction(event.key, choices)
        if value is None:
            return None
        return self._base(room, event, value, direct, reply_to=event.reacts_to,
                          addressed=not direct)

    async def from_media(self, room: MatrixRoom, event: RoomMessageMedia | RoomEncryptedMedia,
                         direct: bool) -> IncomingMessage | None:
        content = event.source.get("content", {})
        info = content.get("info") or {}
        reply_to = reply_target(content)
        text, addressed = self._addressing(room, content, caption(content), reply_to)
        command = text.strip() if is_command(text) else ""
        if not direct and not (addressed or command):
            return None  # a file shared in a group, not for the bot
        if int(info.get("size") or 0) > MAX_DOWNLOAD:
            log.info("matrix file too large", extra={"fields": {"room": room.room_id}})
            return None
        data = await self._download(room, event)
        if data is None:
            return None
        filename = content.get("filename") or event.body or "file"
        attachment = Attachment(filename, data,
                                info.get("mimetype") or "application/octet-stream")
        # A command caption ("!import" with the file) is routed as that command.
        return self._base(room, event, command, direct, reply_to=reply_to,
                          attachment=attachment, addressed=not direct)

    async def _download(self, room: MatrixRoom,
                        event: RoomMessageMedia | RoomEncryptedMedia) -> bytes | None:
        from nio import RoomEncryptedMedia
        from nio.crypto.attachments import decrypt_attachment

        downloaded = await self.transport.client.download(mxc=event.url)
        data: Any = getattr(downloaded, "body", None)
        if not isinstance(data, (bytes, bytearray)):
            log.warning("matrix file download failed", extra={"fields": {"room": room.room_id}})
            return None
        if isinstance(event, RoomEncryptedMedia):
            data = await asyncio.to_thread(decrypt_attachment, bytes(data), event.key["k"],
                                           event.hashes["sha256"], event.iv)
        return bytes(data)
