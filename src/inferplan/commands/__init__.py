"""CLI command modules. Each module here registers its commands on `inferplan.cli.app` when imported;
`cli.py` imports them all, so a new command is a new file here, with no edit elsewhere."""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
