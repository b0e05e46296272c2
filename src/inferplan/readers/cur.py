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

import duckdb
import pyarrow as pa

from ..catalog import Catalog
from ..engine import connection
from ..errors import InputError, UnknownModelError
from ._csv import _quote, explain_duckdb_error
from .base import InputFile, Raw, ReadOptions, expand_paths, head_bytes

NAME = "cur"
_n = itertools.count()

# AWS's billing short codes (docs.aws.amazon.com/global-infrastructure/latest/regions/aws-region-billing-codes.html,
# checked 2026-12-02): the prefix of every CUR usage type.
REGION_CODES: dict[str, str] = {
    "us-east-1": "USE1", "us-east-2": "USE2", "us-west-1": "USW1", "us-west-2": "USW2", "ca-central-1": "CAN1",
    "ca-west-1": "CAN2", "mx-central-1": "MXC1", "sa-east-1": "SAE1", "eu-west-1": "EU", "eu-west-2": "EUW2",
    "eu-west-3": "EUW3",
    "eu-central-1": "EUC1", "eu-central-2": "EUC2", "eu-north-1": "EUN1", "eu-south-1": "EUS1",
    "eu-south-2": "EUS2", "ap-northeast-1": "APN1", "ap-northeast-2": "APN2", "ap-northeast-3": "APN3",
    "ap-southeast-1": "APS1", "ap-southeast-2": "APS2", "ap-south-1": "APS3", "ap-southeast-3": "APS4",
    "ap-south-2": "APS5", "ap-southeast-4": "APS6", "ap-southeast-5": "APS7", "ap-southeast-6": "APS8",
    "ap-southeast-7": "APS9", "ap-east-1": "APE1", "ap-east-2": "APE2",
    "me-central-1": "MEC1", "me-south-1": "MES1", "il-central-1": "ILC1", "af-south-1": "AFS1",
    "us-gov-west-1": "UGW1", "us-gov-east-1": "UGE1",
}
CODE_REGIONS = {v: k for k, v in REGION_CODES.items()}
KIND_SUFFIX = {"input": "input-tokens", "output": "output-tokens", "cache_read": "cache-read-input-token-count",
               "cache_write_5m": "cache-write-input-token-count",
               "cache_write_1h": "cache-write-1h-input-token-count"}
GEOS = ("global", "us-gov", "us", "eu", "apac", "jp", "au", "ca")
# Words of a usage type after its model segment, by meaning (docs/readers.md, CUR section, says where each
# family was seen). Anything else makes the line "not understood": it is listed with its dollars, never guessed.
_TIER_WORDS = {"batch": "batch", "flex": "flex", "priority": "priority", "standard": "standard"}
_NOISE = {"tokens", "token", "count", "units", "text"}
_MODALITIES = {"speech", "audio", "image", "images", "video"}
_NOT_TOKENS = {"reserved", "provisioned", "storage", "customization", "training", "tpm", "minute", "custom",
               "search", "created", "request", "second", "seconds"}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD_DIGITS = re.compile(r"^(read|write)(\d+[mh])$")


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
    """A Bedrock text-token usage type, parsed. `family` names the grammar it was written in."""

    region: str
    billing_name: str
    kind: str
    tier: str
    scope: str
    long_context: bool = False
    family: str = "first-party"


@dataclass(frozen=True)
class NotTokens:
    """A Bedrock usage type that is not a text-token charge (images, speech, provisioned, ...): why."""

    reason: str


def _words(text: str) -> list[str]:
    """`CacheWrite1hInputTokenCount_Global` -> cache write 1h input token count global (lower case)."""
    out: list[str] = []
    for w in re.split(r"[-_]", _CAMEL.sub("_", text)):
        w = w.lower()
        m = _WORD_DIGITS.match(w)
        out.extend([m[1], m[2]] if m else [w] if w else [])
    return out


