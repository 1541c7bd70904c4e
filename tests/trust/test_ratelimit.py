from datetime import timedelta

from sqlalchemy import event

from bot.people import User
from bot.trust.ratelimit import RateLimiter, Verdict
from tests.harness import make_bot


def test_bucket_allows_a_burst_then_warns_once_then_drops_until_refilled():
    now = [0.0]
    limiter = RateLimiter(burst=3, per_minute=60, now=lambda: now[0])
    verdicts = [limiter.check("telegram:1") for _ in range(6)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.WARN, Verdict.DROP, Verdict.DROP]
    assert limiter.check("telegram:2") is Verdict.ALLOW
    for _ in range(20):  # the flood goes on: no trickle, no second warning
        now[0] += 0.1
        assert limiter.check("telegram:1") is Verdict.DROP
    now[0] += 1.0  # full again (3 tokens at 1 a second since the warning)
    verdicts = [limiter.check("telegram:1") for _ in range(5)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.WARN, Verdict.DROP]


def test_zero_disables_the_limit():
    limiter = RateLimiter(burst=0, per_minute=60, now=lambda: 0.0)
    assert all(limiter.check("x") is Verdict.ALLOW for _ in range(100))


def test_memory_stays_bounded_under_many_identities():
    now = [0.0]
    limiter = RateLimiter(burst=2, per_minute=60, now=lambda: now[0], max_keys=100)
    for i in range(1000):
        now[0] += 0.001
        limiter.check(f"telegram:{i}")
    assert len(limiter._buckets) <= 100


async def test_flooder_gets_exactly_one_warning_and_others_are_still_answered(
        tmp_path, database_url):
    bot = await make_bot(tmp_path, database_url, admins=["console:alice"],
                         rate_limit_burst=10, rate_limit_per_minute=60)
    try:
        answers = []
        for i in range(1000):
            answers.extend(await bot.say("/whoami", as_="mallory"))
            if i % 100 == 0:
                assert "Role: guest" in await bot.ask("/whoami", as_="bob")
        warnings = [a for a in answers if "faster than I can answer" in a.text]
        assert len(warnings) == 1
        assert len(answers) == 11  # the burst of 10, then one warning, then silence
        assert await bot.count(User) == 2  # mallory and bob; alice never wrote
        bot.clock.advance(timedelta(seconds=5))
        assert await bot.say("/whoami", as_="mallory") == []  # not full yet: still silent
        bot.clock.advance(timedelta(seconds=5))
        assert "Role: guest" in await bot.ask("/whoami", as_="mallory")
    finally:
        await bot.close()


async def test_flood_warning_is_in_the_persons_language(tmp_path, database_url):
    bot = await make_bot(tmp_path, database_url, rate_limit_burst=2, rate_limit_per_minute=60)
    try:
        await bot.say("/lang fr", as_="mallory")
        await bot.say("/whoami", as_="mallory")
        warning = await bot.ask("/whoami", as_="mallory")
        french = bot.services.catalogues.get("fr").gettext(
            "You are sending messages faster than I can answer. I will read your messages "
            "again in a few seconds.")
        assert warning == french
    finally:
        await bot.close()


async def test_dropped_messages_never_touch_the_database(tmp_path, database_url):
    bot = await make_bot(tmp_path, database_url, rate_limit_burst=1, rate_limit_per_minute=60)
    statements = []

    def count(*args):
        statements.append(1)

    try:
        await bot.say("/whoami", as_="mallory")
        await bot.say("/whoami", as_="mallory")  # the warning reads the person's language
        event.listen(bot.services.db.engine.sync_engine, "before_cursor_execute", count)
        for _ in range(100):
            assert await bot.say("/whoami", as_="mallory") == []
        assert statements == []
    finally:
        event.remove(bot.services.db.engine.sync_engine, "before_cursor_execute", count)
        await bot.close()
