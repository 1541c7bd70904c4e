"""Property-based hostile input: generated messages thrown at the command parser and, through
the real router and database, at the core and trust commands. Nothing may crash (no handler
error is logged; the user never reads "something went wrong") and a guest's input never
changes anybody's role, organisation, entry or chat identities, nor creates codes or audit
entries. Example counts: PARSER_EXAMPLES pure parses, GUEST_EXAMPLES + ADMIN_EXAMPLES
messages through the harness (10,000 together under the `ci` Hypothesis profile, a quarter
under `dev`). About 1 minute on an idle 2-core machine, mostly SQLite transactions."""
from __future__ import annotations

import asyncio
import logging
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.router import parse_command
from bot.trust.models import AuditEntry
from tests.harness import make_bot, property_examples
from tests.trust.snapshots import snapshot

PARSER_EXAMPLES = 10_000
GUEST_EXAMPLES = property_examples(8_000)
ADMIN_EXAMPLES = property_examples(2_000)
# Everything a guest must not be able to change: tables and their columns (None: every one).
GUARDED: dict[str, set[str] | None] = {
    "users": {"id", "role", "organisation_id", "entry_id", "display_name"},
    "identities": {"id", "user_id", "platform", "platform_user_id"},
    "invitations": {"id", "used_at"},
    "audit_log": None,
}
BATCH = 10  # inputs per hypothesis example: less engine overhead per input
COMMANDS = ["lang", "role", "whoami", "invite", "start", "help", "link", "audit", "mydata"]
GUEST_SENDERS = [("console", "mallory"), ("matrix", "@mallory:evil.example"),
                 ("telegram", "666")]
HANDLES = ["alice", "@alice", "bob", "@bob", "console:alice", "console:bob", "mallory",
           "telegram:666", "matrix:@mallory:evil.example", "@mallory:evil.example", ""]
WORDS = ["admin", "coordinator", "focal_point", "focal-point", "staff", "guest", "ADMIN", "fr",
         "nl", "de", "en", "uk", "ua", "zz", "cpas-liege", "entry-1", "1", "0", "-1", "999999999",
         "AAAA-BBBB-CCCC-DDDD", "aaaa bbbb cccc dddd", "@", ":", ";", "`", "**", "_", "%s",
         "{role}", "{0}", "'", '"', "\\", "../../etc/passwd", "<b>", "=1+1", "yes", "1", "2"]

awkward_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
word = st.one_of(st.sampled_from(WORDS + HANDLES), awkward_text,
                 st.text(alphabet=string.ascii_letters + string.digits + "-_:@.", max_size=30))
arguments = st.lists(word, max_size=5).map(" ".join)
command_word = st.one_of(st.sampled_from(COMMANDS), st.sampled_from([c.upper() for c in COMMANDS]),
                         st.text(alphabet=string.ascii_letters + "_", min_size=1, max_size=12))
command_message = st.builds(lambda prefix, name, suffix, sep, args:
                            f"{prefix}{name}{suffix}{sep}{args}",
                            st.sampled_from(["/", "!", " /", "//", "/ ", "！"]), command_word,
                            st.sampled_from(["", "", "@coordbot", "@", "@x y"]),
                            st.sampled_from([" ", "  ", "\n", "\t", ""]), arguments)
long_message = st.builds(lambda head, n: head + "x" * n, st.sampled_from(["/start ", "/role ", ""]),
                         st.integers(3990, 4010))
message_text = st.one_of(command_message, command_message, command_message, awkward_text,
                         long_message)


def test_command_parser_never_fails():
    tried = []

    @settings(max_examples=-(-PARSER_EXAMPLES // BATCH), deadline=None, database=None)
    @given(st.lists(st.one_of(message_text, st.text(max_size=200)), min_size=BATCH,
                    max_size=BATCH))
    def parse_all(texts):
        for text in texts:
            tried.append(1)
            parsed = parse_command(text)
            if parsed is not None:
                name, args = parsed
                assert name and name == name.lower() and len(name) <= 32
                assert args == args.strip()

    parse_all()
    assert len(tried) >= PARSER_EXAMPLES


class _Errors(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


async def _audit_count(bot) -> int:
    async with bot.services.db.session() as session:
        return await session.scalar(select(func.count()).select_from(AuditEntry))


def _run_fuzz(tmp_path, database_url, examples, sender_for, guest):
    loop = asyncio.new_event_loop()
    errors = _Errors()
    logging.getLogger("coordbot").addHandler(errors)
    bot = loop.run_until_complete(make_bot(tmp_path, database_url, admins=["console:alice"]))
    tried = []
    try:
        for platform, sender in GUEST_SENDERS + [("console", "alice"), ("console", "bob")]:
            loop.run_until_complete(bot.say("/whoami", as_=sender, platform=platform))
        loop.run_until_complete(bot.say("/invite staff cpas-liege", as_="alice"))
        before = loop.run_until_complete(snapshot(bot, only=GUARDED))

        @settings(max_examples=max(1, -(-examples // BATCH)), deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(st.lists(st.tuples(message_text, st.integers(0, 99), st.booleans()),
                        min_size=BATCH, max_size=BATCH))
        def some_messages(messages):
            for text, who, in_group in messages:
                tried.append(text)
                platform, sender = sender_for(who)
                replies = loop.run_until_complete(bot.say(
                    text, as_=sender, platform=platform, chat="group1" if in_group else None))
                assert not errors.records, errors.records[0].getMessage()
                assert all("something went wrong" not in r.text for r in replies)
            if guest:  # every permitted change is audited: a cheap tripwire per batch
                assert loop.run_until_complete(_audit_count(bot)) == before["audit_log"][0]

        some_messages()
        after = loop.run_until_complete(snapshot(bot, only=GUARDED))
        return after, before, len(tried)
    finally:
        logging.getLogger("coordbot").removeHandler(errors)
        loop.run_until_complete(bot.close())
        loop.close()


@pytest.mark.slow
def test_guest_input_never_crashes_nor_changes_anything_it_may_not(tmp_path, database_url):
    after, before, tried = _run_fuzz(tmp_path, database_url, GUEST_EXAMPLES,
                                     lambda who: GUEST_SENDERS[who % len(GUEST_SENDERS)], True)
    assert after == before
    assert tried >= GUEST_EXAMPLES


@pytest.mark.slow
def test_admin_input_never_crashes(tmp_path, database_url):
    _, _, tried = _run_fuzz(tmp_path, database_url, ADMIN_EXAMPLES,
                            lambda who: ("console", "alice"), False)
    assert tried >= ADMIN_EXAMPLES
