"""Small helpers shared by the trust tests."""
from __future__ import annotations

import re

CODE = re.compile(r"(?:LINK-)?[A-Z2-7]{4}(?:-[A-Z2-7]{4}){3}")


def code_in(text: str) -> str:
    match = CODE.search(text)
    assert match, f"no code in {text!r}"
    return match.group(0)


async def invite(bot, role="focal_point", org="cpas-liege", entry="", as_="alice") -> str:
    return code_in(await bot.ask(f"/invite {role} {org} {entry}".strip(), as_=as_))


async def fresh_audit_log(bot, admin: str = "alice") -> None:
    """The bootstrap admin writes once (COORDBOT_ADMINS promotes and audits them), then the log
    is emptied, so that a test sees only what it does itself."""
    from sqlalchemy import delete

    from bot.trust.models import AuditEntry

    await bot.say("/whoami", as_=admin)
    async with bot.services.db.transaction() as session:
        await session.execute(delete(AuditEntry))
