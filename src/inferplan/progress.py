"""Progress on stderr for work that takes a while: reading, pricing, replaying levers, simulating fleets.

A command opens `progress("reading usage")`; library code names its phases with `phase("pricing")`, a no-op
when no progress is open (tests, notebooks, pipes). The bar shows only when stderr is a terminal and only once
the work has taken `delay_s` (1 second): quick commands print nothing extra, and stdout (JSON) is never touched.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn


@dataclass
class _Open:
    bar: Progress
    task: TaskID


_current: ContextVar[_Open | None] = ContextVar("inferplan_progress", default=None)


@contextmanager
def progress(description: str, *, console: Console | None = None, delay_s: float = 1.0) -> Iterator[None]:
    """Show a transient spinner/bar for the enclosed work if it outlasts `delay_s` (terminal stderr only)."""
    con = console or Console(stderr=True)
    if not con.is_terminal or os.environ.get("INFERPLAN_NO_PROGRESS") or _current.get() is not None:
        yield
        return
    bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                   console=con, transient=True)
    task = bar.add_task(description, total=None)
    lock = threading.Lock()
    state = {"done": False}

    def start() -> None:
        with lock:
            if not state["done"]:
                bar.start()

    timer = threading.Timer(delay_s, start)
    timer.daemon = True
    token = _current.set(_Open(bar, task))
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with lock:
            state["done"] = True
            bar.stop()
        _current.reset(token)


def phase(description: str, *, completed: float | None = None, total: float | None = None) -> None:
    """Name the current step (and how far it is, when known) on the open progress, if any."""
    cur = _current.get()
    if cur is None:
        return
    cur.bar.update(cur.task, description=description, completed=completed, total=total)


def advance(step: float = 1.0) -> None:
    cur = _current.get()
    if cur is not None:
        cur.bar.advance(cur.task, step)
