"""`coordbot health`: is this deployment able to work? For Docker's HEALTHCHECK and systemd.

Checks that the database answers and that every platform account that needs one poller has a
living leader (on PostgreSQL: some instance holds its lease; on SQLite: a `coordbot run`
holds the database). Each check prints one line; any failure makes the exit code non-zero."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from bot.config import Settings
from bot.db import Database, mask_url
from bot.leader import lease_key
from bot.locks import LockFile, sqlite_file


@dataclass
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"


async def run_checks(settings: Settings, leases: list[str]) -> list[Check]:
    db = Database(settings.effective_database_url)
    try:
        try:
            async with db.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - told in one line
            return [Check("database", False, f"{mask_url(db.url)} does not answer "
                                             f"({type(exc).__name__})")]
        checks = [Check("database", True, mask_url(db.url))]
        for lease in leases:
            checks.append(await _leader_check(db, settings, lease))
        return checks
    finally:
        await db.dispose()


async def _leader_check(db: Database, settings: Settings, lease: str) -> Check:
    path = sqlite_file(settings.effective_database_url)
    if path is not None:
        probe = LockFile(path.with_name(path.name + ".run.lock"))
        if probe.acquire(wait=False):
            probe.release()
            return Check(lease, False, "no `coordbot run` is running on this database")
        return Check(lease, True, "receiving (the one `coordbot run` on this database)")
    unsigned = lease_key(lease) % 2 ** 64
    async with db.engine.connect() as connection:
        holders = await connection.scalar(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid::bigint = :high AND objid::bigint = :low AND objsubid = 1"),
            {"high": unsigned >> 32, "low": unsigned & 0xFFFFFFFF})
    if holders:
        return Check(lease, True, "an instance leads and receives")
    return Check(lease, False, "no instance holds the lease: nobody receives messages")
