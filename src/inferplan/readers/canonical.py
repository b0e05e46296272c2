"""The canonical workload itself, as CSV, Parquet or JSON lines (what `inferplan` writes, or a user's export).

Columns are the canonical names (DESIGN.md); `model` may hold any id the catalog resolves (profile ids,
ARNs, aliases). In CSV, `prefix` and `tags` are JSON text, checked as read (a bad cell is named with its line, or
skipped and counted). Missing optional columns take their defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import ibis
import pyarrow.parquet as pq

from .. import engine
from ..engine import connection
from ..errors import InputError
from ..workload import COLUMNS, IBIS_SCHEMA
from ._csv import _quote, explain_duckdb_error, read_csv_checked
from .base import InputFile, Raw, ReadOptions, head_bytes

NAME = "canonical"
_KEY = (b"input_tokens", b"output_tokens")
_SQL_TYPES = {
    "ts": "TIMESTAMPTZ", "request_id": "VARCHAR", "call_type": "VARCHAR", "model": "VARCHAR",
    "scope": "VARCHAR", "region": "VARCHAR", "tier": "VARCHAR", "input_tokens": "BIGINT",
    "cache_read_tokens": "BIGINT", "cache_write_5m_tokens": "BIGINT", "cache_write_1h_tokens": "BIGINT",
    "output_tokens": "BIGINT", "prefix": "VARCHAR", "latency_ms": "DOUBLE", "interactive": "BOOLEAN",
    "tags": "VARCHAR",
}
# columns renamed since files were written: old name -> canonical name (read with a note, never refused)
RENAMED = {"cache_write_tokens": "cache_write_5m_tokens"}


def sniff(path: InputFile, head: bytes) -> bool:
    """Parquet (other Parquet formats sniff first), or CSV/JSON lines with `ts` and a token column."""
    if head.startswith(b"PAR1"):
        return True
    first = head.split(b"\n", 1)[0]
    if first.lstrip().startswith(b"{"):
        return b'"ts"' in first and any(b'"' + k + b'"' in first for k in _KEY)
    cols = {c.strip().strip('"') for c in first.decode("utf-8", "replace").lstrip("\ufeff").split(",")}
    return "ts" in cols and any(k.decode() in cols for k in _KEY)


def _kind(path: Path, head: bytes) -> str:
    if head.startswith(b"PAR1"):
        return "parquet"
    return "json" if head.lstrip().startswith(b"{") else "csv"


def _header(path: Path, head: bytes) -> list[str]:
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace").strip().lstrip("\ufeff")
    return [c.strip().strip('"') for c in first.split(",")]


SPARK_HINT = ("--engine spark starts from canonical Parquet: convert other formats first with "
              "`inferplan convert INPUT... --out workload.parquet` (DuckDB, on one machine), then analyze the Parquet")


def read(paths: list[InputFile], options: ReadOptions) -> Raw:
    if engine.name() != "duckdb":
        spark_renamed: dict[str, int] = {}
        table = aligned(with_canonical_names(_read_on_engine(paths, head_bytes, spark_renamed), {}))
        return Raw(table=table, notes=rename_notes(spark_renamed))
    con = connection()
    parts = []
    skipped: dict[str, int] = {}
    old_names: dict[str, int] = {}
    for p in paths:
        head = head_bytes(p)
        kind = _kind(p, head)
        if kind == "csv":
            header = _header(p, head)
            check_columns(p, header)
            types = {c: _SQL_TYPES[RENAMED.get(c, c)] for c in header}
            name, bad = read_csv_checked(con, p, types, options.on_error)
            for k, v in bad.items():
                skipped[k] = skipped.get(k, 0) + v
            t = _check_json_cells(con, p, name, header, options.on_error, skipped)
        else:
            fn = "read_parquet" if kind == "parquet" else "read_json_auto"
            try:
                t = con.sql(f"SELECT * FROM {fn}({_quote(str(p))})")
            except duckdb.Error as exc:
                raise InputError(explain_duckdb_error(p, exc)) from None
            check_columns(p, t.columns)
            if kind == "json":
                t = _typed_json(con, p, t.columns)
        t = with_canonical_names(t, old_names)
        parts.append(_decode_json_columns(t))
    one = len(paths) == 1 and _kind(paths[0], head_bytes(paths[0])) == "parquet" and isinstance(paths[0], Path)
    return Raw(table=parts[0] if len(parts) == 1 else ibis.union(*_aligned(parts, paths), distinct=False),
               skipped=skipped, notes=rename_notes(old_names), parquet=str(paths[0]) if one else None)


REQUIRED = ("ts", "input_tokens", "output_tokens")


def check_required(path: Path | str, columns: list[str]) -> None:
    """A file (or object) of several read together has the required columns itself, named when it has not."""
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InputError(f"{path}: missing required column(s) {missing}; canonical columns are {list(COLUMNS)}")


def aligned(t: ibis.Table, cols: list[str] | None = None) -> ibis.Table:
    """The table's canonical columns (or `cols`, nulls where it has none) in canonical order and types."""
    cols = [c for c in COLUMNS if c in t.columns] if cols is None else cols
    return t.select(*[(t[c].cast(IBIS_SCHEMA[c]) if c in t.columns else ibis.null(IBIS_SCHEMA[c])).name(c)
                      for c in cols])


