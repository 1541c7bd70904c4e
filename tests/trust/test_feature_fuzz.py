"""Hostile input at scale, per feature (hypothesis, derandomized so CI is reproducible):

- the directory search, called directly: SEARCH_EXAMPLES generated queries;
- the reminders time parser `parse_when`, in every locale: WHEN_EXAMPLES generated times;
- every feature command through the real router and database, as a guest and as a
  coordinator: COMMAND_EXAMPLES messages (with random attachments for /import and /forms).

No exception escapes (no handler error is logged, nobody reads "something went wrong"), and a
guest changes nothing in any table except what is theirs to change (their own search history,
pending conversations and language). These counts are the `ci` Hypothesis profile's; the
`dev` profile (the default) runs a quarter of them."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, UTC

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.config import PROJECT_ROOT
from bot.directory.service import DirectoryService
from bot.i18n import LOCALES, Catalogues
from bot.messages import Attachment
from bot.when import WhenError, parse_when
from tests.directory.conftest import SAMPLE
from tests.directory.test_chat import load_sample
from tests.harness import make_bot, property_examples
from tests.trust.snapshots import changed, snapshot
from tests.trust.test_fuzz import _Errors

SEARCH_EXAMPLES = property_examples(10_000)
WHEN_EXAMPLES = property_examples(10_000)
COMMAND_EXAMPLES = property_examples(10_000)
GUEST_SHARE = 0.7
BATCH = 20
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

PLACES = ["Liège", "Luik", "4000", "9000", "Gent", "Eupen", "Bruxelles", "BE-WAL", "62063",
          "Kharkiv", "Київ", "Namur", "Anvers", "Saint-Nicolas", "Sint-Niklaas"]
TOPICS = ["housing", "logement", "huisvesting", "Wohnung", "житло", "leefloon", "CPAS",
          "OCMW", "ÖSHZ", "Arbeit", "work", "school", "Fedasil", "médecin", "психолог"]
TIME_WORDS = ["tomorrow", "demain", "morgen", "завтра", "every", "chaque", "elke", "jeden",
              "кожного", "monday", "lundi", "maandag", "Montag", "понеділка", "at", "à", "om",
              "um", "о", "9:00", "9h", "09.30", "17u", "25:99", "0:00", "in", "dans", "over",
              "2 minutes", "3 days", "weeks", "month", "first", "2nd", "last", "tuesday",
              "of", "the", "2026-03-10", "10/03/2026", "31/02/2026", "29 February", "before",
              "skip holidays", "1 hour before", "999999999", "-1", "every 0 days", ";", ",",
              "weekday", "weekend", "noon", "midnight", "DST", "2026-03-29 02:30", "T", "Z"]
SYMBOLS = ["", ";", ";;", ",", "@", ":", "`", "**", "_", "%s", "{0}", "{name}", "'", '"',
           "\\", "<b>", "=1+1", "\u202e", "\u0000", "\ufeff", "🇧🇪", "ß", "İ", "ǅ", "\n", "\t"]

awkward = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
from_words = lambda words: st.lists(st.one_of(st.sampled_from(words + SYMBOLS), awkward,  # noqa: E731
                                              st.integers(-10**6, 10**9).map(str)),
                                    max_size=7).map(" ".join)
queries = st.one_of(from_words(PLACES + TOPICS), awkward, st.text(max_size=300))
times = st.one_of(from_words(TIME_WORDS), awkward,
                  st.builds("{} {}:{:02d}".format, st.sampled_from(TIME_WORDS),
                            st.integers(-5, 30), st.integers(0, 99)))


def _batches(examples: int):
    return settings(max_examples=max(1, -(-examples // BATCH)), deadline=None, database=None,
                    derandomize=True, suppress_health_check=list(HealthCheck),
                    phases=[Phase.generate])  # no shrinking: a failing batch is printed


@pytest.mark.slow
def test_directory_search_never_fails(sample_index):
    service = DirectoryService(PROJECT_ROOT / "data")
    service.index = sample_index
    tried = []

    @_batches(SEARCH_EXAMPLES)
    @given(st.lists(st.tuples(queries, st.sampled_from([None, *LOCALES]),
                              st.integers(0, 5)), min_size=BATCH, max_size=BATCH))
    def search_all(cases):
        for text, language, offset in cases:
            tried.append(text)
            outcome = service.search(text, limit=3, language=language, offset=offset)
            assert len(outcome.results) <= 3

    search_all()
    assert len(tried) >= SEARCH_EXAMPLES


@pytest.mark.slow
def test_time_parser_never_fails_in_any_locale():
    catalogues = Catalogues(PROJECT_ROOT / "locales")
    tried = []

    @_batches(WHEN_EXAMPLES)
    @given(st.lists(st.tuples(times, st.sampled_from(LOCALES),
                              st.sampled_from(["Europe/Brussels", "Europe/Kyiv", "UTC"])),
                    min_size=BATCH, max_size=BATCH))
    def parse_all(cases):
        for text, locale, tz in cases:
            tried.append(text)
            with catalogues.use(locale):
                try:
                    when = parse_when(text, locale, tz, NOW)
                except WhenError as problem:
                    assert str(problem)  # a translated explanation, never empty
                    continue
                when.recurrence().next_occurrences(NOW, 2)  # usable, not just parsed

    parse_all()
    assert len(tried) >= WHEN_EXAMPLES


# ---- feature commands through the router ---------------------------------------------------

COMMANDS = ["remind", "meeting", "deadline", "broadcast", "edit", "cancel", "skip", "acks",
            "rounds", "results", "export", "away", "checkin", "who", "entry", "import",
            "forms", "more", "verify", "reminders", "ack", "calendar"]
ARG_WORDS = (TIME_WORDS + PLACES + TOPICS + [
    "R1", "R2", "r1", "#1", "R999999999999", "open", "close", "add", "edit", "clear", "all",
    "here", "role:focal_point", "role:king", "org:cpas-liege", "area:BE-WAL", "area:XX",
    "@bob", "@alice", "@nobody", "console:bob", "weekly_local", "monthly_regional", "1", "2",
    "replace", "skip-invalid", "ok", "changes", "cpas-liege", "yes", "no", "done",
    "20260310T090000Z", "2026-12-24", "2027-01-02", "24/12/2026"])
arguments = from_words(ARG_WORDS)
command_text = st.builds(lambda name, sep, args: f"/{name}{sep}{args}",
                         st.sampled_from(COMMANDS), st.sampled_from([" ", "  ", "\n"]),
                         st.one_of(arguments, arguments.map(lambda a: a.replace(" ", "; ")),
                                   awkward))
answer_text = st.sampled_from(["1", "2", "yes", "no", "Confirm", "/skip", "/back", "/cancel"])
CSV_BYTES = SAMPLE.read_bytes()
attachments = st.one_of(
    st.none(), st.none(),
    st.builds(Attachment, st.sampled_from(["d.csv", "f.yaml", "f.xlsx", "x.exe", ""]),
              st.one_of(st.binary(max_size=300), st.just(CSV_BYTES[:2000]),
                        st.just(CSV_BYTES.replace(b"cpas-liege", b"=cmd|' /C calc'!A0")),
                        st.just(b"id,organisation\n=1+1,@SUM(A1)\n"),
                        st.just(b"form_id: x\nquestions: [{name: q, type: integer}]\n"))))
GUESTS = ["mallory", "trudy"]
MINE = {"directory_last_queries", "conversations"}  # a guest's own, created by any search


def _guest_may_change(guest_ids):
    def keep(table: str, values: dict) -> bool:
        if table == "users" and values["id"] in guest_ids:
            values.pop("locale", None)
        if table == "reminder_schedules":  # a guest's own reminders to themselves
            return values["owner_id"] not in guest_ids
        return True
    return keep


async def _prepare(bot) -> set[int]:
    await load_sample(bot)
    for name in ["bob", "cora", "fred", *GUESTS]:
        await bot.say("/whoami", as_=name)
    await bot.say("/role cora coordinator", as_="alice")
    await bot.say("/role fred focal_point", as_="alice")
    await bot.say("/meeting every monday 10:00; Team; all", as_="alice")
    await bot.say("1", as_="alice")
    await bot.say("/rounds open weekly_local; 2026-03-06 17:00; all", as_="alice")
    await bot.say("1", as_="alice")
    async with bot.services.db.session() as session:
        return {(await bot.services.people.identity(session, "console", g)).user_id
                for g in GUESTS}


def _run(tmp_path, database_url, examples: int, senders: list[str], guest: bool) -> int:
    loop = asyncio.new_event_loop()
    errors = _Errors()
    logging.getLogger("coordbot").addHandler(errors)
    bot = loop.run_until_complete(make_bot(tmp_path, database_url, admins=["console:alice"]))
    tried = []
    try:
        guest_ids = loop.run_until_complete(_prepare(bot))
        keep = _guest_may_change(guest_ids)
        before = loop.run_until_complete(snapshot(bot, skip_tables=MINE, row_filter=keep))

        @_batches(examples)
        @given(st.lists(st.tuples(st.one_of(command_text, command_text, command_text,
                                            answer_text), attachments,
                                  st.integers(0, 99), st.booleans()),
                        min_size=BATCH, max_size=BATCH))
        def some_messages(messages):
            for text, attachment, who, in_group in messages:
                tried.append(text)
                replies = loop.run_until_complete(bot.say(
                    text, as_=senders[who % len(senders)], attachment=attachment,
                    chat="group1" if in_group else None))
                assert not errors.records, (text, errors.records[0].getMessage())
                assert all("something went wrong" not in r.text for r in replies), text
            if guest:
                after = loop.run_until_complete(snapshot(
                    bot, skip_tables=MINE, row_filter=keep, ignore_chats={"console:group1"}))
                assert changed(before, after) == [], messages

        some_messages()
        return len(tried)
    finally:
        logging.getLogger("coordbot").removeHandler(errors)
        loop.run_until_complete(bot.close())
        loop.close()


@pytest.mark.slow
def test_feature_commands_as_a_guest_never_crash_nor_change_state(tmp_path, database_url):
    examples = int(COMMAND_EXAMPLES * GUEST_SHARE)
    assert _run(tmp_path, database_url, examples, GUESTS, True) >= examples


@pytest.mark.slow
def test_feature_commands_as_a_coordinator_never_crash(tmp_path, database_url):
    examples = COMMAND_EXAMPLES - int(COMMAND_EXAMPLES * GUEST_SHARE)
    assert _run(tmp_path, database_url, examples, ["cora"], False) >= examples
