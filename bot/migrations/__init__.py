"""Alembic migrations, run in-process: `coordbot db upgrade` and at every start-up."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from bot.db import Database
from bot.locks import migration_lock

HERE = Path(__file__).resolve().parent


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    return config


async def upgrade(db: Database, revision: str = "head") -> None:
    """Several processes starting at once on a new database: one upgrades, the others wait
    for it and then find nothing left to do."""
    async with db.engine.begin() as connection:
        async with migration_lock(connection, db.url):
            await connection.run_sync(_run, "upgrade", revision)


async def downgrade(db: Database, revision: str) -> None:
    async with db.engine.begin() as connection:
        await connection.run_sync(_run, "downgrade", revision)


async def current_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with db.engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision())


def _run(connection, action: str, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    getattr(command, action)(config, revision)
