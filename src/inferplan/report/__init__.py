"""Reports render a command's summary (a plain JSON-able dict): terminal tables, JSON, HTML and Markdown.

Every `--json` output is `stamp()`ed with `schema_version` and `kind` (which summary it is: `analyze`,
`compare`, ...), and is valid against the JSON Schema shipped in `report/schema/inferplan.schema.json`.
`schema_version` is MAJOR.MINOR: a minor bump adds keys, a major one removes or changes them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SCHEMA_VERSION = "1.1"  # 1.1: p_beats_bedrock_horizon, diff lines' kind (see docs/reports.md)


def stamp(summary: Any, kind: str) -> dict[str, Any]:
    """The summary with `schema_version` and `kind` first (a list becomes `{"rows": [...]}`)."""
    body = summary if isinstance(summary, dict) else {"rows": summary}
    body = {k: v for k, v in body.items() if k not in ("schema_version", "kind")}
    return {"schema_version": SCHEMA_VERSION, "kind": kind, **body}


def write_json(summary: Any, kind: str) -> None:
    """Print a stamped summary as one JSON line on stdout (what every `--json` does)."""
    sys.stdout.write(json.dumps(stamp(summary, kind), default=str) + "\n")


def write_files(summary: dict[str, Any], kind: str, *, html: Path | None = None, markdown: Path | None = None,
                say: Any = None, charts: dict[str, Any] | None = None) -> None:
    """Write the HTML and Markdown reports asked for; `say(text)` tells the user where (on stderr).

    `charts` holds arrays only the HTML charts draw (e.g. `series`), merged into the summary it renders."""
    stamped = stamp(summary, kind)
    if html is not None:
        from . import html as html_report

        Path(html).write_text(html_report.render({**stamped, **(charts or {})}, kind), encoding="utf-8")
        if say:
            say(f"wrote HTML report {Path(html).resolve()} ({Path(html).stat().st_size / 1e6:.1f} MB)")
    if markdown is not None:
        from . import markdown as md_report

        Path(markdown).write_text(md_report.render(stamped, kind), encoding="utf-8")
        if say:
            say(f"wrote Markdown summary {Path(markdown).resolve()}")
