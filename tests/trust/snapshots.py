"""The one snapshot of the database the tests compare: per table, its row count and a hash of
its rows, so a test can say "this changed nothing in ANY table" (or in the tables and columns
it names)."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping
from typing import Any

from sqlalchemy import Column, select

from bot.db import Base

# Touched by every message, whoever sends it: when a chat was last seen.
VOLATILE_COLUMNS = {("chats", "last_seen")}

Snapshot = dict[str, tuple[int, str]]
RowFilter = Callable[[str, dict[str, Any]], bool]


async def snapshot(bot: Any, *, only: Mapping[str, Collection[str] | None] | None = None,
                   ignore_users: Collection[int] = frozenset(),
                   ignore_chats: Collection[str] = frozenset(),
                   skip_tables: Collection[str] = frozenset(),
                   row_filter: RowFilter | None = None) -> Snapshot:
    """`only`: just these tables, each with just the named columns (None: all of them);
    `ignore_users`/`ignore_chats`: rows of people who wrote for the first time (their own
    guest account, identity and chat) are left out; `row_filter(table, row)` may drop rows
    a sender is allowed to change (their own search history, say)."""
    _check_names(only)
    found = {}
    async with bot.services.db.session() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in skip_tables or (only is not None and table.name not in only):
                continue
            columns = _compared_columns(table.name, list(table.columns), only)
            names = [c.name for c in columns]
            kept = []
            for row in await session.execute(select(*columns)):
                values = dict(zip(names, row, strict=True))
                if _ignored(table.name, values, ignore_users, ignore_chats):
                    continue
                if row_filter is not None and not row_filter(table.name, values):
                    continue
                kept.append(repr(tuple(row)))
            kept.sort()
            found[table.name] = (len(kept), hashlib.sha256("\n".join(kept).encode()).hexdigest())
    return found


def _check_names(only: Mapping[str, Collection[str] | None] | None) -> None:
    """A misspelt or renamed table or column would silently stop being compared."""
    for table, columns in (only or {}).items():
        assert table in Base.metadata.tables, f"no table {table!r}"
        known = {c.name for c in Base.metadata.tables[table].columns}
        assert not set(columns or ()) - known, f"no column {set(columns or ()) - known} in {table}"


def _compared_columns(table: str, columns: list[Column[Any]],
                      only: Mapping[str, Collection[str] | None] | None) -> list[Column[Any]]:
    named = None if only is None else only[table]
    return [c for c in columns if (table, c.name) not in VOLATILE_COLUMNS
            and (named is None or c.name in named)]


def _ignored(table: str, values: dict[str, Any], users: Collection[int],
             chats: Collection[str]) -> bool:
    if table == "users":
        return values["id"] in users
    if table == "identities":
        return values["user_id"] in users
    if table == "chats":
        return values["key"] in chats
    return False


def changed(before: Snapshot, after: Snapshot) -> list[str]:
    return sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))
