"""Where the time of an encrypted direct-chat reply goes, stage by stage, on a real Synapse on
loopback (same set-up as benchmarks/matrix_latency.py: `/whoami`, SQLite, one person).

    .venv/bin/python -m benchmarks.matrix_reply_profile [--messages 40]

The stages are timed by wrapping the objects involved (nothing in the bot changes):
person's send (encrypt + PUT) → Synapse wakes the bot's sync → nio reads the sync (parse,
decrypt) → the transport hands the message over → the core answers → nio encrypts → PUT →
Synapse wakes the person's sync → the person's client has it (parse, decrypt)."""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import io
import pstats
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.matrix_latency import summary
from tests.harness import make_bot
from tests.matrix.people import MatrixPerson
from tests.matrix.synapse import SynapseServer

STAGES = ["person send (encrypt + PUT)", "Synapse → bot's sync returns",
          "nio reads the sync (parse, decrypt)", "transport until the core",
          "core (router, database)", "nio encrypts the reply", "reply PUT",
          "Synapse → person's client has it", "total"]


class Marks:
    """Per message, the moment each step was reached (perf_counter, seconds)."""

    def __init__(self) -> None:
        self.current: dict[str, float] = {}
        self.done: list[dict[str, float]] = []

    def mark(self, name: str) -> None:
        self.current.setdefault(name, time.perf_counter())

    def finish(self) -> None:
        self.done.append(self.current)
        self.current = {}


def _wrap_async(owner: Any, name: str, before: str, after: str, marks: Marks,
                only_if: str | None = None) -> None:
    original = getattr(owner, name)

    async def wrapped(*args: Any, **kwargs: Any) -> Any:
        active = only_if is None or only_if in marks.current
        if active:
            marks.mark(before)
        result = await original(*args, **kwargs)
        if active:
            marks.mark(after)
        return result

    setattr(owner, name, wrapped)


# With --cprofile: the bot's CPU time while it reads a sync and while the core answers.
PROFILES = {"sync": cProfile.Profile(), "core": cProfile.Profile()}


def instrument(transport: Any, app: Any, marks: Marks) -> None:
    client = transport.client
    original_receive = client.receive_response

    async def receive(response: Any) -> None:
        if type(response).__name__ == "SyncResponse" and "put_done" in marks.current \
                and "sync_back" not in marks.current and response.rooms.join:
            marks.mark("sync_back")
            PROFILES["sync"].enable()
            try:
                await original_receive(response)
            finally:
                PROFILES["sync"].disable()
            marks.mark("sync_read")
            return
        await original_receive(response)

    client.receive_response = receive
    # `_receive` is set by start(): call this after the transport started.
    _wrap_async(transport, "_receive", "deliver", "delivered", marks, only_if="sync_read")
    _wrap_async(app, "handle", "core", "core_done", marks, only_if="deliver")
    handle = app.handle

    async def profiled_handle(message: Any) -> Any:
        PROFILES["core"].enable()
        try:
            return await handle(message)
        finally:
            PROFILES["core"].disable()

    app.handle = profiled_handle
    original_encrypt = client.encrypt

    def encrypt(*args: Any, **kwargs: Any) -> Any:
        if "core_done" in marks.current:
            marks.mark("encrypt")
        result = original_encrypt(*args, **kwargs)
        if "core_done" in marks.current:
            marks.mark("encrypted")
        return result

    client.encrypt = encrypt
    _wrap_async(client, "room_send", "send", "sent", marks, only_if="core_done")


def stage_times(m: dict[str, float]) -> dict[str, float]:
    pairs = [("start", "put_done"), ("put_done", "sync_back"), ("sync_back", "sync_read"),
             ("sync_read", "core"), ("core", "core_done"), ("encrypt", "encrypted"),
             ("encrypted", "sent"), ("sent", "arrived"), ("start", "arrived")]
    return {stage: (m[b] - m[a]) * 1000 for stage, (a, b) in zip(STAGES, pairs, strict=True)
            if a in m and b in m}


async def measure(person: MatrixPerson, bot_id: str, room: str, marks: Marks, count: int,
                  warmup: int = 3) -> dict[str, list[float]]:
    stages: dict[str, list[float]] = defaultdict(list)
    for index in range(count + warmup):
        before = len(person.messages_from(bot_id, room))
        await person.keys_known()
        marks.mark("start")
        await person.client.room_send(room, "m.room.message",
                                      {"msgtype": "m.text", "body": "/whoami"},
                                      ignore_unverified_devices=True)
        marks.mark("put_done")
        await person.next_from(bot_id, room, after=before, within=30)
        marks.mark("arrived")
        current = marks.current
        marks.finish()
        if index >= warmup:
            for stage, value in stage_times(current).items():
                stages[stage].append(value)
            stages["SQL statements by the core"].append(current.get("statements", 0))
        await asyncio.sleep(0.05)   # let the bot finish its sync's bookkeeping
    return stages


