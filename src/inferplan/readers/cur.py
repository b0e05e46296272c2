"""AWS Cost and Usage Report (CUR 2.0 / Data Exports, CSV or Parquet): Bedrock token charges per day.

A CUR is not per request: `read_cur()` returns daily tokens and cost per model, scope, region, tier and token
kind, which `inferplan reconcile` compares with the repricing of the logs. Usage types are parsed once per
distinct value: `USE1-Claude4Sonnet-cache-read-input-token-count-cross-region-global` is region us-east-1,
billing name `Claude4Sonnet` (mapped to a catalog model by `bedrock_models.billing_names`), token kind cache
read, tier standard, scope global. Marketplace-billed models (`USE1-MP:USE1_InputTokenCount_Global-Units`)
are named by `product['product_name']`. Amounts are normalised from 1K/1M units to tokens.

As an `analyze` input it is recognised and refused with a pointer to `reconcile`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from ..catalog import Catalog
from ..catalog.usage_types import (
    ModelIndex,
    NotTokens,
    UsageType,
    parse_usage_type,
)
from ..engine import connection
from ..errors import InputError
from ._csv import _quote, explain_duckdb_error
from .base import InputFile, Raw, ReadOptions, expand_paths, head_bytes

NAME = "cur"
_n = itertools.count()


def _units(usage_type: str, pricing_unit: str | None) -> tuple[float, bool]:
    """Tokens per unit of `line_item_usage_amount`, and whether that was assumed rather than read."""
    u = (pricing_unit or "").lower()
    if "million" in usage_type.lower() or "1m" in u or "million" in u:
        return 1_000_000.0, False
    if "1k" in u or "thousand" in u or "k tokens" in u:
        return 1_000.0, False
    if "-MP:" in usage_type:  # the Price List prices Marketplace token dimensions per 1M tokens
        return 1_000_000.0, True
    return 1.0, "token" not in u


@dataclass
class Cur:
    """Daily Bedrock token charges from a CUR: one row per day, model, scope, region, tier, token kind.

    `unreconciled` lists every line group with cost that is not in `table`, whole, with its dollars:
    `{usage_type, product_name, item_type, reason, lines, cost_usd}`.
    """

    table: pa.Table
    notes: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    unreconciled: list[dict] = field(default_factory=list)

    @property
    def unreconciled_usd(self) -> float:
        return float(sum(u["cost_usd"] for u in self.unreconciled))


_COLS = ("line_item_usage_type", "line_item_usage_amount", "line_item_unblended_cost", "line_item_usage_start_date",
         "line_item_product_code", "line_item_line_item_type", "pricing_unit")
_USAGE_ITEMS = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage")


def _load(path: InputFile) -> str:
    """SQL relation over one CUR file with the columns we need, `product_name` pulled from `product`."""
    con = connection()
    fn = "read_parquet" if head_bytes(path, 4) == b"PAR1" else "read_csv"
    opts = "" if fn == "read_parquet" else ", header=true, all_varchar=true"
    src = f"{fn}({_quote(str(path))}{opts})"
    try:
        cols = set(con.raw_sql(f"SELECT * FROM {src} LIMIT 0").fetchdf().columns)
    except duckdb.Error as exc:
        raise InputError(explain_duckdb_error(path, exc)) from None
    missing = [c for c in _COLS if c not in cols and c != "pricing_unit"]
    if missing:
        raise InputError(f"{path}: not a CUR 2.0 export: missing column(s) {missing}")
    if "product" in cols:
        ptype = con.raw_sql(f"SELECT typeof(product) FROM {src} LIMIT 1").fetchone()
        ptype = ptype[0] if ptype else "VARCHAR"
        pname = ("product['product_name']" if ptype.startswith("MAP") else
                 "product.product_name" if ptype.startswith("STRUCT") else
                 "json_extract_string(product, '$.product_name')")
    else:
        pname = "product_product_name" if "product_product_name" in cols else "NULL"
    unit = "pricing_unit" if "pricing_unit" in cols else "NULL"
    return (f"SELECT line_item_usage_type AS usage_type, {pname}::VARCHAR AS product_name, {unit} AS pricing_unit, "
            "TRY_CAST(line_item_usage_amount AS DOUBLE) AS amount, TRY_CAST(line_item_unblended_cost AS DOUBLE) "
            "AS cost, TRY_CAST(line_item_usage_start_date AS TIMESTAMP) AS start, "
            "line_item_product_code AS product_code, "
            f"line_item_line_item_type AS item_type FROM {src}")


def _listing(items: list[dict]) -> str:
    """Every unreconciled line group, largest first, with its dollars: no `...`."""
    return "; ".join(f"{u['usage_type'] or '(no usage type)'}"
                     f"{' (' + u['product_name'] + ')' if '-MP:' in u['usage_type'] else ''}"
                     f"{' [' + u['item_type'] + ']' if u['item_type'] not in _USAGE_ITEMS else ''} "
                     f"${u['cost_usd']:,.6g} ({u['lines']:,} line{'s' if u['lines'] != 1 else ''})"
                     for u in sorted(items, key=lambda u: (-abs(u["cost_usd"]), u["usage_type"])))


def read_cur(paths: list[str | Path], catalog: Catalog, *, on_error: str = "raise") -> Cur:
    """Bedrock token charges of one or more CUR files, per day/model/scope/region/tier/token kind.

    Every line with cost is either in the table or in `unreconciled` with its reason. A token charge whose
    model the catalog does not know is an error naming every such usage type and its dollars, unless
    `on_error="skip"`: then it is counted in `skipped` and listed like the rest.
    """
    con = connection()
    files = expand_paths(paths)
    rel = " UNION ALL ".join(_load(f) for f in files)
    n = next(_n)
    con.raw_sql(f"""CREATE OR REPLACE TEMP TABLE _cur_{n} AS SELECT * FROM ({rel})
        WHERE (product_code ILIKE '%bedrock%' OR product_name ILIKE '%bedrock%' OR usage_type LIKE '%-MP:%')""")
    bad = con.raw_sql(f"SELECT count(*) FILTER (WHERE amount IS NULL), count(*) FILTER (WHERE cost IS NULL), "
                      f"count(*) FILTER (WHERE start IS NULL) FROM _cur_{n}").fetchone()
    skipped: dict[str, int] = {}
    for count, reason in zip(bad, ("usage amount not a number", "cost not a number", "start date invalid"),
                             strict=True):
        if count:
            if on_error != "skip":
                raise InputError(f"{files[0] if len(files) == 1 else 'CUR'}: {count} line(s) with {reason}; fix "
                                 "them or pass --on-error skip")
            skipped[f"cur {reason}"] = int(count)
    groups = con.raw_sql(f"""SELECT coalesce(usage_type, ''), coalesce(product_name, ''), pricing_unit, item_type,
        date_trunc('day', start)::DATE AS day, sum(amount), sum(cost), count(*)
        FROM _cur_{n} WHERE amount IS NOT NULL AND cost IS NOT NULL AND start IS NOT NULL
        GROUP BY ALL""").fetchall()
    con.raw_sql(f"DROP TABLE _cur_{n}")
    index = ModelIndex(catalog)
    parsed: dict[tuple[str, str], UsageType | NotTokens | None] = {}
    rows: dict[tuple, list[float]] = {}
    left: dict[tuple[str, str, str, str], list[float]] = {}  # (usage type, product, item type, reason)
    unknown: set[tuple[str, str, str, str]] = set()
    assumed_units: set[str] = set()
    long_context = 0.0

    def leave(usage_type: str, product: str, item_type: str, reason: str, cost: float, count: int) -> None:
        acc = left.setdefault((usage_type, product, item_type, reason), [0.0, 0])
        acc[0] += float(cost)
        acc[1] += int(count)

    for usage_type, product, unit, item_type, day, amount, cost, count in groups:
        key = (usage_type, product)
        if key not in parsed:
            parsed[key] = parse_usage_type(usage_type, product or None)
        ut = parsed[key]
        if item_type not in _USAGE_ITEMS:
            leave(usage_type, product, item_type, f"{item_type} line, not usage", cost, count)
            continue
        if ut is None:
            leave(usage_type, product, item_type, "not a Bedrock text-token usage type", cost, count)
            continue
        if isinstance(ut, NotTokens):
            leave(usage_type, product, item_type, ut.reason, cost, count)
            continue
        model = index.model(ut)
        if model is None:
            what = "model id" if ut.family == "mantle" else "product name" if ut.family == "marketplace" else \
                "billing name"
            reason = f"unknown {what} {ut.billing_name}"
            unknown.add((usage_type, product, item_type, reason))
            leave(usage_type, product, item_type, reason, cost, count)
            continue
        bm = catalog.bedrock_models[model]
        if bm.billing_unit != "token":
            leave(usage_type, product, item_type, f"{model} is billed per {bm.billing_unit}, not token-priced",
                  cost, count)
            continue
        per_unit, assumed = _units(usage_type, unit)
        if assumed:
            assumed_units.add(f"{usage_type} ({unit or 'no unit'})")
        row = (day, model, ut.scope, ut.region, ut.tier, ut.kind)
        acc = rows.setdefault(row, [0.0, 0.0])
        acc[0] += float(amount) * per_unit
        acc[1] += float(cost)
        long_context += float(cost) if ut.long_context else 0.0
    unreconciled = [{"usage_type": ut, "product_name": prod, "item_type": it, "reason": why,
                     "lines": int(v[1]), "cost_usd": v[0]} for (ut, prod, it, why), v in left.items()]
    bad_names = [u for u in unreconciled if (u["usage_type"], u["product_name"], u["item_type"], u["reason"])
                 in unknown]
    if bad_names and on_error != "skip":
        raise InputError(
            f"CUR token charges for models the catalog does not know (${sum(u['cost_usd'] for u in bad_names):,.2f}"
            f"): {_listing(bad_names)}. Add the model's billing name to `billing_names` (or its product name as "
            "`name`) in your catalog file (--catalog FILE), or pass --on-error skip to list them unreconciled")
    for u in bad_names:
        k = f"cur {u['reason']}"
        skipped[k] = skipped.get(k, 0) + u["lines"]
    notes: list[str] = []
    by_reason: dict[str, list[dict]] = {}
    for u in unreconciled:
        group = "unknown model" if u in bad_names else u["reason"]
        by_reason.setdefault(group, []).append(u)
    for reason, items in sorted(by_reason.items()):
        total = sum(u["cost_usd"] for u in items)
        notes.append(f"CUR lines not reconciled, {reason}: ${total:,.2f} in {len(items)} usage type(s): "
                     f"{_listing(items)}")
    if assumed_units:
        notes.append("CUR pricing_unit does not say the token unit of these usage types; amounts read as "
                     "millions of tokens for Marketplace (-MP:) types (the Price List's unit) and as tokens "
                     "otherwise: " + ", ".join(sorted(assumed_units)))
    if long_context:
        notes.append(f"long-context CUR lines (${long_context:,.2f}) are reconciled with their token kind")
    keys = sorted(rows)
    table = pa.table({
        "day": pa.array([k[0] for k in keys], pa.date32()),
        "model": pa.array([k[1] for k in keys], pa.string()),
        "scope": pa.array([k[2] for k in keys], pa.string()),
        "region": pa.array([k[3] for k in keys], pa.string()),
        "tier": pa.array([k[4] for k in keys], pa.string()),
        "token_kind": pa.array([k[5] for k in keys], pa.string()),
        "tokens": pa.array([round(rows[k][0]) for k in keys], pa.int64()),
        "cost_usd": pa.array([rows[k][1] for k in keys], pa.float64()),
    })
    return Cur(table=table, notes=notes, skipped=skipped, unreconciled=unreconciled)


def sniff(path: InputFile, head: bytes) -> bool:
    if head.startswith(b"PAR1"):
        try:
            cols = [d[0] for d in connection().raw_sql(f"SELECT * FROM read_parquet({_quote(str(path))}) LIMIT 0"
                                                       ).description]
        except duckdb.Error:
            return False
        return "line_item_usage_type" in cols
    first = head.split(b"\n", 1)[0]
    return b"line_item_usage_type" in first and b"line_item_unblended_cost" in first


def read(paths: list[InputFile], options: ReadOptions) -> Raw:
    raise InputError(f"{paths[0]}: this is a Cost and Usage Report (daily cost, not requests); compare it with "
                     "your logs with `inferplan reconcile --logs LOGS --cur CUR`")
