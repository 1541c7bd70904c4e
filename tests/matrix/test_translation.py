"""The Matrix transport's pure parts, without a homeserver: rendering, reactions, allow list,
mentions, backoff, transaction ids, persisted state and configuration."""
from __future__ import annotations

import dataclasses
import random
from pathlib import Path

from bot.config import load_settings
from bot.messages import Choice, Reply
from bot.retry import MATRIX_SEND, MATRIX_SYNC, MatrixRetries, RetryPolicy
from bot.transports.matrix import MatrixTransport
from bot.transports.matrix_format import (choice_for_reaction, is_allowed, render_notice,
                                          strip_mention, strip_reply_fallback, transaction_id)
from bot.transports.matrix_state import MatrixState
from bot.transports.registry import configured_transports

YES_NO = [["Yes", "yes"], ["No", "no"]]


def test_notice_has_plain_body_html_and_numbered_choices():
    content = render_notice(Reply("Send to **all** CPAS?\nReally <now>",
                                  [Choice("Yes", "yes"), Choice("_No_", "no")]))

    assert content["msgtype"] == "m.notice"
    assert content["body"] == "Send to all CPAS?\nReally <now>\n1. Yes\n2. No"
    assert content["formatted_body"] == ("Send to <b>all</b> CPAS?<br>Really &lt;now&gt;"
                                         "<ol><li>Yes</li><li><i>No</i></li></ol>")


def test_reactions_pick_choices():
    three = [["Red", "red"], ["Blue", "blue"], ["Green", "green"]]
    assert choice_for_reaction("2️⃣", three) == "blue"
    assert choice_for_reaction("✅", YES_NO) == "yes"
    assert choice_for_reaction("👎", YES_NO) == "no"
    assert choice_for_reaction("❌", three) is None  # "no" is only meaningful for yes/no
    assert choice_for_reaction("5️⃣", three) is None
    assert choice_for_reaction("🎉", three) is None


def test_allow_list_takes_users_and_servers():
    assert is_allowed("@anyone:matrix.org", [])
    assert is_allowed("@a:gov.be", [":gov.be"])
    assert is_allowed("@b:matrix.org", [":gov.be", "@b:matrix.org"])
    assert not is_allowed("@c:matrix.org", [":gov.be", "@b:matrix.org"])
    assert not is_allowed("@a:evil-gov.be", [":gov.be"])


def test_mentions_are_detected_and_leading_mention_removed():
    names = ["@coordbot:gov.be", "coordbot", "Coordination bot"]
    assert strip_mention("coordbot: housing Liège", names) == ("housing Liège", True)
    assert strip_mention("Coordination bot, /help", names) == ("/help", True)
    assert strip_mention("ask @coordbot:gov.be about it", names)[1]
    assert strip_mention("coordbotanical garden", names) == ("coordbotanical garden", False)
    assert strip_mention("see you at the OCMW", names) == ("see you at the OCMW", False)


def test_reply_fallback_is_removed():
    body = "> <@bot:gov.be> Which colour?\n> 1. Red\n\nBlue"
    assert strip_reply_fallback(body) == "Blue"
    assert strip_reply_fallback("> quoting myself") == "> quoting myself"


def test_backoff_grows_with_jitter_and_stops_at_60_seconds():
    rng = random.Random(7)
    delays = [MATRIX_SYNC.delay(n, rng=rng) for n in range(1, 12)]

    assert 0.5 <= delays[0] <= 1.0
    assert 4.0 <= delays[3] <= 8.0
    assert all(30.0 <= d <= 60.0 for d in delays[7:])
    assert len({round(d, 3) for d in delays}) == len(delays)


def test_transaction_ids_are_stable_per_key():
    assert transaction_id("outbox", "reminder:1") == transaction_id("outbox", "reminder:1")
    assert transaction_id("outbox", "reminder:1") != transaction_id("outbox", "reminder:2")
    assert transaction_id("reply", "$e", "1") != transaction_id("reply", "$e", "2")


