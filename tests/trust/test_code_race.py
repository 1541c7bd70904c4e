"""A single-use code is redeemed at most once, even when several people send it at the same
instant. Each message runs in its own session on its own database connection, as the
transports deliver them; the rounds give the race several chances."""
from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.people import Identity, User
from bot.trust.models import AuditEntry, Invitation
from tests.trust.helpers import code_in, invite

ROUNDS = 6
RACERS = 3


async def _at_once(bot, text: str, senders: list[str], **kwargs) -> list[str]:
    return list(await asyncio.gather(*(bot.ask(text, as_=name, **kwargs) for name in senders)))


async def test_an_invitation_sent_by_three_people_at_once_registers_one(bot):
    for round_ in range(ROUNDS):
        code = await invite(bot, role="coordinator", org=f"org-{round_}")
        senders = [f"racer{round_}-{n}" for n in range(RACERS)]
        answers = await _at_once(bot, f"/start {code}", senders)
        assert sum("registered as coordinator" in a for a in answers) == 1, answers
        assert sum("not valid" in a for a in answers) == RACERS - 1, answers
        async with bot.services.db.session() as session:
            promoted = await session.scalar(select(func.count()).select_from(User).where(
                User.organisation_id == f"org-{round_}"))
            redeemed = await session.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.action == "invitation.redeem",
                AuditEntry.details["organisation_id"].as_string() == f"org-{round_}"))
        assert (promoted, redeemed) == (1, 1)


async def test_a_link_code_confirmed_by_three_chat_accounts_at_once_links_one(bot):
    fiona = await invite(bot, role="staff")
    await bot.say(f"/start {fiona}", as_="fiona")
    for round_ in range(ROUNDS):
        code = code_in(await bot.ask("/link", as_="fiona"))
        senders = [f"@twin{round_}-{n}:example.org" for n in range(RACERS)]
        for sender in senders:
            assert "fiona" in await bot.ask(f"!start {code}", as_=sender, platform="matrix")
        answers = await _at_once(bot, "1", senders, platform="matrix")
        assert sum("now linked" in a for a in answers) == 1, answers
        async with bot.services.db.session() as session:
            joined = await session.scalar(select(func.count()).select_from(Identity).where(
                Identity.platform_user_id.in_(senders),
                Identity.user_id == select(Identity.user_id).where(
                    Identity.platform_user_id == "fiona").scalar_subquery()))
            used = await session.scalar(select(func.count()).select_from(Invitation).where(
                Invitation.kind == "link", Invitation.used_at.is_not(None)))
        assert joined == 1 and used == round_ + 1
