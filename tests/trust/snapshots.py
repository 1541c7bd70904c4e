"""A fingerprint of the whole database: per table, its row count and a hash of its rows, so a
test can say "this changed nothing in ANY table"."""
from __future__ import annotations

import hashlib

from sqlalchemy import select

from bot.db import Base

# Touched by every message, whoever sends it: when a chat was last seen.
VOLATILE_COLUMNS = {("chats", "last_seen")}


async def snapshot(bot, *, ignore_users=frozenset(), ignore_chats=frozenset(),
                   skip_tables=frozenset(), row_filter=None) -> dict[str, tuple[int, str]]:
    """`ignore_users`/`ignore_chats`: rows of people who wrote for the first time (their own
    guest account, identity and chat) are left out; `row_filter(table, row)` may drop rows
    a sender is allowed to change (their own search history, say)."""
    found = {}
    async with bot.services.db.session() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in skip_tables:
                continue
            columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE_COLUMNS]
            rows = [tuple(row) for row in await session.execute(select(*columns))]
            names = [c.name for c in columns]
            kept = []
            for row in rows:
                values = dict(zip(names, row))
                if _ignored(table.name, values, ignore_users, ignore_chats):
                    continue
                if row_filter is not None and not row_filter(table.name, values):
                    continue
                kept.append(repr(row))
            kept.sort()
            found[table.name] = (len(kept), hashlib.sha256("\n".join(kept).encode()).hexdigest())
    return found


def _ignored(table: str, values: dict, users, chats) -> bool:
    if table == "users":
        return values["id"] in users
    if table == "identities":
        return values["user_id"] in users
    if table == "chats":
        return values["key"] in chats
    return False


def changed(before: dict, after: dict) -> list[str]:
    return sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))
