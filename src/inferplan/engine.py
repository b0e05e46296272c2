"""The per-request engine: one embedded DuckDB connection behind Ibis.

All per-request work is written as Ibis expressions over this backend, so the same code can run on another
Ibis backend (Spark) for logs that outgrow one machine. Readers may use DuckDB SQL directly as a fast path.

DuckDB draws a progress bar on stdout once a query runs past two seconds, which would corrupt `--json`: every
connection we use has it off: ours, Ibis's default backend (where expressions over memtables alone run; a
separate connection, so that one can stream into the other) and DuckDB's module-level default. Progress, where
a command shows any, is drawn by rich on stderr (`cli.working()`).
"""

from __future__ import annotations

import os
import threading

import duckdb
import ibis
from ibis.backends.duckdb import Backend as DuckDBBackend

# Settings every connection gets: nothing of DuckDB's own may reach stdout.
QUIET: dict[str, bool] = {"enable_progress_bar": False, "enable_progress_bar_print": False}

_lock = threading.Lock()
_con: DuckDBBackend | None = None


def quiet(con: duckdb.DuckDBPyConnection) -> None:
    """Turn DuckDB's progress bar off on a raw connection."""
    for name, value in QUIET.items():
        con.execute(f"SET {name} = {str(value).lower()}")


def connection() -> DuckDBBackend:
    """The process-wide DuckDB backend (created on first use, with a quiet Ibis default backend beside it)."""
    global _con
    with _lock:
        if _con is None:
            _con = ibis.duckdb.connect()
            quiet(_con.con)
            threads = os.environ.get("INFERPLAN_THREADS")
            if threads:
                _con.raw_sql(f"SET threads = {int(threads)}")
            _con.raw_sql("SET preserve_insertion_order = true")
            default = ibis.duckdb.connect()
            quiet(default.con)
            ibis.set_backend(default)
            quiet(duckdb.default_connection())
        return _con
