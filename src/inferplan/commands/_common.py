"""What the command line's modules share: the Typer app they register on, its global options, the consoles,
the error wrapper (`friendly`) and the option types used by several commands.

Here rather than in `cli.py`, so that a command module imports it and never `cli`: `cli.py` defines the core
commands, then loads every module of this package (`load_all`), and runs the app.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from functools import wraps
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from .. import engine
from ..errors import InferplanError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Where LLM inference money goes on AWS, and what to change.")
prices_app = typer.Typer(no_args_is_help=True, help="Browse the price and hardware catalog.")
app.add_typer(prices_app, name="prices")



@app.callback()
def _global_options(
    engine_name: Annotated[str | None, typer.Option(
        "--engine", envvar="INFERPLAN_ENGINE", metavar="duckdb|spark",
        help="Where per-request work runs: duckdb (embedded, default) or spark (reads canonical Parquet; "
        "see docs/scale.md).")] = None,
    spark_master: Annotated[str | None, typer.Option(
        "--spark-master", envvar="INFERPLAN_SPARK_MASTER", metavar="URL",
        help="Spark master for --engine spark (default: Spark's own configuration, else local[2]).")] = None,
) -> None:
    """Where LLM inference money goes on AWS, and what to change."""
    try:
        engine.use(engine_name, spark_master=spark_master)
    except InferplanError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None


err = Console(stderr=True)
out = Console()
if not out.is_terminal:  # pipes and files get the full tables, not an 80-column squeeze
    out = Console(width=160)
F = TypeVar("F", bound=Callable[..., Any])

# The demo prices the Azure 2023 traces on this model (a common small Claude on a US cross-region profile).
DEMO_MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
DEMO_REGION = "us-east-1"


def friendly(fn: F) -> F:
    """Run a command; turn inferplan errors into one red line and an exit code."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = fn(*args, **kwargs)
            for w in caught:
                if w.category is UserWarning:
                    err.print(f"[yellow]warning:[/yellow] {w.message}")
            return result
        except InferplanError as exc:
            if os.environ.get("INFERPLAN_DEBUG"):
                raise
            err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - last resort: no traceback in front of a user
            if os.environ.get("INFERPLAN_DEBUG"):
                raise
            err.print(f"[red]internal error:[/red] {type(exc).__name__}: {exc}. Please report it; "
                      "INFERPLAN_DEBUG=1 shows the traceback.", highlight=False, soft_wrap=True)
            raise typer.Exit(70) from None

    return wrapper  # type: ignore[return-value]


def say(message: str) -> None:
    """Tell the user something on stderr (stdout may be JSON)."""
    err.print(message, highlight=False, soft_wrap=True)


# The usage-reading flags every command that reads logs shares, declared once.
UsageFormatOpt = Annotated[str, typer.Option("--format", "-f", help="auto or a usage format name.")]
ModelOpt = Annotated[str | None, typer.Option(help="Model for sources without one (id, profile or alias).")]
RegionOpt = Annotated[str, typer.Option(help="AWS region for sources without one.")]
TierOpt = Annotated[str, typer.Option(help="Tier for sources without one.")]
OnErrorOpt = Annotated[str, typer.Option("--on-error", help="raise (stop at the first bad record) or skip (skip "
                                         "bad records and count them).")]
CallTypeKeyOpt = Annotated[str | None, typer.Option(help="Request metadata key that holds the call type "
                                                    "(default: call_type, then feature).")]
CatalogOpt = Annotated[Path | None, typer.Option("--catalog", help="YAML file overriding or adding catalog rows.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]
HtmlOpt = Annotated[Path | None, typer.Option("--html", metavar="FILE", help="Also write a self-contained HTML "
                                              "report (charts, works offline).")]
MarkdownOpt = Annotated[Path | None, typer.Option("--markdown", metavar="FILE", help="Also write a Markdown "
                                                  "summary for a pull-request comment.")]
ExplainOpt = Annotated[bool, typer.Option("--explain", help="Show every price used with its source and date.")]


def demo_paths() -> list[Path]:
    base = resources.files("inferplan") / "data" / "demo" / "azure2023"
    return [Path(str(base / f"AzureLLMInferenceTrace_{s}.csv")) for s in ("code", "conv")]
