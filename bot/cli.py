"""The `coordbot` command line."""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.config import ConfigError, Settings, load_settings, unknown_variables

if TYPE_CHECKING:
    from aiohttp import web

    from bot.bootstrap import App


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coordbot", description="Coordination assistant for the services supporting "
        "people displaced from Ukraine in Belgium.")
    parser.add_argument("--config", type=Path, help="TOML settings file (environment wins)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    chat = commands.add_parser("chat", help="talk to the bot in this terminal (console transport)")
    chat.add_argument("--as", dest="user", default="console", type=_console_name,
                      help="your console user name")
    chat.add_argument("--lang", default=None, help="your language hint (fr, nl, de, en, uk)")
    chat.set_defaults(func=run_chat)

    run = commands.add_parser("run",
                              help="run the bot on the configured Telegram/Matrix transports")
    run.set_defaults(func=run_bot)

    health = commands.add_parser("health", help="exit non-zero when the database or a "
                                 "platform's receiving instance is down")
    health.set_defaults(func=health_check)

    db = commands.add_parser("db", help="database tasks")
    db_commands = db.add_subparsers(dest="db_command", metavar="TASK", required=True)
    db_commands.add_parser("upgrade", help="apply the migrations").set_defaults(func=db_upgrade)

    config = commands.add_parser("config", help="configuration tasks")
    config_commands = config.add_subparsers(dest="config_command", metavar="TASK", required=True)
    config_commands.add_parser("check", help="print the effective settings, secrets masked"
                               ).set_defaults(func=config_check)

    for register in _feature_clis():
        register(commands)
    return parser


def _console_name(text: str) -> str:
    """The console name is also the identity's id: kept within what every database stores."""
    from bot.people import NAME_LIMIT

    name = text.strip()
    if not name or len(name) > NAME_LIMIT:
        raise argparse.ArgumentTypeError(f"a name of 1 to {NAME_LIMIT} characters")
    return name


def _feature_clis() -> list[Callable[[Any], None]]:
    from bot.directory.cli import register as directory
    return [directory]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for warning in unknown_variables():
        print(f"coordbot: warning: {warning}", file=sys.stderr)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"coordbot: invalid configuration: {exc}", file=sys.stderr)
        return 2
    from bot.logs import configure_logging, hide
    configure_logging(settings.log_level)
    hide(*settings.secret_values())
    try:
        return args.func(settings, args) or 0
    except KeyboardInterrupt:
        return 130
    except StartupError as exc:
        print(f"coordbot: {exc}", file=sys.stderr)
        return 1


class StartupError(RuntimeError):
    """A problem that stops start-up, told in one line."""


async def start_app(settings: Settings) -> App:
    from bot.bootstrap import build_app
    app = build_app(settings)
    try:
        await app.start()
    except Exception as exc:  # noqa: BLE001 - any failure here is told in one line
        await app.services.db.dispose()
        raise StartupError(describe_startup_failure(settings, exc)) from None
    return app


def prepare_data_dir(settings: Settings) -> None:
    """Creates COORDBOT_DATA_DIR, or stops with one line that names it and says why."""
    import os

    where = settings.data_dir
    try:
        where.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise StartupError(f"the data directory {where} (COORDBOT_DATA_DIR) is a file, "
                           "not a directory") from None
    except OSError as exc:
        raise StartupError(f"cannot create the data directory {where} (COORDBOT_DATA_DIR): "
                           f"{exc.strerror or type(exc).__name__}") from None
    if not os.access(where, os.W_OK | os.X_OK):
        raise StartupError(f"the data directory {where} (COORDBOT_DATA_DIR) is not writable "
                           "by this user")


def describe_startup_failure(settings: Settings, exc: Exception) -> str:
    from bot.db import mask_url
    url = mask_url(settings.effective_database_url)
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, (OSError, ConnectionError)) or "connect" in text.lower() \
            or "unable to open" in text.lower():
        return f"cannot open the database {url}: {text}"
    return f"start-up failed ({type(exc).__name__}): {text}"