def _aligned(parts: list[ibis.Table], paths: list[Path]) -> list[ibis.Table]:
    """Files that carry different optional columns (a CSV export beside a Parquet one) union on the columns
    any of them has, in canonical order and types; a file without a column has nulls there, which the
    defaults then fill and count like any other missing value. A file without a required column is named."""
    for t, p in zip(parts, paths, strict=True):
        check_required(p, t.columns)
    present = {c for t in parts for c in t.columns}
    cols = [c for c in COLUMNS if c in present]
    return [aligned(t, cols) for t in parts]


def rename_notes(renamed: dict[str, int]) -> list[str]:
    return [f"{n} file(s) name the column {old!r}, read as {RENAMED[old]!r} (its canonical name since each token "
            "bucket got one name; rename the column in the files to silence this note)"
            for old, n in renamed.items()]


def check_columns(path: Path, columns: list[str]) -> None:
    """Only canonical columns (or their old names), and not a column under both names."""
    unknown = [c for c in columns if c not in COLUMNS and c not in RENAMED]
    if unknown:
        raise InputError(f"{path}: unknown column(s) {unknown}; canonical columns are {list(COLUMNS)}")
    both = [old for old, new in RENAMED.items() if old in columns and new in columns]
    if both:
        raise InputError(f"{path}: both {both[0]!r} and {RENAMED[both[0]]!r} are columns; they are the same "
                         f"bucket under its old and new name: keep only {RENAMED[both[0]]!r}")


def with_canonical_names(t: ibis.Table, counts: dict[str, int]) -> ibis.Table:
    """Old column names mapped to canonical ones, counted (per file) for the reader's note. A table of several
    files (S3, Spark) may hold both names, each file one of them (checked per file): one column of the two."""
    for o, new in RENAMED.items():
        if o not in t.columns:
            continue
        counts[o] = counts.get(o, 0) + 1
        if new in t.columns:
            t = t.mutate(**{new: ibis.coalesce(t[new], t[o].cast(t[new].type()))}).drop(o)
        else:
            t = t.rename({new: o})
    return t


def _read_on_engine(paths: list[Path], head_bytes, old_names: dict[str, int]) -> ibis.Table:  # noqa: ANN001
    """Canonical Parquet on the chosen engine (Spark): checked to be Parquet with canonical columns only."""
    for p in paths:
        if not head_bytes(p, 4).startswith(b"PAR1"):
            raise InputError(f"{p}: not Parquet; {SPARK_HINT}")
    schemas = [pq.read_schema(p) for p in paths]  # each file checked on its own (its footer), as on DuckDB
    old_names.update(check_each([str(p) for p in paths], schemas))
    try:
        return engine_parquet([str(p) for p in paths], schemas)
    except Exception as exc:  # noqa: BLE001 - the engine's own error type (py4j/pyspark), named with the files
        raise InputError(f"{paths[0]}{' and others' if len(paths) > 1 else ''}: the {engine.name()} engine "
                         f"cannot read it ({str(exc).splitlines()[0]})") from None


def check_each(names: list[str], schemas: list[Any]) -> dict[str, int]:
    """Parquet files (or objects) read as one table, each checked as a lone file is (canonical columns, the
    required ones, not a bucket under both names); how many use each old column name, for the note."""
    old_names: dict[str, int] = {}
    for name, schema in zip(names, schemas, strict=True):
        check_columns(name, schema.names)
        check_required(name, schema.names)
        for o in (o for o in RENAMED if o in schema.names):
            old_names[o] = old_names.get(o, 0) + 1
    return old_names


def engine_parquet(urls: list[str], schemas: list[Any]) -> ibis.Table:
    """Parquet files on the chosen engine, read once per distinct schema and unioned on canonical names and
    types: files written at different times carry different optional columns (or int32 beside int64), which
    one read would resolve to the first file's schema (Spark without mergeSchema) or refuse (with it)."""
    groups: dict[Any, list[str]] = {}
    for url, schema in zip(urls, schemas, strict=True):
        groups.setdefault(schema, []).append(url)
    parts = [with_canonical_names(engine.read_parquet(g), {}) for g in groups.values()]
    if len(parts) == 1:
        return parts[0]
    present = {c for t in parts for c in t.columns}
    cols = [c for c in COLUMNS if c in present]
    return ibis.union(*[aligned(t, cols) for t in parts], distinct=False)


