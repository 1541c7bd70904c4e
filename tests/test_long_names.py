"""A display name longer than the column (Matrix allows 256 characters) must not lock the person
out on PostgreSQL: it is cut to 200 characters on the way in (issue 11, item 8)."""
from __future__ import annotations

from sqlalchemy import select

from bot.messages import ChatRef, IncomingMessage
from bot.people import Identity


def _from_matrix(text: str, name: str) -> IncomingMessage:
    sender = "@olena:example.org"
    return IncomingMessage(chat=ChatRef("matrix", "!dm:example.org"), sender_id=sender,
                           text=text, is_direct=True, sender_name=name,
                           sender_username=sender, language_hint="uk")


async def test_a_display_name_of_300_characters_is_cut_and_the_person_is_answered(bot):
    name = "Олена " + "Коваленко-" * 30                     # 306 characters
    for attempt in range(2):                               # and again: not locked out
        [reply] = await bot.app.handle(_from_matrix("/whoami", name))
        assert "matrix:@olena:example.org" in reply.plain(), attempt
    async with bot.services.db.session() as session:
        identity = await session.scalar(select(Identity).where(Identity.platform == "matrix"))
        assert identity.user.display_name == name[:200]


def test_a_console_name_over_200_characters_is_refused_before_the_chat(tmp_path, database_url):
    from tests.transports.test_console import _chat

    result = _chat(tmp_path, ["/whoami"], "--as", "marie" * 41)    # 205 characters
    assert result.returncode == 2
    assert "--as" in result.stderr and "200 characters" in result.stderr
    assert "Traceback" not in result.stderr and "something went wrong" not in result.stdout
    fits = _chat(tmp_path, ["/whoami"], "--as", "marie" * 40)        # 200 characters
    assert fits.returncode == 0 and "console:" + "marie" * 40 in fits.stdout