def _classify(words: list[str], region: str) -> tuple[str, str, str, bool] | NotTokens | None:
    """(kind, tier, scope, long context) from the words of a usage type, NotTokens, or None if not understood."""
    bad = _NOT_TOKENS.intersection(words)
    if bad:
        return NotTokens(f"not a token charge ({sorted(bad)[0]})")
    anchor = next((i for i, w in enumerate(words) if w in ("input", "output", "cache", "cached")), None)
    if anchor is None:
        return None
    near = words[max(anchor - 1, 0):anchor + 2]
    mod = _MODALITIES.intersection(near)
    if mod:
        return NotTokens(f"{sorted(mod)[0]} tokens (not text tokens)")
    head, rest = words[:anchor], words[anchor:]
    ttl = next((w for w in words if re.fullmatch(r"\d+[mh]", w)), None)
    if rest[0] == "cache" and len(rest) > 1 and rest[1] in ("read", "write"):
        kind = "cache_read" if rest[1] == "read" else {None: "cache_write_5m", "5m": "cache_write_5m",
                                                        "1h": "cache_write_1h"}.get(ttl, "")
        rest = [w for w in rest[2:] if w not in ("input", ttl)]
        if not kind:
            return NotTokens(f"cache write with a {ttl} TTL (no catalog price)")
    elif rest[0] == "cached" and rest[1:2] == ["input"]:
        kind, rest = "cache_read", rest[2:]
    else:
        kind, rest = rest[0], rest[1:]
    tier, scope, long_context, cross = "standard", "in-region", False, False
    qualifiers = [*head, *rest]  # MP camel spells some before the anchor: MillionBatchInputTokens
    i = 0
    while i < len(qualifiers):
        w, nxt = qualifiers[i], qualifiers[i + 1] if i + 1 < len(qualifiers) else ""
        if (w, nxt) in (("long", "context"), ("long", "ctx"), ("latency", "optimized"), ("cross", "region")):
            if w == "long":
                long_context = True
            elif w == "latency":
                tier = "latency-optimized"
            else:
                cross = True
            i += 2
            continue
        if w in _TIER_WORDS:
            tier = tier if w == "standard" else _TIER_WORDS[w]
        elif w == "lctx":
            long_context = True
        elif w == "global":
            scope = "global"
        elif w == "geo" or (cross and w in GEOS):
            scope = w if w in GEOS else default_geo(region)
        elif w == "million" or w in _NOISE:
            pass
        else:
            return None
        i += 1
    if cross and scope == "in-region":
        scope = default_geo(region)
    return kind, tier, scope, long_context


def parse_usage_type(usage_type: str, product_name: str | None = None) -> UsageType | NotTokens | None:
    """The parts of a Bedrock usage type: a text-token charge, NotTokens (with why), or None (not understood).

    Three grammars (docs/readers.md): first-party `USE1-Claude4Sonnet-input-tokens-cross-region-global-batch`,
    bedrock-mantle `USE1-xai.grok-4.3-mantle-cache-read-tokens-global-standard` (the model id is in the usage
    type) and Marketplace `USE1-MP:USE1_InputTokenCount_Global-Units` or `USE1-MP:USE1_input_tokens_global_standard
    -Units` (the model is `product_name`).
    """
    code, dash, rest = usage_type.partition("-")
    region = CODE_REGIONS.get(code.upper())
    if not dash or region is None or not rest:
        return None
    if rest.startswith("MP:"):
        dim = rest[3:].removesuffix("-Units")
        dim = re.sub(r"^[A-Z0-9]+_", "", dim)
        got = _classify(_words(dim), region)
        if isinstance(got, tuple) and not product_name:
            return None
        if isinstance(got, tuple):
            kind, tier, scope, lc = got
            return UsageType(region, product_name or "", kind, tier, scope, lc, "marketplace")
        return got
    if "-mantle-" in rest:
        model, _, tail = rest.partition("-mantle-")
        got = _classify(tail.split("-"), region)
        if isinstance(got, tuple):
            kind, tier, scope, lc = got
            return UsageType(region, model, kind, tier, scope, lc, "mantle")
        return got
    parts = rest.split("-")
    anchor = next((i for i, w in enumerate(parts) if i > 0 and w.lower() in ("input", "output", "cache")
                   and (w.islower() or w.isupper())), None)
    if anchor is None:
        return _classify([w.lower() for w in parts[1:]], region) if len(parts) > 1 else None
    start = anchor - 1 if parts[anchor - 1] in _MODALITIES | {"text"} and anchor > 1 else anchor
    name = "-".join(parts[:start])
    got = _classify([w.lower() for w in parts[start:]], region)
    if isinstance(got, tuple):
        kind, tier, scope, lc = got
        return UsageType(region, name, kind, tier, scope, lc)
    return got


def _norm(name: str) -> str:
    """Spelling-free key of a billing or product name: `Llama3-1-405B` and `Llama3.1-405B` -> `llama31405b`."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


class _ModelIndex:
    """Billing names, product names and (mantle) model ids of a CUR, resolved to catalog models."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.exact = dict(catalog.billing_names)
        loose: dict[str, set[str]] = {}
        for key, m in catalog.bedrock_models.items():
            names = [*m.billing_names, m.name, f"{m.provider} {m.name}"]
            for n in names:
                loose.setdefault(_norm(n), set()).add(key)
        self.loose = {k: next(iter(v)) for k, v in loose.items() if len(v) == 1}

    def model(self, ut: UsageType) -> str | None:
        if ut.family == "mantle":
            try:
                return self.catalog.resolve_model(ut.billing_name).model
            except UnknownModelError:
                return None
        if ut.billing_name in self.exact:
            return self.exact[ut.billing_name]
        name = re.sub(r"\s*\(.*\)\s*$", "", ut.billing_name) if ut.family == "marketplace" else ut.billing_name
        return self.loose.get(_norm(name))


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
    index = _ModelIndex(catalog)
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
