"""Meeting follow-up tests read like a coordination cycle; what the bot sends on its own lands
in a recording transport."""
from __future__ import annotations

import pytest

from tests.harness import RecordingTransport


@pytest.fixture
def inbox(bot) -> RecordingTransport:
    transport = RecordingTransport()
    bot.services.transports.add(transport)
    return transport
