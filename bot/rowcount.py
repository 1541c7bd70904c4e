"""How many rows an UPDATE or DELETE touched. `AsyncSession.execute` is typed as returning
any `Result`; for these statements it is a `CursorResult`, which has the count."""
from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Result


def rows_touched(result: Result[Any]) -> int:
    return cast(CursorResult[Any], result).rowcount or 0
