"""`inferplan diff BEFORE.json AFTER.json`: what changed in monthly cost between two runs, and why."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..report import write_json
from ._common import JsonOpt, MarkdownOpt, app, friendly, out, say


@app.command("diff")
@friendly
def diff_cmd(
    before: Annotated[Path, typer.Argument(help="The earlier run's --json output.")],
    after: Annotated[Path, typer.Argument(help="The later run's --json output.")],
    markdown: MarkdownOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Monthly cost before and after (a new scenario, a new month of logs), each changed line and why."""
    from ..report import diff as d

    res = d.diff(d.load(before), d.load(after), str(before), str(after))
    if json_out:
        write_json(res, "diff")
    else:
        d.render_terminal(res, out)
    if markdown is not None:
        markdown.write_text(d.render_markdown(res), encoding="utf-8")
        say(f"wrote Markdown summary {markdown.resolve()}")
