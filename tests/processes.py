"""`coordbot run` as separate processes, for the several-instance tests and the soak
benchmark: the environment they start with, starting one, and stopping them all."""
from __future__ import annotations

import asyncio
import os
import signal
import sys


def coordbot_env(**settings) -> dict[str, str]:
    """This process's environment without its COORDBOT_* variables, plus `settings` as
    COORDBOT_NAME=value (`database_url=…` → COORDBOT_DATABASE_URL)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COORDBOT_")}
    env["NO_PROXY"] = "127.0.0.1,localhost"
    env.update({f"COORDBOT_{name.upper()}": str(value) for name, value in settings.items()})
    return env


async def start_run(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL)


async def stop_all(processes: list[asyncio.subprocess.Process], grace: float = 30) -> None:
    """SIGTERM to those still running, then SIGKILL to any that outlive `grace` seconds."""
    for process in processes:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            await asyncio.wait_for(process.wait(), timeout=grace)
        except TimeoutError:
            process.kill()
