"""A small directory for tests that place people somewhere: a few entries with known coverage,
and a way to link a person to an entry (or an organisation id) as an invitation would."""
from __future__ import annotations

from sqlalchemy import select

from bot.people import Identity, User

HEADER = ("id,organisation,org_type,service,topics,coverage,languages,matrix,telegram,"
          "status,last_verified\n")
ROWS = [
    "cpas-liege,CPAS de Liège,cpas,Aide sociale,social_aid,62063,fr,,,active,",
    "cpas-eupen,ÖSHZ Eupen,cpas,Sozialhilfe,social_aid,63023,de,,,active,",
    "ocmw-gent,OCMW Gent,cpas,Leefloon,social_aid,44021,nl,,,active,",
    "forem,Forem,regional,Emploi,employment,BE-WAL;-DG,fr,,,active,",
    "fedasil,Fedasil,federal,Accueil,reception,BE,fr;nl,,,active,",
]


def directory_csv(rows: list[str] | None = None) -> bytes:
    return (HEADER + "\n".join(ROWS if rows is None else rows) + "\n").encode("utf-8")


async def load_directory(bot, rows: list[str] | None = None) -> None:
    directory = bot.services.directory
    async with bot.services.db.transaction() as session:
        report = await directory.import_file(session, directory_csv(rows), replace=True)
        assert report.applied, report.problems
    async with bot.services.db.session() as session:
        await directory.refresh(session)


async def link(bot, name: str, *, entry_id: str | None = None,
               organisation_id: str | None = None, platform: str = "console") -> None:
    """Links the person who wrote as `name` to a directory entry or organisation id."""
    async with bot.services.db.transaction() as session:
        identity = await session.scalar(select(Identity).where(
            Identity.platform == platform, Identity.platform_user_id == name))
        user = await session.get(User, identity.user_id)
        user.entry_id, user.organisation_id = entry_id, organisation_id