def run_chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.logs import set_level
    from bot.router import file_commands
    from bot.transports.console import ConsoleTransport
    from bot.welcome import console_welcome

    if settings.log_level.upper() == "INFO":
        # The log shares the terminal with the conversation: only problems, unless asked.
        set_level(logging.WARNING)

    prepare_data_dir(settings)

    async def chat() -> None:
        app = await start_app(settings)
        console = ConsoleTransport(user=args.user, language=args.lang,
                                   files_dir=settings.data_dir / "files",
                                   file_commands=file_commands(app.services.router))
        try:
            app.services.transports.add(console)
            for line in await console_welcome(app.services, console.chat, args.lang,
                                              greet=console.interactive):
                print(line, flush=True)
            await app.services.outbox.deliver_pending()
            web = await start_web(app)
            try:
                await app.serve([console])
            finally:
                await stop_web(web)
        finally:
            await app.stop()

    asyncio.run(chat())
    return 0


def run_bot(settings: Settings, args: argparse.Namespace) -> int:
    from bot.locks import single_runner_lock
    from bot.transports.registry import transport_plans

    prepare_data_dir(settings)
    try:
        runner = single_runner_lock(settings.effective_database_url)
    except OSError as exc:
        raise StartupError(f"cannot open the database's folder: {exc}") from None
    if runner is None:
        raise StartupError("another `coordbot run` already uses this SQLite database; several "
                           "instances need PostgreSQL (COORDBOT_DATABASE_URL)")

    async def run() -> None:
        app = await start_app(settings)
        try:
            plans = transport_plans(settings, app.services)
            if not plans:
                raise StartupError("no transport configured: set COORDBOT_TELEGRAM_TOKEN or "
                                   "COORDBOT_MATRIX_HOMESERVER (or use `coordbot chat`)")
            try:
                await app.serve([plan.build() for plan in plans if plan.lease is None])
                for plan in plans:
                    if plan.lease is not None:
                        await app.lead(plan.lease, plan.build)
            except Exception as exc:  # noqa: BLE001 - e.g. a rejected token, told in one line
                raise StartupError(f"a transport failed to start ({type(exc).__name__}): "
                                   f"{exc}") from None
            # Not leader-bound: every instance serves the dashboard (sessions are in the DB).
            web = await start_web(app)
            try:
                await _until_terminated()
            finally:
                await stop_web(web)
        finally:
            await app.stop()

    asyncio.run(run())
    return 0


async def start_web(app: App) -> web.AppRunner | None:
    """The dashboard listener when COORDBOT_WEB_LISTEN or COORDBOT_WEB_BASE_URL is set."""
    settings = app.services.settings
    if not settings.web_enabled:
        return None
    from bot.web.app import start
    try:
        return await start(app.services)
    except OSError as exc:
        raise StartupError(f"the dashboard cannot listen on {settings.effective_web_listen} "
                           f"(COORDBOT_WEB_LISTEN): {exc.strerror or exc}") from None


async def stop_web(runner: web.AppRunner | None) -> None:
    if runner is not None:
        await runner.cleanup()


async def _until_terminated() -> None:
    """Waits for SIGTERM or SIGINT, so that `docker stop` lets transports finish the message
    in hand before the app stops."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):   # not on this platform / thread
            pass
    await stop.wait()


def db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from bot.db import Database, mask_url
    from bot.migrations import current_revision, upgrade

    async def go() -> str | None:
        db = Database(settings.effective_database_url)
        try:
            await upgrade(db)
            return await current_revision(db)
        except Exception as exc:  # noqa: BLE001
            raise StartupError(describe_startup_failure(settings, exc)) from None
        finally:
            await db.dispose()

    prepare_data_dir(settings)
    revision = asyncio.run(go())
    print(f"database {mask_url(settings.effective_database_url)} is at revision {revision}")
    return 0


def health_check(settings: Settings, args: argparse.Namespace) -> int:
    from bot.health import run_checks
    from bot.transports.registry import leases

    checks = asyncio.run(run_checks(settings, leases(settings)))
    for check in checks:
        print(check.line())
    return 0 if all(check.ok for check in checks) else 1


def config_check(settings: Settings, args: argparse.Namespace) -> int:
    for name, value in settings.masked().items():
        print(f"{name} = {value}")
    print("configuration is valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
