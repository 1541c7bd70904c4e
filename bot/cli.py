"""The `coordbot` command line."""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coordbot", description="Coordination assistant for the services supporting "
        "people displaced from Ukraine in Belgium.")
    parser.add_argument("--config", type=Path, help="TOML settings file (environment wins)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    chat = commands.add_parser("chat", help="talk to the bot in this terminal (console transport)")
    chat.add_argument("--as", dest="user", default="console", help="your console user name")
    chat.add_argument("--lang", default=None, help="your language hint (fr, nl, de, en, uk)")
    chat.set_defaults(func=run_chat)

    run = commands.add_parser("run", help="run the bot on the configured Telegram/Matrix transports")
    run.set_defaults(func=run_bot)

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


def _feature_clis():
    from bot.directory.cli import register as directory
    return [directory]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"coordbot: invalid configuration: {exc}", file=sys.stderr)
        return 2
    from bot.logs import configure_logging
    configure_logging(settings.log_level)
    try:
        return args.func(settings, args) or 0
    except KeyboardInterrupt:
        return 130
    except StartupError as exc:
        print(f"coordbot: {exc}", file=sys.stderr)
        return 1


class StartupError(RuntimeError):
    """A problem that stops start-up, told in one line."""


async def start_app(settings: Settings):
    from bot.bootstrap import build_app
    app = build_app(settings)
    try:
        await app.start()
    except Exception as exc:  # noqa: BLE001 - any failure here is told in one line
        await app.services.db.dispose()
        raise StartupError(describe_startup_failure(settings, exc)) from None
    return app


def describe_startup_failure(settings: Settings, exc: Exception) -> str:
    from bot.db import mask_url
    url = mask_url(settings.effective_database_url)
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, (OSError, ConnectionError)) or "connect" in text.lower() \
            or "unable to open" in text.lower():
        return f"cannot open the database {url}: {text}"
    return f"start-up failed ({type(exc).__name__}): {text}"


def run_chat(settings: Settings, args) -> int:
    from bot.router import file_commands
    from bot.transports.console import ConsoleTransport

    if settings.log_level.upper() == "INFO":
        # The log shares the terminal with the conversation: only problems, unless asked.
        logging.getLogger().setLevel(logging.WARNING)

    async def chat() -> None:
        app = await start_app(settings)
        try:
            await app.serve([ConsoleTransport(
                user=args.user, language=args.lang, files_dir=settings.data_dir / "files",
                file_commands=file_commands(app.services.router))])
        finally:
            await app.stop()

    asyncio.run(chat())
    return 0


def run_bot(settings: Settings, args) -> int:
    from bot.transports.registry import configured_transports

    async def run() -> None:
        app = await start_app(settings)
        try:
            transports = configured_transports(settings, app.services)
            if not transports:
                raise StartupError("no transport configured: set COORDBOT_TELEGRAM_TOKEN or "
                                   "COORDBOT_MATRIX_HOMESERVER (or use `coordbot chat`)")
            try:
                await app.serve(transports)
            except Exception as exc:  # noqa: BLE001 - e.g. a rejected token, told in one line
                raise StartupError(f"a transport failed to start ({type(exc).__name__}): "
                                   f"{exc}") from None
            await _until_terminated()
        finally:
            await app.stop()

    asyncio.run(run())
    return 0


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


def db_upgrade(settings: Settings, args) -> int:
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

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    revision = asyncio.run(go())
    print(f"database {mask_url(settings.effective_database_url)} is at revision {revision}")
    return 0


def config_check(settings: Settings, args) -> int:
    for name, value in settings.masked().items():
        print(f"{name} = {value}")
    print("configuration is valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
