"""What the re-verification tests share: the directory rows, running the job, the questions
each platform received. The `vbot` fixture loading these rows is in conftest.py."""
from __future__ import annotations

ROWS = [
    # verified 60 days before the start: due 30 days later
    "cpas-liege,CPAS de Liège,cpas,Aide sociale,social_aid,62063,fr,,,active,2026-01-01",
    "ocmw-gent,OCMW Gent,cpas,Leefloon,social_aid,44021,nl,,jane_fp,active,",
    "forem,Forem,regional,Emploi,employment,BE-WAL;-DG,fr,@fp:example.org,,active,",
    "fedasil,Fedasil,federal,Accueil,reception,BE,fr;nl,,,active,",
    "closed-one,Old office,other,Gone,reception,BE,fr,,jane_fp,closed,",
]


async def run(bot) -> int:
    asked = await bot.services.directory.verification.run_due()
    await bot.services.outbox.deliver_pending()
    return asked


def questions(bot, platform: str = "console") -> list:
    return [(key, reply) for key, reply in bot.sent[platform].sent]
