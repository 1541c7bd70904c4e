"""The forms repository: check-in forms kept in the database (the shipped folder loaded at
start-up, files sent by coordinators), and each round's frozen form parsed once per process."""
from __future__ import annotations

import asyncio
import hashlib
import logging
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.checkins.common import CheckinError
from bot.checkins.form_files import form_files, load_form, load_upload
from bot.checkins.forms import Form, FormError
from bot.checkins.models import CheckinForm, CheckinRound
from bot.db import Database
from bot.i18n import _
from bot.markup import escape

log = logging.getLogger("coordbot.checkins")

MAX_FORM_FILE = 1_000_000


class FormsStore:
    def __init__(self, db: Database, clock: Clock):
        self.db = db
        self.clock = clock
        self._parsed: dict[tuple[int, str], Form] = {}

    def form_of(self, round_: CheckinRound) -> Form:
        """The round's frozen form, parsed once per process."""
        key = (round_.id, round_.definition.get("settings", {}).get("version", ""))
        if key not in self._parsed:
            self._parsed[key] = Form.from_dict(round_.definition)
        return self._parsed[key]

    def form_of_row(self, row: CheckinForm) -> Form:
        key = (-row.id, row.source_hash + row.version + str(row.updated_at))
        if key not in self._parsed:
            self._parsed[key] = Form.from_dict(row.definition)
        return self._parsed[key]

    async def forms(self, session: AsyncSession) -> list[CheckinForm]:
        return list(await session.scalars(select(CheckinForm).order_by(CheckinForm.code)))

    async def form_row(self, session: AsyncSession, code: str) -> CheckinForm | None:
        return await session.scalar(select(CheckinForm).where(
            func.lower(CheckinForm.code) == code.strip().lower()))

    async def require(self, session: AsyncSession, code: str) -> CheckinForm:
        """The form called `code`; raises `CheckinError` naming the forms there are."""
        row = await self.form_row(session, code)
        if row is None:
            codes = ", ".join(f"`{known.code}`" for known in await self.forms(session))
            raise CheckinError(_("Unknown form {code}. Forms: {codes}.").format(
                code=escape(code[:60]), codes=codes or "—"))
        return row

    async def save_form(self, session: AsyncSession, form: Form, source: str,
                        source_hash: str = "") -> tuple[CheckinForm, bool]:
        """Adds the form or replaces the definition of the form with the same code (rounds
        already opened keep the definition they were opened with). Returns (row, created)."""
        row = await self.form_row(session, form.code)
        created = row is None
        if row is None:
            row = CheckinForm(code=form.code)
            session.add(row)
        row.definition, row.version = form.to_dict(), form.version[:60]
        row.source, row.source_hash = source[-200:], source_hash
        row.updated_at = self.clock.now()
        await session.flush()
        return row, created

    async def save_upload(self, session: AsyncSession, filename: str,
                          content: bytes) -> tuple[CheckinForm, Form, bool]:
        """A form file a coordinator sent. Returns (row, form, created); raises
        `CheckinError` with the reason when the file cannot be used."""
        if len(content) > MAX_FORM_FILE:
            raise CheckinError(_("That file is too large for a form (limit 1 MB)."))
        try:
            form = await asyncio.to_thread(load_upload, content,
                                           Path(filename).suffix.lower())
        except FormError as exc:
            raise CheckinError(_("I cannot use this form: {problem}").format(
                problem=escape(str(exc)[:300]))) from None
        row, created = await self.save_form(session, form, filename,
                                            hashlib.sha256(content).hexdigest())
        return row, form, created

    async def load_folder(self, folder: Path | None) -> int:
        """Loads the forms shipped in `folder`; unchanged files are skipped by hash. A broken
        file is logged and skipped: one bad form must not stop the bot."""
        loaded = 0
        for path in form_files(folder):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            async with self.db.transaction() as session:
                known = await session.scalar(select(CheckinForm.id).where(
                    CheckinForm.source_hash == digest))
                if known is not None:
                    continue
                try:
                    form = await asyncio.to_thread(load_form, path)
                except FormError as exc:
                    log.warning("form not loaded", extra={"fields": {"file": path.name,
                                                                      "error": str(exc)[:200]}})
                    continue
                await self.save_form(session, form, path.name, digest)
                loaded += 1
        return loaded
