"""Reminder tests read like conversations; messages the bot sends on its own (through the
outbox) land in a recording transport, as a person in that chat would see them."""
from __future__ import annotations

import pytest

from tests.harness import RecordingTransport


@pytest.fixture
def inbox(bot) -> RecordingTransport:
    transport = RecordingTransport()
    bot.services.transports.add(transport)
    return transport
