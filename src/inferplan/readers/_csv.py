"""Typed CSV reading through DuckDB with errors that name the file, the line and the fix."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import duckdb
from ibis.backends.duckdb import Backend

from ..errors import InputError
from ._s3 import S3Object

_counter = itertools.count()


def _quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _columns_sql(columns: dict[str, str]) -> str:
    return "{" + ", ".join(f"{_quote(k)}: {_quote(v)}" for k, v in columns.items()) + "}"


_QUOTED = re.compile(r'"([^"]*)"')


def _safe(value: str) -> str:
    """Echo a bad value only when it cannot be a fragment of prompt text (short, no spaces)."""
    if len(value) <= 24 and not any(c.isspace() for c in value):
        return repr(value)
    return f"<{len(value)} characters withheld>"


def explain_duckdb_error(path: object, exc: Exception) -> str:
    """A one-line reason from a DuckDB CSV/JSON error, without echoing the row's content."""
    msg = str(exc)
    line = re.search(r"[Ll]ine:?\s*(\d+)", msg)
    col = re.search(r'column "?([^"\s.]+)"?', msg)
    conv = re.search(r"Could not convert string \"?(.{0,40}?)\"? to '?([A-Z0-9]+)'?", msg)
    where = f"line {line.group(1)}" if line else "a record"
    if conv:
        what = f"value {_safe(conv.group(1))} is not a valid {conv.group(2)}"
        if col:
            what = f"column {col.group(1)!r}: {what}"
    elif "Expected Number of Columns" in msg or "too many columns" in msg.lower():
        what = "wrong number of fields"
    else:
        what = _QUOTED.sub(lambda m: _safe(m.group(1)), msg.splitlines()[0])[:200]
    return f"{path}: {where}: {what}; fix the record or pass --on-error skip to skip bad records"


def read_csv_checked(con: Backend, path: Path | S3Object, columns: dict[str, str], on_error: str,
                     header: bool = True) -> tuple[str, dict[str, int]]:
    """Load a CSV with the given column types into a temp table; return its name and skipped counts.

    Reading happens once, here, so a malformed file fails now with its line number rather than later in
    some query. With on_error="skip", DuckDB's reject tables give the count of bad lines by reason.
    """
    n = next(_counter)
    name = f"_csv_{n}"
    cols = _columns_sql(columns)
    src = _quote(str(path))
    opts = f"header={str(header).lower()}, columns={cols}, auto_detect=false, delim=',', quote='\"', escape='\"'"
    try:
        if on_error == "skip":
            con.raw_sql(
                f"CREATE TEMP TABLE {name} AS SELECT * FROM read_csv({src}, {opts}, store_rejects=true, "
                f"rejects_scan='_rs_{n}', rejects_table='_re_{n}')"
            )
            rows = con.raw_sql(f"SELECT error_type, count(*) FROM _re_{n} GROUP BY 1").fetchall()
            skipped = {f"csv {str(t).lower().replace('_', ' ')}": int(c) for t, c in rows}
        else:
            con.raw_sql(f"CREATE TEMP TABLE {name} AS SELECT * FROM read_csv({src}, {opts})")
            skipped = {}
    except duckdb.Error as exc:
        raise InputError(explain_duckdb_error(path, exc)) from None
    return name, skipped
