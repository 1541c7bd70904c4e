"""`coordbot directory import|export|search` (docs: the directory contract, "Command-line
contract"). Each command applies the migrations first, then works on COORDBOT_DATABASE_URL."""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from bot.trust import audit


def register(commands) -> None:
    directory = commands.add_parser("directory", help="import, export and search the directory")
    tasks = directory.add_subparsers(dest="directory_command", metavar="TASK", required=True)

    imp = tasks.add_parser("import", help="import a directory CSV file (the interchange format)")
    imp.add_argument("file", type=Path)
    imp.add_argument("--replace", action="store_true",
                     help="replace the whole directory (one transaction)")
    imp.add_argument("--skip-invalid", action="store_true",
                     help="import the valid rows and skip the invalid ones")
    imp.set_defaults(func=run_import)

    exp = tasks.add_parser("export", help="export the directory as CSV with the HXL row")
    exp.add_argument("file", type=Path)
    exp.set_defaults(func=run_export)

    search = tasks.add_parser("search", help="print the best entries for a query")
    search.add_argument("query", nargs="?", default=None)
    search.add_argument("--stdin", action="store_true",
                        help="read one query per line from standard input")
    search.add_argument("--limit", type=int, default=5)
    search.add_argument("--json", action="store_true", help="one JSON object per query")
    search.set_defaults(func=run_search)


async def _open(settings):
    from bot.db import Database
    from bot.directory.service import DirectoryService
    from bot.migrations import upgrade

    from bot.cli import prepare_data_dir
    prepare_data_dir(settings)
    db = Database(settings.effective_database_url)
    try:
        await upgrade(db)
    except Exception as exc:  # noqa: BLE001 - told in one line by the caller
        await db.dispose()
        from bot.cli import StartupError, describe_startup_failure
        raise StartupError(describe_startup_failure(settings, exc)) from None
    return db, DirectoryService(settings.bundled_data_dir)


def run_import(settings, args) -> int:
    if not args.file.is_file():
        print(f"coordbot: cannot read {args.file}: no such file", file=sys.stderr)
        return 2

    async def record(session, report) -> None:
        # No chat user behind the command line: actor None, via cli.
        await audit.record(session, None, "directory.import", "directory",
                           {**report.counts(), "via": "cli"})

    async def go():
        db, service = await _open(settings)
        try:
            return await service.import_staged(db, args.file, replace=args.replace,
                                               skip_invalid=args.skip_invalid,
                                               on_applied=record)
        finally:
            await db.dispose()

    try:
        report = asyncio.run(go())
    except OSError as exc:
        print(f"coordbot: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    if report.file_error:
        print(f"{args.file}: {report.file_error}; nothing was imported", file=sys.stderr)
        return 1
    for problem in report.problems:
        print(f"{args.file}: {problem}", file=sys.stderr)
    if report.more_problems:
        print(f"{args.file}: … and {report.more_problems} more problems", file=sys.stderr)
    if not report.applied:
        print(f"{args.file}: {report.skipped} invalid row(s) of {report.total_rows}; nothing was "
              "imported (fix them, or use --skip-invalid)", file=sys.stderr)
        return 1
    print(f"imported {report.created + report.updated} entries ({report.created} new, "
          f"{report.updated} updated, {report.removed} removed, {report.skipped} skipped)")
    return 0


def run_export(settings, args) -> int:
    async def go() -> bytes:
        db, service = await _open(settings)
        try:
            async with db.transaction() as session:
                content = await service.export(session)
                await audit.record(session, None, "directory.export", "directory",
                                   {"bytes": len(content), "via": "cli"})
                return content
        finally:
            await db.dispose()

    content = asyncio.run(go())
    args.file.write_bytes(content)
    rows = max(0, content.count(b"\n") - 2)
    print(f"exported the directory to {args.file} ({rows} lines after the two header rows)")
    return 0


def run_search(settings, args) -> int:
    if args.stdin == (args.query is not None):
        print("coordbot directory search: give a QUERY or --stdin (not both)", file=sys.stderr)
        return 2
    if args.limit < 1:
        print("coordbot directory search: --limit must be at least 1", file=sys.stderr)
        return 2

    async def go():
        db, service = await _open(settings)
        try:
            async with db.session() as session:
                await service.refresh(session)
        finally:
            await db.dispose()
        return service

    service = asyncio.run(go())
    queries = (line.rstrip("\r\n") for line in sys.stdin) if args.stdin else [args.query]
    for query in queries:
        outcome = service.search(query, limit=args.limit)
        if args.json:
            print(json.dumps(as_json(outcome, service), ensure_ascii=False), flush=args.stdin)
        else:
            print(as_text(outcome, service))
    return 0


def as_json(outcome, service) -> dict:
    parsed = outcome.query
    gaz = service.gazetteer
    return {
        "query": parsed.text,
        "kind": parsed.kind,
        "topic": parsed.topic,
        "place": [{"code": c, "name": gaz.label(c, parsed.language or "en")}
                  for c in outcome.readings],
        "ambiguous": outcome.ambiguous,
        "not_a_directory_question": outcome.not_a_directory_question,
        "results": [{
            "id": r.entry.id,
            "organisation": r.entry.organisation,
            "score": r.score,
            "service": r.entry.service,
            "topics": list(r.entry.topics),
            "coverage": list(r.entry.coverage),
            "level": r.level,
            "place": r.place,
            "reason": r.reason,
            "languages": list(r.entry.languages),
            "url": r.entry.url,
            "last_verified": r.entry.last_verified.isoformat() if r.entry.last_verified else None,
        } for r in outcome.results],
    }


def as_text(outcome, service) -> str:
    parsed = outcome.query
    lines = []
    if outcome.ambiguous:
        names = " / ".join(f"{service.gazetteer.label(c, parsed.language or 'en')} ({c})"
                           for c in outcome.readings)
        lines.append(f"{parsed.place_words!r} is ambiguous: {names}; best entries of each reading")
    if outcome.not_a_directory_question:
        lines.append(f"{parsed.text!r} is not a question for the directory (no topic, service "
                     "or organisation named)")
    elif not outcome.results:
        lines.append(f"no result for {parsed.text!r}: name a topic and a place, "
                     "e.g. \"housing Liège\" or \"leefloon 9000\"")
    for number, result in enumerate(outcome.results, start=1):
        entry = result.entry
        where = f" [{result.level}]" if result.level else ""
        lines.append(f"{number}. {entry.organisation} ({entry.id}) {result.score:.2f}{where}")
        if entry.service:
            lines.append(f"   {entry.service}")
        if entry.url:
            lines.append(f"   {entry.url}")
    return "\n".join(lines)