def test_state_survives_a_restart_and_stays_bounded(tmp_path: Path):
    state = MatrixState.load(tmp_path / "state.json")
    state.next_batch = "s42"
    for n in range(MatrixState.MAX_HANDLED + 10):
        state.mark_handled(f"$e{n}")
    state.remember_sent("!room:x", "$sent", YES_NO)
    state.direct_rooms.add("!dm:x")
    state.save()

    again = MatrixState.load(tmp_path / "state.json")

    assert again.next_batch == "s42"
    assert len(again.handled) == MatrixState.MAX_HANDLED
    assert "$e9" not in again.handled and f"$e{MatrixState.MAX_HANDLED + 9}" in again.handled
    assert again.choices["$sent"] == YES_NO and again.open_choice == {"!room:x": "$sent"}
    assert again.direct_rooms == {"!dm:x"}
    assert not list(tmp_path.glob(".*.tmp")), "no temporary file left behind"


class _RateLimited:
    status_code = "M_LIMIT_EXCEEDED"
    retry_after_ms = 2500


class _ServerError:
    status_code = None
    transport_response = type("R", (), {"status": 502})()


def _transport(tmp_path: Path, retry: MatrixRetries | None = None,
               **overrides) -> MatrixTransport:
    settings = load_settings(environ={}, data_dir=tmp_path, matrix_homeserver="http://127.0.0.1:9",
                             matrix_user_id="@bot:localhost", matrix_password="pw", **overrides)
    return MatrixTransport(settings, retry=retry)


class _RecordingPolicy(RetryPolicy):
    """The real policy, whose waits are written down instead of slept."""

    slept: list[float]

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


async def test_sync_loop_honours_retry_after_and_backs_off_on_errors(tmp_path):
    transport = _transport(tmp_path)
    try:
        assert 2.5 <= transport._delay_after(_RateLimited()) <= 2.75
        assert transport.sync_failures == 0, "a rate limit is not a failure"
        first = transport._delay_after(_ServerError())
        second = transport._delay_after(None)  # a network error
        third = transport._delay_after(_ServerError())
        assert 0.5 <= first <= 1.0 and 1.0 <= second <= 2.0 and 2.0 <= third <= 4.0
    finally:
        await transport.client.close()


async def test_sends_retry_after_rate_limit_then_give_up(tmp_path):
    policy = _RecordingPolicy(**dataclasses.asdict(MATRIX_SEND))
    slept: list[float] = []
    object.__setattr__(policy, "slept", slept)
    transport = _transport(tmp_path, retry=MatrixRetries(send=policy))
    calls = []

    async def always_limited():
        calls.append(1)
        return _RateLimited()

    try:
        result = await transport.sender.with_retries(always_limited)
    finally:
        await transport.client.close()
    assert isinstance(result, _RateLimited)
    assert len(calls) == 4 and slept == [2.5, 2.5, 2.5]


def test_run_starts_matrix_only_when_configured(tmp_path):
    def transports(**values):
        return [t.platform for t in configured_transports(
            load_settings(environ={}, data_dir=tmp_path, **values))]

    assert transports() == []
    assert transports(matrix_homeserver="https://m.gov.be", matrix_user_id="@bot:gov.be") == []
    assert transports(matrix_homeserver="https://m.gov.be", matrix_user_id="@bot:gov.be",
                      matrix_access_token="syt_x") == ["matrix"]


async def test_typed_answer_to_a_command_choice_becomes_the_command(tmp_path):
    """In a group, `2` under a delivered meeting reminder acts like its 2️⃣ reaction; answers
    to a conversation's own question (no command value) stay as typed."""
    transport = _transport(tmp_path)
    try:
        reminder = [["I'll attend", "/ack R1 20260302T090200Z yes"],
                    ["Can't attend", "/ack R1 20260302T090200Z no"]]
        transport.state.remember_sent("!room", "$reminder", reminder)
        assert transport.reader.open_command_choice("!room", "2") == "/ack R1 20260302T090200Z no"
        assert transport.reader.open_command_choice("!room", "i'll attend") == reminder[0][1]
        assert transport.reader.open_command_choice("!room", "3") is None
        assert transport.reader.open_command_choice("!other", "1") is None
        transport.state.remember_sent("!room", "$preview", [["Confirm", "yes"], ["Cancel", "no"]])
        assert transport.reader.open_command_choice("!room", "1") is None
    finally:
        await transport.client.close()