def print_profiles(top: int = 25) -> None:
    for name, profile in PROFILES.items():
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(top)
        print(f"---- {name}: functions by own time ----")
        print("\n".join(out.getvalue().splitlines()[:top + 12]))


def lighten_nio_store(client: Any, what: str) -> None:
    """The experiment of --light-store: nio no longer writes its copy of the sync token (the
    transport keeps its own in coordbot-state.json; "token"), nor an empty set of encrypted
    rooms ("rooms"): two SQLite writes nio makes on every sync ("both")."""
    if what in ("token", "both"):
        client.config = dataclasses.replace(client.config, store_sync_tokens=False)
    if what not in ("rooms", "both"):
        return
    save = client.store.save_encrypted_rooms

    def save_encrypted_rooms(rooms: Any) -> None:
        if rooms:
            save(rooms)

    client.store.save_encrypted_rooms = save_encrypted_rooms


def count_statements(db: Any, marks: Marks) -> None:
    """SQL statements the core runs per message."""
    from sqlalchemy import event

    def counted(*_args: Any) -> None:
        if "core" in marks.current and "core_done" not in marks.current:
            marks.current["statements"] = marks.current.get("statements", 0) + 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", counted)


async def relax_sqlite(db: Any) -> None:
    """The experiment of --sqlite-normal: `synchronous=NORMAL` (WAL): commits no longer wait
    for an fsync; a power cut (not a crash of the bot) can lose the last transactions."""
    from sqlalchemy import event

    def normal(connection: Any, _record: Any) -> None:
        connection.cursor().execute("PRAGMA synchronous=NORMAL")

    event.listen(db.engine.sync_engine, "connect", normal)
    await db.engine.dispose()   # pooled connections were opened before


async def main(messages: int, profile: bool = False, light_store: str = "",
               sqlite_normal: bool = False) -> None:
    from bot.transports.matrix import MatrixTransport

    base = Path(tempfile.mkdtemp(prefix="coordbot-profile-"))
    server = SynapseServer(base / "synapse")
    server.start()
    harness, person = None, None
    try:
        account = server.register("coordbot")
        harness = await make_bot(base, f"sqlite:///{base / 'bench.sqlite3'}", durable=True,
                                 matrix_homeserver=server.url, matrix_user_id=account.user_id,
                                 matrix_password=account.password,
                                 matrix_store_path=str(base / "matrix-store"))
        transport = MatrixTransport(harness.services.settings)
        marks = Marks()
        await harness.app.serve([transport])  # type: ignore[list-item]
        instrument(transport, harness.app, marks)
        await transport.wait_ready(30)
        if light_store:
            lighten_nio_store(transport.client, light_store)
        count_statements(harness.services.db, marks)
        if sqlite_normal:
            await relax_sqlite(harness.services.db)
        person = MatrixPerson(server.url, server.register("alice"), base / "alice")
        await person.start()
        room = await person.direct_chat(account.user_id, encrypted=True)
        stages = await measure(person, account.user_id, room, marks, messages)
        for stage in STAGES:
            if stages.get(stage):
                print(summary(stage, stages[stage]))
        print(f"SQL statements by the core per message: median "
              f"{statistics.median(stages['SQL statements by the core']):.0f}")
        inside = [c + e + s for c, e, s in zip(stages["core (router, database)"],
                                               stages["nio encrypts the reply"],
                                               stages["reply PUT"], strict=False)]
        print(f"bot's own share (core + encrypt + PUT): median {statistics.median(inside):.1f} ms")
        if profile:
            print_profiles()
    finally:
        if person is not None:
            await person.stop()
        if harness is not None:
            await harness.close()
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=40)
    parser.add_argument("--cprofile", action="store_true",
                        help="also print where the bot's CPU time goes (slows it down)")
    parser.add_argument("--light-store", choices=["token", "rooms", "both"], default="",
                        help="measure without nio's SQLite writes on every sync")
    parser.add_argument("--sqlite-normal", action="store_true",
                        help="measure the core with SQLite's synchronous=NORMAL")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.messages, arguments.cprofile, arguments.light_store,
                     arguments.sqlite_normal))
