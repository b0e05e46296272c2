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
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from ..catalog import Catalog
from ..engine import connection
from ..errors import InputError
from ._csv import _quote, explain_duckdb_error

if TYPE_CHECKING:
    from . import Raw, ReadOptions

NAME = "cur"
_n = itertools.count()

REGION_CODES: dict[str, str] = {
    "us-east-1": "USE1", "us-east-2": "USE2", "us-west-1": "USW1", "us-west-2": "USW2", "ca-central-1": "CAN1",
    "ca-west-1": "CAW1", "sa-east-1": "SAE1", "eu-west-1": "EU", "eu-west-2": "EUW2", "eu-west-3": "EUW3",
    "eu-central-1": "EUC1", "eu-central-2": "EUC2", "eu-north-1": "EUN1", "eu-south-1": "EUS1",
    "eu-south-2": "EUS2", "ap-northeast-1": "APN1", "ap-northeast-2": "APN2", "ap-northeast-3": "APN3",
    "ap-southeast-1": "APS1", "ap-southeast-2": "APS2", "ap-south-1": "APS3", "ap-southeast-3": "APS4",
    "ap-south-2": "APS5", "ap-southeast-4": "APS6", "ap-southeast-5": "APS7", "ap-east-1": "APE1",
    "me-central-1": "MEC1", "me-south-1": "MES1", "il-central-1": "ILC1", "af-south-1": "AFS1",
    "us-gov-west-1": "UGW1", "us-gov-east-1": "UGE1",
}
CODE_REGIONS = {v: k for k, v in REGION_CODES.items()}
KIND_SUFFIX = {"input": "input-tokens", "output": "output-tokens", "cache_read": "cache-read-input-token-count",
               "cache_write_5m": "cache-write-input-token-count",
               "cache_write_1h": "cache-write-1h-input-token-count"}
GEOS = ("global", "us-gov", "us", "eu", "apac", "jp", "au", "ca")
_FIRST_PARTY = re.compile(
    r"^(?P<code>[A-Z0-9]+)-(?P<name>.+?)-(?P<kind>input-tokens|output-tokens|cache-read-input-token-count|"
    r"cache-write-(?:1h-)?input-token-count|cache-write-input-token-count-1h)"
    r"(?:-(?P<tier>batch|flex|priority))?(?:-cross-region(?:-(?P<geo>[a-z-]+))?)?$", re.IGNORECASE)
_MARKETPLACE = re.compile(
    r"^(?P<code>[A-Z0-9]+)-MP:(?:[A-Z0-9]+_)?(?P<what>[A-Za-z0-9]+?)(?:_(?P<geo>Global|Regional|CrossRegion))?"
    r"-Units$")


def usage_type_sql(code: str, billing: str, kind: str, tier: str, scope: str) -> str:
    """SQL that builds a first-party usage type from column expressions (used by the CUR writer)."""
    kinds = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in KIND_SUFFIX.items())
    return (f"{code} || '-' || {billing} || '-' || (CASE {kind} {kinds} END) || "
            f"(CASE WHEN {tier} = 'standard' THEN '' ELSE '-' || {tier} END) || "
            f"(CASE WHEN {scope} = 'in-region' THEN '' ELSE '-cross-region-' || {scope} END)")


def default_geo(region: str) -> str:
    """The geography of a cross-region usage type that does not name one, from the billing region."""
    if region.startswith("us-gov"):
        return "us-gov"
    head = region.split("-")[0]
    return {"us": "us", "eu": "eu", "ap": "apac", "ca": "ca"}.get(head, head)


@dataclass(frozen=True)
class UsageType:
    region: str
    billing_name: str
    kind: str
    tier: str
    scope: str


def parse_usage_type(usage_type: str, product_name: str | None = None) -> UsageType | None:
    """The parts of a Bedrock token usage type, or None if it is not a token charge."""
    m = _FIRST_PARTY.match(usage_type)
    if m:
        region = CODE_REGIONS.get(m["code"].upper())
        if region is None:
            return None
        k = m["kind"].lower()
        kind = ("input" if k == "input-tokens" else "output" if k == "output-tokens" else
                "cache_read" if "read" in k else "cache_write_1h" if "1h" in k else "cache_write_5m")
        geo = (m["geo"] or "").lower()
        if "cross-region" in usage_type.lower():
            scope = geo if geo in GEOS else default_geo(region)
        else:
            scope = "in-region"
        return UsageType(region, m["name"], kind, (m["tier"] or "standard").lower(), scope)
    m = _MARKETPLACE.match(usage_type)
    if m and product_name:
        region = CODE_REGIONS.get(m["code"].upper())
        what = m["what"].lower()
        kind = ("cache_read" if "cacheread" in what else "cache_write_1h" if "cachewrite1h" in what else
                "cache_write_5m" if "cachewrite" in what else "input" if "input" in what else
                "output" if "output" in what else None)
        if region is None or kind is None:
            return None
        tier = "batch" if "batch" in what else "standard"
        scope = "global" if (m["geo"] or "").lower() == "global" else "in-region"
        return UsageType(region, product_name, kind, tier, scope)
    return None


