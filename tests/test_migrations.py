from sqlalchemy import inspect

from bot.db import Base, Database
from bot.migrations import current_revision, downgrade, upgrade


async def test_migrations_build_the_models_schema_and_go_back_down(database_url):
    db = Database(database_url)
    try:
        await upgrade(db)
        assert await current_revision(db) is not None
        async with db.engine.connect() as connection:
            tables = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
            columns = {name: set(await connection.run_sync(
                lambda c, n=name: {col["name"] for col in inspect(c).get_columns(n)}))
                for name in Base.metadata.tables}
        assert set(Base.metadata.tables) <= tables
        for name, table in Base.metadata.tables.items():
            assert {c.name for c in table.columns} == columns[name], name
        await upgrade(db)  # idempotent
        await downgrade(db, "base")
        async with db.engine.connect() as connection:
            left = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        assert left <= {"alembic_version"}
    finally:
        await db.dispose()
