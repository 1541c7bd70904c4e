"""Median time from a person's message to the bot's reply on a real Synapse on loopback, in a
plain and in an encrypted direct chat, next to a plain person-to-person round trip.

    .venv/bin/python -m benchmarks.matrix_latency [--messages 40]

Starts its own Synapse (the test tooling's cached virtualenv) and a bot on a temporary SQLite
database; prints one line per room kind: median, p90 and max in milliseconds."""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from tests.harness import make_bot
from tests.matrix.people import MatrixPerson
from tests.matrix.synapse import SynapseServer


async def round_trips(sender: MatrixPerson, receiver: MatrixPerson, room: str, text: str,
                      count: int, warmup: int = 3) -> list[float]:
    timings = []
    for index in range(count + warmup):
        before = len(receiver.messages_from(_other(sender, receiver), room))
        started = time.perf_counter()
        await sender.say(room, text)
        await receiver.next_from(_other(sender, receiver), room, after=before, within=30)
        if index >= warmup:
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def _other(sender: MatrixPerson, receiver: MatrixPerson) -> str:
    # who we wait for: the bot's answer (receiver is the sender) or the other person
    return receiver.peer if receiver is sender else sender.user_id


def time_inside_bot(transport) -> list[float]:
    """Records, per message, the time from the event's arrival at the bot to its reply being
    accepted by the homeserver (the core's work plus the send)."""
    timings: list[float] = []
    receive = transport._receive  # set by start(): the app's handling and the reply's send

    async def timed(message):
        started = time.perf_counter()
        await receive(message)
        timings.append((time.perf_counter() - started) * 1000)

    transport._receive = timed
    return timings


def summary(label: str, timings: list[float]) -> str:
    ordered = sorted(timings)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return (f"{label:<34} median {statistics.median(ordered):6.1f} ms   p90 {p90:6.1f} ms   "
            f"max {ordered[-1]:6.1f} ms   (n={len(ordered)})")


async def main(messages: int) -> None:
    from bot.transports.matrix import MatrixTransport

    base = Path(tempfile.mkdtemp(prefix="coordbot-bench-"))
    server = SynapseServer(base / "synapse")
    server.start()
    harness = None
    people: list[MatrixPerson] = []
    try:
        account = server.register("coordbot")
        harness = await make_bot(base, f"sqlite:///{base / 'bench.sqlite3'}", durable=True,
                                 matrix_homeserver=server.url, matrix_user_id=account.user_id,
                                 matrix_password=account.password,
                                 matrix_store_path=str(base / "matrix-store"))
        transport = MatrixTransport(harness.services.settings)
        await harness.app.serve([transport])
        inside = time_inside_bot(transport)
        await transport.wait_ready(30)
        for name in ("alice", "bob"):
            person = MatrixPerson(server.url, server.register(name), base / name)
            await person.start()
            people.append(person)
        alice, bob = people
        alice.peer = account.user_id

        plain = await alice.direct_chat(account.user_id, encrypted=False)
        secret = await alice.direct_chat(account.user_id, encrypted=True)
        between = await alice.group([bob.user_id])
        await bob.join(between)
        await alice.wait_joined(between, bob.user_id)

        print(summary("person → person, plain (baseline)",
                      await round_trips(alice, bob, between, "hello", messages)))
        for label, room in (("plain", plain), ("encrypted", secret)):
            inside.clear()
            print(summary(f"person → bot → person, {label}",
                          await round_trips(alice, alice, room, "/whoami", messages)))
            print(summary(f"  inside the bot (core + send), {label}", inside[3:]))
    finally:
        for person in people:
            await person.stop()
        if harness is not None:
            await harness.close()
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=40)
    asyncio.run(main(parser.parse_args().messages))