# JSON-text columns of a canonical CSV: the DuckDB type each must cast to, and what that means in words
_JSON_CELLS = {"prefix": ("STRUCT(hash VARCHAR, tokens BIGINT)[]", "a JSON list of {hash, tokens} segments"),
               "tags": ("MAP(VARCHAR, VARCHAR)", "a JSON object")}


def _check_json_cells(con: ibis.BaseBackend, path: Path, name: str, header: list[str], on_error: str,
                      skipped: dict[str, int]) -> ibis.Table:
    """`prefix`/`tags` cells must be valid JSON of the right shape, checked now (DuckDB `json_valid`), so a
    bad cell is named with its line, or skipped and counted, instead of failing some later query."""
    whens = []
    for c, (typ, what) in _JSON_CELLS.items():
        if c in header:
            q = f'"{c}"'
            whens.append(f"WHEN {q} IS NOT NULL AND NOT json_valid({q}) THEN 'column {c} is not valid JSON'")
            whens.append(f"WHEN {q} IS NOT NULL AND json_type({q}::JSON) <> 'NULL' AND "
                         f"TRY_CAST({q}::JSON AS {typ}) IS NULL THEN 'column {c} is not {what}'")
    if not whens:
        return con.table(name)
    # the temp table keeps the file's row order: data row i is line i + 1 (after the header)
    checked = f"{name}_j"
    con.raw_sql(f"CREATE TEMP TABLE {checked} AS SELECT row_number() OVER () + 1 AS _line, "
                f"CASE {' '.join(whens)} END AS _reason, * FROM {name}")
    for reason, n, line in con.raw_sql(f"SELECT _reason, count(*), min(_line) FROM {checked} "
                                       "WHERE _reason IS NOT NULL GROUP BY 1 ORDER BY 3").fetchall():
        if on_error != "skip":
            raise InputError(f"{path}: line {line}: {reason} ({n} record(s) in all); fix the record or pass "
                             "--on-error skip to skip bad records")
        skipped[f"canonical: {reason}"] = skipped.get(f"canonical: {reason}", 0) + int(n)
    return con.sql(f"SELECT * EXCLUDE (_line, _reason) FROM {checked} WHERE _reason IS NULL")


def _typed_json(con: ibis.BaseBackend, path: Path, columns: list[str]) -> ibis.Table:
    """JSON lines re-read with the canonical types (prefix and tags as JSON), not the types DuckDB guesses from
    one file's sample: a column of nulls, whole-number latencies or tags with other keys then union across
    files (e.g. the files `inferplan.record` rotates)."""
    types = {c: ("JSON" if c in _JSON_CELLS else _SQL_TYPES[RENAMED.get(c, c)]) for c in columns}
    cols = "{" + ", ".join(f"{_quote(c)}: {_quote(v)}" for c, v in types.items()) + "}"
    try:
        return con.sql(f"SELECT * FROM read_json({_quote(str(path))}, columns={cols})")
    except duckdb.Error as exc:
        raise InputError(explain_duckdb_error(path, exc)) from None


def _decode_json_columns(t: ibis.Table) -> ibis.Table:
    """`prefix` and `tags` arrive as JSON text from CSV (and sometimes JSON lines): parse them."""
    out = {}
    for c in ("prefix", "tags"):
        if c in t.columns and t[c].type().is_string():
            out[c] = t[c].cast("json").cast(IBIS_SCHEMA[c])
        elif c in t.columns and t[c].type().is_json():
            out[c] = t[c].cast(IBIS_SCHEMA[c])
    return t.mutate(**out) if out else t


def write(table: ibis.Table, path: Path) -> None:
    """Write a canonical workload as Parquet, CSV or JSON lines (by extension), streamed by DuckDB.

    In CSV, `prefix` and `tags` are written as JSON text, which is what `read()` expects back.
    """
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        table.to_parquet(path)
    elif suffix == ".csv":
        table.mutate(**{c: table[c].cast("json").cast("string") for c in ("prefix", "tags")
                        if c in table.columns}).to_csv(path)
    elif suffix in (".jsonl", ".json"):
        # ibis's to_json does not register in-memory tables; stream record batches through DuckDB instead
        raw = connection().con
        raw.register("_canonical_out", table.to_pyarrow_batches())
        try:
            raw.execute(f"COPY _canonical_out TO {_quote(str(path))} (FORMAT JSON)")
        finally:
            raw.unregister("_canonical_out")
    else:
        raise InputError(f"{path}: write .parquet, .csv or .jsonl")
