"""Progress bars: on a terminal, only once the work has taken the delay; never on a pipe; phases are no-ops
without an open progress."""

from __future__ import annotations

import io
import time

from rich.console import Console

from inferplan.progress import phase, progress


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=terminal, width=80), buf


def test_shown_on_a_terminal_for_slow_work_with_its_phase():
    con, buf = _console(True)
    with progress("reading usage", console=con, delay_s=0.05):
        phase("pricing every request")
        time.sleep(0.6)
    assert "pricing every request" in buf.getvalue()


def test_not_shown_for_quick_work_or_off_a_terminal():
    con, buf = _console(True)
    with progress("reading usage", console=con, delay_s=5):
        phase("pricing")
    assert buf.getvalue() == ""
    con, buf = _console(False)
    with progress("reading usage", console=con, delay_s=0):
        time.sleep(0.2)
        phase("pricing")
    assert buf.getvalue() == ""


def test_phase_without_progress_is_a_no_op():
    phase("nothing open")  # must not raise
