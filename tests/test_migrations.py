"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL, and
go back down to nothing."""
from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

import bot
from bot.db import Base, Database
from bot.migrations import current_revision, downgrade, upgrade


def _import_every_model() -> None:
    """Models live beside the code that uses them (a transport's own state tables too)."""
    for module in pkgutil.walk_packages(bot.__path__, "bot."):
        if not module.name.startswith("bot.migrations") and not module.name.endswith("__main__"):
            importlib.import_module(module.name)


def _differences(connection: Connection) -> list[Any]:
    _import_every_model()
    context = MigrationContext.configure(connection, opts={
        "compare_type": True, "compare_server_default": _server_defaults_differ})
    return compare_metadata(context, Base.metadata)


def _server_defaults_differ(_context: object, _inspected_column: object, _metadata_column: object,
                            inspected: str | None, _metadata: object,
                            rendered: str | None) -> bool:
    """Compared as text: Alembic's own comparison asks PostgreSQL whether two `json` values
    are equal, which it cannot answer."""
    return _plain(inspected) != _plain(rendered)


def _plain(default: str | None) -> str | None:
    """`'guest'::character varying`, `('guest')` and `'guest'` are one default."""
    if default is None:
        return None
    without_casts = re.sub(r"::[a-z ]+", "", default.strip())
    return without_casts.strip("()").strip("'")


async def test_migrations_build_the_models_schema_and_go_back_down(database_url: str) -> None:
    db = Database(database_url)
    try:
        await upgrade(db)
        assert await current_revision(db) is not None
        async with db.engine.connect() as connection:
            differences = await connection.run_sync(_differences)
        assert differences == []
        await upgrade(db)  # idempotent
        await downgrade(db, "base")
        async with db.engine.connect() as connection:
            left = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        assert left <= {"alembic_version"}
    finally:
        await db.dispose()
