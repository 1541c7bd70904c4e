"""The pacing and the splitting, without a server: a virtual clock, no timing asserts."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.markup import to_plain
from bot.transports.telegram_format import MAX_TEXT, split_markup, telegram_length, render
from bot.transports.telegram_limits import RateLimiter
from tests.harness import property_examples


class VirtualTime:
    def __init__(self):
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


def limiter(time: VirtualTime) -> RateLimiter:
    return RateLimiter(per_second=30, group_per_minute=20, clock=time.clock, sleep=time.sleep)


async def test_private_chats_go_out_at_thirty_a_second():
    time = VirtualTime()
    pace = limiter(time)
    moments = []
    for chat in range(1, 91):
        await pace.acquire(chat)
        moments.append(time.now)
    # never more than 30 in any one second, and no slower than that either
    assert all(moments[i + 30] - moments[i] >= 1 - 1e-9 for i in range(60))
    assert abs(moments[-1] - 89 / 30) < 1e-9


async def test_a_group_gets_twenty_messages_a_minute():
    time = VirtualTime()
    pace = limiter(time)
    moments = []
    for _ in range(41):
        await pace.acquire(-100)
        moments.append(time.now)
    assert all(moments[i + 20] - moments[i] >= 60 - 1e-9 for i in range(21))
    assert moments[19] < 1


async def test_flood_control_pauses_only_the_chat_concerned():
    time = VirtualTime()
    pace = limiter(time)
    pace.pause(7, 5)
    await pace.acquire(8)
    assert time.now < 1
    await pace.acquire(7)
    assert time.now >= 5


def test_short_text_is_one_message():
    assert split_markup("Hello **you**") == ["Hello **you**"]
    assert split_markup("") == []


def test_split_prefers_paragraphs_then_lines():
    paragraph = "word " * 500
    pieces = split_markup(f"{paragraph}\n\n{paragraph}\n\n{paragraph}")
    assert len(pieces) == 3 and all(p.strip() == paragraph.strip() for p in pieces)


@settings(max_examples=property_examples(60), deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("ab <>&*_`\nїé😀"), max_size=900),
                min_size=1, max_size=12))
def test_every_piece_fits_and_nothing_is_lost(chunks):
    text = "".join(chunk * 3 for chunk in chunks)
    pieces = split_markup(text, limit=MAX_TEXT)
    assert all(telegram_length(render(piece)[0]) <= MAX_TEXT for piece in pieces)
    assert _squeezed("".join(pieces)) == _squeezed(text)


def _squeezed(text: str) -> str:
    """The visible characters, whatever markup or whitespace the cuts changed."""
    return "".join(to_plain(text).split()).translate(str.maketrans("", "", "*_`"))


def test_buttons_carry_the_value_or_the_number_when_too_long_for_telegram():
    from bot.messages import Choice
    from bot.transports.telegram_send import keyboard_of

    long_value = "organisation:" + "é" * 40          # 93 bytes: over Telegram's 64
    markup = keyboard_of([Choice("Yes", "yes"), Choice("CPAS Liège", long_value)])
    data = [row[0].callback_data for row in markup.inline_keyboard]
    assert data == ["yes", "2"]                       # handlers accept a choice's number
    assert keyboard_of([]) is None
