"""Record-by-record JSON reading in DuckDB for the gateway and trace readers: every line parsed on its own,
with its file and line number, so a bad record is named (or skipped and counted) without failing the read."""

from __future__ import annotations

import itertools
from pathlib import Path

import ibis

from ..engine import connection
from ..errors import InputError
from ..regions import explain
from ._csv import _quote

_n = itertools.count()


def lines_sql(files: list[Path]) -> str:
    """`_file, _line, _valid, j` (the line as JSON when valid) for every non-blank line of every file."""
    parts = []
    for f in files:
        parts.append(
            f"SELECT {_quote(str(f))} AS _file, _line, json_valid(line) AS _valid, "
            f"CASE WHEN json_valid(line) THEN line::JSON END AS j FROM (SELECT row_number() OVER () AS _line, line "
            f"FROM read_csv({_quote(str(f))}, columns={{'line': 'VARCHAR'}}, header=false, delim='\x1e', quote='', "
            "escape='', auto_detect=false, max_line_size=268435456, compression='auto')) "
            "WHERE line IS NOT NULL AND trim(line) <> ''")
    return " UNION ALL ".join(parts)


# the most tokens one count may hold: far beyond any context window, and sums of many stay inside int64
TOKEN_MAX = 10**15


def json_int(expr: str, max_abs: int | None = None) -> str:
    """A JSON value as BIGINT when it is an integer (or an integral float) that fits int64 (and, given
    `max_abs`, lies within +-max_abs), else NULL; never an error, whatever the value."""
    v = (f"(CASE WHEN json_type({expr}) IN ('BIGINT', 'UBIGINT') THEN TRY_CAST(({expr}) AS BIGINT) "
         f"WHEN json_type({expr}) = 'DOUBLE' AND ({expr})::DOUBLE = floor(({expr})::DOUBLE) "
         f"THEN TRY_CAST(({expr})::DOUBLE AS BIGINT) END)")
    return v if max_abs is None else f"(CASE WHEN abs({v}) <= {max_abs} THEN {v} END)"


def json_count(expr: str) -> str:
    """A JSON token count as BIGINT when it is an integer within +-TOKEN_MAX, else NULL."""
    return json_int(expr, TOKEN_MAX)


def json_absent(expr: str) -> str:
    """SQL: the JSON value is missing or JSON null."""
    return f"(coalesce(json_type({expr}), 'NULL') = 'NULL')"


def bad_count(expr: str) -> str:
    """SQL: an optional JSON token count is there but not an integer in range."""
    return f"(NOT {json_absent(expr)} AND {json_count(expr)} IS NULL)"


def collect(query: str, columns: list[str], on_error: str, label: str, unit: str = "line",
            read_as: str | None = None) -> tuple[ibis.Table, dict[str, int]]:
    """Materialise `query` (which has `_file`, `_line`, `_reason`); raise on the first bad record, or skip and
    count bad records by reason. Returns the good rows' `columns` and the skip counts. `unit`: what `_line`
    numbers (`line`, or `record` for the elements of a JSON array). `read_as`: the format the file was read
    as and why, said in the error (for formats that look alike)."""
    con = connection()
    name = f"_jl_{next(_n)}"
    con.raw_sql(f"CREATE TEMP TABLE {name} AS {query}")
    skipped: dict[str, int] = {}
    rows = con.raw_sql(f"SELECT _reason, count(*), arg_min(_file, _file || lpad(_line::VARCHAR, 12, '0')), "
                       f"min(_line) FROM {name} WHERE _reason IS NOT NULL GROUP BY 1 ORDER BY 4").fetchall()
    for reason, n, file, line in rows:
        if on_error != "skip":
            how = f" (read as {read_as}; pass --format to read it as another)" if read_as else ""
            raise InputError(f"{file}: {unit} {line}: {explain(reason)} ({n} record(s) in all){how}; fix the record "
                             "or pass --on-error skip to skip bad records")
        skipped[f"{label}: {reason}"] = int(n)
    return con.sql(f"SELECT {', '.join(columns)} FROM {name} WHERE _reason IS NULL"), skipped


def is_ndjson(head: bytes) -> bool:
    """Whether a file's first bytes are JSON lines: the first line a whole object, or, when it is cut short
    (a broken first record), the next line one of its own (a pretty-printed document's is indented)."""
    first, _, rest = head.lstrip().partition(b"\n")
    first = first.rstrip()
    if first.startswith(b"{") and not first.endswith((b"{", b"[", b",", b":")):
        return True
    second = rest.lstrip(b"\r\n").split(b"\n", 1)[0].rstrip()
    return first.startswith(b"{") and second.startswith(b"{") and second.endswith(b"}")
