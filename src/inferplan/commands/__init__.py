"""CLI command modules. Each module here registers its commands on the app in `_common` (what the modules
share) when imported; `cli.py` loads them all, so a new command is a new file here, with no edit elsewhere.
No module here imports `cli`."""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
