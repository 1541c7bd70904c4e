"""`make bench` runs every benchmark module of this folder (each has a `main()`)."""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

for module in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
    if not module.name.startswith("_"):
        importlib.import_module(f"benchmarks.{module.name}").main()
