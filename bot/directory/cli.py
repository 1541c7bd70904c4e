"""`coordbot directory …` (see docs: the directory contract). Filled in by the directory issue."""
from __future__ import annotations


def register(commands) -> None:
    return None
