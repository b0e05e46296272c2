"""The canonical workload: one row per request, whatever the source.

Readers produce a *raw* table with at least `ts`, a model id column and token counts; `finalize()` fills
defaults, resolves model ids against the catalog (on distinct values only, never per row in Python), casts to
the canonical schema and validates. Nothing downstream knows where a row came from.

Token buckets are disjoint: total input = input + cache_read + cache_write_5m + cache_write_1h.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa

from .catalog import Catalog
from .errors import SchemaError

PREFIX_TYPE = pa.list_(pa.struct([("hash", pa.string()), ("tokens", pa.int64())]))

SCHEMA = pa.schema(
    [
        ("ts", pa.timestamp("us", tz="UTC")),
        ("request_id", pa.string()),
        ("call_type", pa.string()),
        ("model", pa.string()),
        ("scope", pa.string()),
        ("region", pa.string()),
        ("tier", pa.string()),
        ("input_tokens", pa.int64()),
        ("cache_read_tokens", pa.int64()),
        ("cache_write_tokens", pa.int64()),
        ("cache_write_1h_tokens", pa.int64()),
        ("output_tokens", pa.int64()),
        ("prefix", PREFIX_TYPE),
        ("latency_ms", pa.float64()),
        ("interactive", pa.bool_()),
        ("tags", pa.map_(pa.string(), pa.string())),
    ]
)
COLUMNS = tuple(SCHEMA.names)
IBIS_SCHEMA = ibis.Schema.from_pyarrow(SCHEMA)
TIERS = ("standard", "batch", "flex", "priority", "provisioned")
UNTAGGED = "untagged"
TOKEN_COLUMNS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens",
                 "output_tokens")


@dataclass
class Workload:
    """A canonical workload table (Ibis) with what the readers learnt on the way (counts, skips)."""

    table: ibis.Table
    sources: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def count(self) -> int:
        return int(self.table.count().execute())

    def to_pyarrow(self) -> pa.Table:
        return self.table.to_pyarrow()


@dataclass(frozen=True)
class Defaults:
    """Values for columns a source does not have (`--model`, `--region`, ...)."""

    model: str | None = None
    region: str = "us-east-1"
    tier: str = "standard"
    call_type: str = UNTAGGED


def _null(col: str) -> ibis.Value:
    return ibis.null().cast(IBIS_SCHEMA[col])


def finalize(raw: ibis.Table, catalog: Catalog, defaults: Defaults, *, source: str = "input") -> ibis.Table:
    """Turn a reader's raw table into the canonical schema, resolving model ids through the catalog.

    The raw table may carry `model_id` (an id as logged: profile prefix, ARN, alias) instead of `model` and
    `scope`; missing optional columns get their defaults. Raises SchemaError on a missing column.
    """
    cols = set(raw.columns)
    if "model_id" not in cols and "model" not in cols:
        if defaults.model is None:
            raise SchemaError(f"{source}: no model column; pass --model (e.g. --model claude-haiku-4.5)")
        raw = raw.mutate(model_id=ibis.literal(defaults.model))
    elif "model_id" not in cols:
        raw = raw.rename(model_id="model")
    if defaults.model is not None:
        raw = raw.mutate(model_id=raw.model_id.fill_null(defaults.model))
    missing = [c for c in ("ts", "input_tokens", "output_tokens") if c not in raw.columns]
    if missing:
        raise SchemaError(f"{source}: missing required column(s) {missing}; canonical columns are "
                          f"{list(COLUMNS)}")
    raw = _resolve_models(raw, catalog, source)
    fills: dict[str, Any] = {
        "request_id": _null("request_id"),
        "call_type": ibis.literal(defaults.call_type),
        "region": ibis.literal(defaults.region),
        "tier": ibis.literal(defaults.tier),
        "cache_read_tokens": ibis.literal(0, type="int64"),
        "cache_write_tokens": ibis.literal(0, type="int64"),
        "cache_write_1h_tokens": ibis.literal(0, type="int64"),
        "prefix": _null("prefix"),
        "latency_ms": _null("latency_ms"),
        "interactive": _null("interactive"),
        "tags": ibis.map(ibis.literal([], type="array<string>"), ibis.literal([], type="array<string>")),
    }
    exprs = {}
    for name in COLUMNS:
        target = IBIS_SCHEMA[name]
        if name in raw.columns:
            col = raw[name]
            if name == "ts" and col.type().is_timestamp() and col.type().timezone is None:
                col = col.cast(dt.Timestamp(timezone="UTC"))
            elif name in ("call_type",):
                col = col.cast("string").fill_null(defaults.call_type)
            elif name in ("region", "tier"):
                col = col.cast("string").fill_null(fills[name])
            elif name in TOKEN_COLUMNS:
                col = col.cast("int64").fill_null(0) if name not in ("input_tokens", "output_tokens") \
                    else col.cast("int64")
            elif col.type() != target:
                col = col.cast(target)
            exprs[name] = col
        else:
            exprs[name] = fills[name]
    return raw.select(**exprs)


def _resolve_models(raw: ibis.Table, catalog: Catalog, source: str) -> ibis.Table:
    """Map the distinct raw model ids to (model, scope) in Python, then join: O(distinct ids)."""
    has_scope = "scope" in raw.columns
    ids = raw.select("model_id").distinct().to_pyarrow().column("model_id").to_pylist()
    if any(i is None for i in ids):
        raise SchemaError(f"{source}: some rows have no model id; pass --model to price them")
    resolved = {i: catalog.resolve_model(i) for i in ids}
    mapping = ibis.memtable(
        pa.table({
            "model_id": pa.array(list(resolved), pa.string()),
            "_model": pa.array([r.model for r in resolved.values()], pa.string()),
            "_scope": pa.array([r.scope for r in resolved.values()], pa.string()),
        })
    )
    joined = raw.left_join(mapping, "model_id").drop("model_id_right") if ids else raw
    scope = joined.scope.fill_null(joined._scope) if has_scope else joined._scope
    return joined.mutate(model=joined._model, scope=scope).drop("_model", "_scope", "model_id")


def validate(
    table: ibis.Table, *, source: str = "input", on_error: str = "raise"
) -> tuple[ibis.Table, dict[str, int]]:
    """Check types and values in one pass.

    With on_error="raise", name the first bad row and what is wrong. With "skip", drop bad rows and return
    their count by reason (a row is counted under its first failing check).
    """
    schema = table.schema()
    for name in COLUMNS:
        if name not in schema:
            raise SchemaError(f"{source}: missing column {name!r}")
    checks: dict[str, ibis.BooleanValue] = {
        "ts is null": table.ts.isnull(),
        "model is null": table.model.isnull(),
        "tier is not one of " + "/".join(TIERS): ~table.tier.isin(TIERS),
    }
    for c in TOKEN_COLUMNS:
        checks[f"{c} is null"] = table[c].isnull()
        checks[f"{c} is negative"] = table[c] < 0
    aggs = {f"c{i}": expr.fill_null(True).cast("int64").sum() for i, expr in enumerate(checks.values())}
    counts = table.aggregate(**aggs).to_pyarrow().to_pylist()[0]
    bad = {reason: int(counts[f"c{i}"] or 0) for i, reason in enumerate(checks) if counts[f"c{i}"]}
    if not bad:
        return table, {}
    if on_error == "skip":
        any_bad = ibis.or_(*[e.fill_null(True) for e in checks.values()])
        first_reason: dict[str, int] = {}
        # count each bad row once, under its first failing check
        case = ibis.cases(*[(e.fill_null(True), r) for r, e in checks.items()], else_=None)
        for d in table.filter(any_bad).group_by(reason=case).agg(n=ibis._.count()).to_pyarrow().to_pylist():
            first_reason[d["reason"]] = int(d["n"])
        return table.filter(~any_bad), first_reason
    reason = next(iter(bad))
    row = _first_bad_row(table, checks[reason])
    raise SchemaError(f"{source}: row {row}: {reason} ({bad[reason]} row(s) in all); fix the value, or pass "
                      "--on-error skip to skip and count bad rows")


def _first_bad_row(table: ibis.Table, cond: ibis.BooleanValue) -> int:
    """1-based position of the first row matching `cond`, in input order."""
    t = table.mutate(_bad=cond.fill_null(True)).mutate(_row=ibis.row_number())
    hit = t.filter(t._bad).aggregate(first=t._row.min()).to_pyarrow().to_pylist()[0]["first"]
    return int(hit) + 1
