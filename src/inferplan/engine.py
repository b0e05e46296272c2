"""The per-request engine: one embedded DuckDB connection behind Ibis.

All per-request work is written as Ibis expressions over this backend, so the same code can run on another
Ibis backend (Spark) for logs that outgrow one machine. Readers may use DuckDB SQL directly as a fast path.
"""

from __future__ import annotations

import os
import threading

import ibis
from ibis.backends.duckdb import Backend as DuckDBBackend

_lock = threading.Lock()
_con: DuckDBBackend | None = None


def connection() -> DuckDBBackend:
    """The process-wide DuckDB backend (created on first use)."""
    global _con
    with _lock:
        if _con is None:
            _con = ibis.duckdb.connect()
            threads = os.environ.get("INFERPLAN_THREADS")
            if threads:
                _con.raw_sql(f"SET threads = {int(threads)}")
            _con.raw_sql("SET preserve_insertion_order = true")
        return _con

