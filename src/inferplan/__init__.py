"""inferplan: where LLM inference money goes on AWS and what to change.

In a notebook: `inferplan.analyze(paths, ...)` (and `compare`, `plan`) return a Report with `.summary`,
`.to_html()` and `.to_markdown()` (see `inferplan.api`). They load on first use, so `import inferplan` stays cheap.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
_API = ("analyze", "compare", "plan", "Report")


def __getattr__(name: str) -> Any:
    if name in _API:
        from . import api

        if hasattr(api, name):
            return getattr(api, name)
    raise AttributeError(f"module 'inferplan' has no attribute {name!r}")
