"""Record-by-record JSON reading in DuckDB for the gateway and trace readers: every line parsed on its own,
with its file and line number, so a bad record is named (or skipped and counted) without failing the read."""

from __future__ import annotations

import itertools
from pathlib import Path

import ibis

from ..engine import connection
from ..errors import InputError
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


def json_int(expr: str) -> str:
    """A JSON value as BIGINT when it is an integer (or an integral float), else NULL."""
    return (f"(CASE WHEN json_type({expr}) IN ('BIGINT', 'UBIGINT') THEN ({expr})::BIGINT "
            f"WHEN json_type({expr}) = 'DOUBLE' AND ({expr})::DOUBLE = floor(({expr})::DOUBLE) "
            f"THEN ({expr})::DOUBLE::BIGINT END)")


def collect(query: str, columns: list[str], on_error: str, label: str) -> tuple[ibis.Table, dict[str, int]]:
    """Materialise `query` (which has `_file`, `_line`, `_reason`); raise on the first bad record, or skip and
    count bad records by reason. Returns the good rows' `columns` and the skip counts."""
    con = connection()
    name = f"_jl_{next(_n)}"
    con.raw_sql(f"CREATE TEMP TABLE {name} AS {query}")
    skipped: dict[str, int] = {}
    rows = con.raw_sql(f"SELECT _reason, count(*), arg_min(_file, _file || lpad(_line::VARCHAR, 12, '0')), "
                       f"min(_line) FROM {name} WHERE _reason IS NOT NULL GROUP BY 1 ORDER BY 4").fetchall()
    for reason, n, file, line in rows:
        if on_error != "skip":
            raise InputError(f"{file}: line {line}: {reason} ({n} record(s) in all); fix the record or pass "
                             "--on-error skip to skip bad records")
        skipped[f"{label}: {reason}"] = int(n)
    return con.sql(f"SELECT {', '.join(columns)} FROM {name} WHERE _reason IS NULL"), skipped


def is_ndjson(head: bytes) -> bool:
    first = head.lstrip().split(b"\n", 1)[0].rstrip()
    return first.startswith(b"{") and not first.endswith((b"{", b"[", b",", b":"))