def _units(usage_type: str, pricing_unit: str | None) -> float:
    """Tokens per unit of `line_item_usage_amount`."""
    u = (pricing_unit or "").lower()
    if "million" in usage_type.lower() or "1m" in u or "million" in u:
        return 1_000_000.0
    if "1k" in u or "thousand" in u or "k tokens" in u:
        return 1_000.0
    return 1.0


@dataclass
class Cur:
    """Daily Bedrock token charges from a CUR: one row per day, model, scope, region, tier, token kind."""

    table: pa.Table
    notes: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)


_COLS = ("line_item_usage_type", "line_item_usage_amount", "line_item_unblended_cost", "line_item_usage_start_date",
         "line_item_product_code", "line_item_line_item_type", "pricing_unit")


def _load(path: Path) -> str:
    """SQL relation over one CUR file with the columns we need, `product_name` pulled from `product`."""
    con = connection()
    head = path.open("rb").read(4)
    fn = "read_parquet" if head == b"PAR1" else "read_csv"
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


def read_cur(paths: list[str | Path], catalog: Catalog, *, on_error: str = "raise") -> Cur:
    """Bedrock token charges of one or more CUR files, per day/model/scope/region/tier/token kind."""
    from . import expand_paths

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
    groups = con.raw_sql(f"""SELECT usage_type, any_value(product_name), pricing_unit, item_type,
        date_trunc('day', start)::DATE AS day, sum(amount), sum(cost), count(*)
        FROM _cur_{n} WHERE amount IS NOT NULL AND cost IS NOT NULL AND start IS NOT NULL
        GROUP BY usage_type, pricing_unit, item_type, day""").fetchall()
    notes: list[str] = []
    names = catalog.billing_names
    by_name = {m.name.lower(): k for k, m in catalog.bedrock_models.items()}
    rows: dict[tuple, list[float]] = {}
    other_cost: dict[str, float] = {}
    for usage_type, product, unit, item_type, day, amount, cost, _count in groups:
        ut = parse_usage_type(usage_type, product)
        if ut is None or item_type not in ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"):
            key = usage_type if ut is None else f"{item_type} lines"
            other_cost[key] = other_cost.get(key, 0.0) + float(cost)
            continue
        model = names.get(ut.billing_name) or _model_by_product(ut.billing_name, by_name)
        if model is None:
            if on_error != "skip":
                raise InputError(f"CUR usage type {usage_type!r}: billing name {ut.billing_name!r} is not in the "
                                 "catalog; add it to the model's `billing_names` in your catalog file (--catalog "
                                 "FILE), or pass --on-error skip")
            skipped[f"cur unknown billing name {ut.billing_name}"] = skipped.get(
                f"cur unknown billing name {ut.billing_name}", 0) + int(_count)
            continue
        key = (day, model, ut.scope, ut.region, ut.tier, ut.kind)
        acc = rows.setdefault(key, [0.0, 0.0])
        acc[0] += float(amount) * _units(usage_type, unit)
        acc[1] += float(cost)
    if other_cost:
        top = sorted(other_cost.items(), key=lambda kv: -abs(kv[1]))[:5]
        notes.append("CUR lines that are not token usage (not reconciled): " +
                     ", ".join(f"{k} ${v:,.2f}" for k, v in top) + (" ..." if len(other_cost) > 5 else ""))
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
    con.raw_sql(f"DROP TABLE _cur_{n}")
    return Cur(table=table, notes=notes, skipped=skipped)


def _model_by_product(name: str, by_name: dict[str, str]) -> str | None:
    """A marketplace product name (`Claude 3.5 Sonnet (Amazon Bedrock Edition)`) to a catalog model."""
    base = re.sub(r"\s*\(.*\)\s*$", "", name).strip().lower()
    return by_name.get(base)


def sniff(path: Path, head: bytes) -> bool:
    if head.startswith(b"PAR1"):
        try:
            cols = duckdb.sql(f"SELECT * FROM read_parquet({_quote(str(path))}) LIMIT 0").columns
        except duckdb.Error:
            return False
        return "line_item_usage_type" in cols
    first = head.split(b"\n", 1)[0]
    return b"line_item_usage_type" in first and b"line_item_unblended_cost" in first


def read(paths: list[Path], options: ReadOptions) -> Raw:
    raise InputError(f"{paths[0]}: this is a Cost and Usage Report (daily cost, not requests); compare it with "
                     "your logs with `inferplan reconcile --logs LOGS --cur CUR`")
