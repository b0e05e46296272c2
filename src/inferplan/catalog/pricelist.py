"""`prices update`: refresh the catalog from AWS Price List offer files and LiteLLM's price map.

Offer files are AWS's public JSON (`formatVersion`, `offerCode`, `publicationDate`, `products{sku: {productFamily,
attributes}}`, `terms{OnDemand|Reserved: {sku: {offerTermCode: {priceDimensions, termAttributes, effectiveDate}}}}`).
The EC2 one is gigabytes, so a file is streamed once (ijson, C backend) with three push parsers fed the same chunks:
products are filtered as they arrive (kept: the few the catalog uses) and the terms of kept SKUs only are
collected; memory stays bounded by the kept products, not the file. Index files (`index.json` offer index,
`region_index.json`) are followed to the offer files they name, looked up in the same local mirror.

What is written is a user catalog file (rows merged over the packaged data on load), never the packaged data;
`diff` lists each field that changed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import ijson
import yaml

from ..errors import CatalogError, UnknownModelError
from ..regions import REGIONS
from . import Catalog
from .schema import TABLES
from .usage_types import ModelIndex, NotTokens, parse_usage_type

BEDROCK_OFFERS = ("AmazonBedrock", "AmazonBedrockFoundationModels", "AmazonBedrockService")
OFFERS = (*BEDROCK_OFFERS, "AmazonEC2", "AmazonSageMaker")
_CHUNK = 1 << 20


@dataclass
class OfferStats:
    """What one offer file held and what was kept from it."""

    path: str
    offer: str
    publication: str
    products_read: int = 0
    products_kept: int = 0
    terms_read: int = 0
    rows: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1


@dataclass
class Update:
    """Rows read from price sources, by catalog table and key, ready to merge and diff."""

    rows: dict[str, dict[tuple, dict[str, Any]]] = field(default_factory=dict)
    stats: list[OfferStats] = field(default_factory=list)
    reserved: list[dict[str, Any]] = field(default_factory=list)  # EC2 Reserved terms of kept products
    notes: list[str] = field(default_factory=list)

    def put(self, table: str, row: dict[str, Any]) -> None:
        """Add a read row (fields of one key from several SKUs merge; `_effective`, the day the price is in force
        from per its term's effectiveDate, is the latest of them)."""
        keys = TABLES[table][1]
        key = tuple(row.get(k) for k in keys)
        have = self.rows.setdefault(table, {}).setdefault(key, {})
        when = max(filter(None, (have.get("_effective"), row.get("_effective"))), default=None)
        have.update(row)
        if when:
            have["_effective"] = when


# ---- reading offer files -------------------------------------------------------------------------------------

def _header(path: Path) -> dict[str, Any]:
    """Top-level scalars (offerCode, publicationDate, ...): they precede `products` in AWS's files."""
    out: dict[str, Any] = {}
    with path.open("rb") as fh:
        try:
            for prefix, event, value in ijson.parse(fh):
                if prefix in ("products", "terms", "offers", "regions"):
                    out.setdefault("_first", prefix)
                    break
                if "." not in prefix and event in ("string", "number") and prefix:
                    out[prefix] = value
        except ijson.JSONError as exc:
            raise CatalogError(f"{path}: not a JSON Price List file ({exc})") from None
    return out


def _coro(fn):  # type: ignore[no-untyped-def]
    def start(*a: Any) -> Any:
        g = fn(*a)
        next(g)
        return g
    return start


@_coro
def _sink(on_item: Any):  # type: ignore[no-untyped-def]
    """A push target for ijson's kvitems_coro: hands each (key, value) to `on_item`."""
    while True:
        key, value = yield
        on_item(key, value)


def stream_offer(path: Path, keep: Any) -> tuple[dict[str, Any], dict[str, dict], dict[str, dict], dict[str, dict],
                                                   int, int]:
    """One pass over an offer file: (header, kept products, their OnDemand terms, their Reserved terms, products
    read, terms read). `keep(sku, product) -> info | None` decides which products to keep."""
    header = _header(path)
    kept: dict[str, dict] = {}
    on_demand: dict[str, dict] = {}
    reserved: dict[str, dict] = {}
    counts = {"products": 0, "terms": 0}
    done_products = {"seen": False}

    def product(sku: str, p: dict) -> None:
        counts["products"] += 1
        info = keep(sku, p)
        if info is not None:
            kept[sku] = info

    def term(target: dict[str, dict]):  # type: ignore[no-untyped-def]
        def on(sku: str, t: dict) -> None:
            counts["terms"] += 1
            if not counts["products"] and not done_products["seen"]:
                raise CatalogError(f"{path}: terms come before products; inferplan needs AWS's order "
                                   "(products first), as the Price List publishes it")
            if sku in kept:
                target[sku] = t
        return on

    coros = [ijson.kvitems_coro(_sink(product), "products"),
             ijson.kvitems_coro(_sink(term(on_demand)), "terms.OnDemand"),
             ijson.kvitems_coro(_sink(term(reserved)), "terms.Reserved")]
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                for c in coros:
                    c.send(chunk)
        for c in coros:
            c.close()
    except ijson.JSONError as exc:
        raise CatalogError(f"{path}: malformed Price List JSON ({exc})") from None
    return header, kept, on_demand, reserved, counts["products"], counts["terms"]


def _price_dims(term: dict) -> Iterator[dict]:
    for t in term.values():
        for d in (t.get("priceDimensions") or {}).values():
            yield {**d, "_term": t}


def _usd(d: dict) -> float | None:
    v = (d.get("pricePerUnit") or {}).get("USD")
    try:
        return float(v) if v is not None else None
    except ValueError:
        return None


def _day(text: str | None) -> str:
    return (text or "")[:10]


def _effective(dim: dict) -> str | None:
    """The UTC day a price dimension's term is in force from (its `effectiveDate`), or None."""
    day = _day((dim.get("_term") or {}).get("effectiveDate"))
    try:
        return date.fromisoformat(day).isoformat() if day else None
    except ValueError:
        return None


# ---- EC2 -------------------------------------------------------------------------------------------------------

def _ec2(path: Path, header: dict, cat: Catalog, up: Update, regions: set[str] | None) -> OfferStats:
    st = OfferStats(str(path), header.get("offerCode", "AmazonEC2"), _day(header.get("publicationDate")))
    specs = {}
    for r in cat.rows("ec2_instances"):
        specs.setdefault(r.instance, r)  # type: ignore[attr-defined]

    def keep(sku: str, p: dict) -> dict | None:
        a = p.get("attributes") or {}
        itype, region = a.get("instanceType"), a.get("regionCode")
        if not str(p.get("productFamily", "")).startswith("Compute Instance") or not itype or not region:
            st.skip("not a compute instance")
            return None
        if region not in REGIONS:
            st.skip("not an AWS region (a Local or Wavelength Zone, or newer than inferplan's region list)")
            return None
        if regions and region not in regions:
            st.skip("region not asked for")
            return None
        checks = (("operatingSystem", "Linux"), ("tenancy", "Shared"), ("preInstalledSw", "NA"),
                  ("capacitystatus", "Used"))
        for attr, want in checks:
            if a.get(attr, want) != want:
                st.skip(f"{attr} not {want}")
                return None
        if a.get("licenseModel", "No License required") != "No License required":
            st.skip("licenseModel not 'No License required'")
            return None
        accelerated = any(a.get(k) not in (None, "", "0", "NA") for k in ("gpu", "gpuMemory", "inferentia",
                                                                          "trainium"))
        if itype not in specs:
            st.skip("accelerated type without a catalog spec" if accelerated else "instance type not in catalog")
            if accelerated:
                up.notes.append(f"{path.name}: {itype} ({region}) has accelerators but no catalog spec row "
                                "(accelerator, count, memory); add an `ec2_instances:` row to price it")
            return None
        return {"instance": itype, "region": region, "usagetype": a.get("usagetype", "")}

    header, kept, od, res, st.products_read, st.terms_read = stream_offer(path, keep)
    st.products_kept = len(kept)
    for sku, info in kept.items():
        found = _hourly(od.get(sku, {}))
        if found is None:
            st.skip("no on-demand hourly price")
            continue
        d, usd = found
        spec = specs[info["instance"]]
        row = {**spec.model_dump(mode="json", exclude={"effective_from", "effective_to"}), "region": info["region"],
               "on_demand_usd_per_hour": usd,
               "source": f"AWS Price List {st.offer} {st.publication} sku {sku} ({info['usagetype']}, "
                         f"{d.get('description', '')}); specs from the catalog row of {spec.instance}",
               "checked": st.publication or date.today().isoformat(), "_effective": _effective(d)}
        if spec.region != info["region"]:
            row["spot_usd_per_hour"] = None  # a typical Spot price is per region: not carried across
        up.put("ec2_instances", row)
        st.rows += 1
        for t in res.get(sku, {}).values():
            ta = t.get("termAttributes") or {}
            dims = list((t.get("priceDimensions") or {}).values())
            hrs = sum(_usd(x) or 0 for x in dims if x.get("unit") == "Hrs")
            upfront = sum(_usd(x) or 0 for x in dims if x.get("unit") == "Quantity")
            years = int(str(ta.get("LeaseContractLength", "0"))[:1] or 0)
            if not years:
                continue
            effective = hrs + upfront / (years * 8760)
            fraction = round(1 - effective / usd, 6)
            up.reserved.append({"instance": info["instance"], "region": info["region"], "term_years": years,
                                "payment": ta.get("PurchaseOption"), "offering_class": ta.get("OfferingClass"),
                                "usd_per_hour": hrs, "upfront_usd": upfront, "effective_usd_per_hour": effective,
                                "discount_fraction": fraction, "sku": sku})
            payment = _PAYMENTS.get(str(ta.get("PurchaseOption")))
            if str(ta.get("OfferingClass", "")).lower() != "standard" or payment is None or not 0 <= fraction < 1:
                st.skip("Reserved term not written (convertible, other purchase option, or no discount)")
                continue
            # a Standard RI of this type in this region: the `reserved-1y` / `reserved-3y` purchase options
            up.put("discounts", {
                "plan": "reserved-instance", "term_years": years, "payment": payment, "applies_to": info["instance"],
                "region": info["region"], "discount_fraction": fraction, "_family": spec.family,
                "source": f"AWS Price List {st.offer} {st.publication} sku {sku} Reserved term "
                          f"{t.get('offerTermCode', '')} (Standard {years}yr {ta.get('PurchaseOption')}: "
                          f"${hrs:g}/h + ${upfront:g} upfront = ${effective:.6g}/h effective over {years * 8760:,} h, "
                          f"on-demand ${usd:g}/h)",
                "checked": st.publication or date.today().isoformat(), "_effective": _effective({"_term": t})})
    return st


_SERVERLESS = re.compile(r"-ServerlessInf:Mem-(\d+)GB$")
_PAYMENTS = {"No Upfront": "no-upfront", "Partial Upfront": "partial-upfront", "All Upfront": "all-upfront"}


def _hourly(terms: dict) -> tuple[dict, float] | None:
    """The first non-zero on-demand hourly price dimension of a product, with its USD rate."""
    for d in _price_dims(terms):
        if d.get("unit") == "Hrs" and (v := _usd(d)):
            return d, v
    return None


# ---- SageMaker -------------------------------------------------------------------------------------------------

def _sagemaker(path: Path, header: dict, cat: Catalog, up: Update, regions: set[str] | None) -> OfferStats:
    st = OfferStats(str(path), header.get("offerCode", "AmazonSageMaker"), _day(header.get("publicationDate")))
    known = {r.instance: r for r in cat.rows("sagemaker_instances")}  # type: ignore[attr-defined]
    ec2 = {r.instance for r in cat.rows("ec2_instances")}  # type: ignore[attr-defined]

    def keep(sku: str, p: dict) -> dict | None:
        a = p.get("attributes") or {}
        name = a.get("instanceName") or a.get("instanceType") or ""
        region, usage = a.get("regionCode"), a.get("usagetype", "")
        if region not in REGIONS:
            st.skip("not an AWS region (a Local or Wavelength Zone, or newer than inferplan's region list)")
            return None
        if p.get("productFamily") == "ML Serverless":  # on-demand serverless inference: <REGION>-ServerlessInf:Mem-4GB
            m = _SERVERLESS.search(usage)
            if m is None:
                st.skip("serverless usage type not read (provisioned concurrency, ...)")
                return None
            if regions and region not in regions:
                st.skip("region not asked for")
                return None
            return {"serverless_gb": int(m[1]), "region": region, "usagetype": usage}
        # real-time inference hosting: component Hosting, usage type <REGION>-Host:ml.<type>
        if a.get("component") != "Hosting" or "-Host:ml." not in usage or not name.startswith("ml."):
            st.skip("not real-time inference hosting")
            return None
        if regions and region not in regions:
            st.skip("region not asked for")
            return None
        if name not in known and name[3:] not in ec2:
            st.skip("instance type not in catalog")
            return None
        return {"instance": name, "region": region, "usagetype": usage}

    header, kept, od, _res, st.products_read, st.terms_read = stream_offer(path, keep)
    st.products_kept = len(kept)
    for sku, info in kept.items():
        if "serverless_gb" in info:
            dims = [(d, v) for d in _price_dims(od.get(sku, {})) if "second" in str(d.get("unit", "")).lower()
                    and (v := _usd(d))]
            if not dims:
                st.skip("no on-demand per-second serverless price")
                continue
            d, usd = dims[0]
            gb = info["serverless_gb"]
            up.put("sagemaker_serverless", {
                "region": info["region"], "memory_gb": gb, "usd_per_gb_second": float(f"{usd / gb:.10g}"),
                "source": f"AWS Price List {st.offer} {st.publication} sku {sku} ({info['usagetype']}, "
                          f"${usd:g} per second for {gb} GB)",
                "checked": st.publication or date.today().isoformat(), "_effective": _effective(d)})
            st.rows += 1
            continue
        found = _hourly(od.get(sku, {}))
        if found is None:
            st.skip("no on-demand hourly price")
            continue
        d, usd = found
        twin = known[info["instance"]].ec2_instance if info["instance"] in known else info["instance"][3:]
        up.put("sagemaker_instances", {
            "instance": info["instance"], "region": info["region"], "ec2_instance": twin, "usd_per_hour": usd,
            "source": f"AWS Price List {st.offer} {st.publication} sku {sku} ({info['usagetype']}, "
                      f"{d.get('description', '')})",
            "checked": st.publication or date.today().isoformat(), "_effective": _effective(d)})
        st.rows += 1
    return st


# ---- Bedrock ---------------------------------------------------------------------------------------------------

def _bedrock(path: Path, header: dict, cat: Catalog, up: Update, regions: set[str] | None) -> OfferStats:
    st = OfferStats(str(path), header.get("offerCode", "AmazonBedrock"), _day(header.get("publicationDate")))
    index = ModelIndex(cat)

    def keep(sku: str, p: dict) -> dict | None:
        a = p.get("attributes") or {}
        usage, region = a.get("usagetype", ""), a.get("regionCode")
        product = re.sub(r"\s*\(Amazon Bedrock Edition\)\s*$", "", a.get("servicename") or a.get("model") or "")
        ut = parse_usage_type(usage, product or None)
        if ut is None or isinstance(ut, NotTokens):
            st.skip("not a text-token usage type" if isinstance(ut, NotTokens) else "usage type not understood")
            return None
        if regions and ut.region not in regions:
            st.skip("region not asked for")
            return None
        if ut.tier not in ("standard", "batch", "flex", "priority"):
            st.skip(f"tier {ut.tier} (no catalog tier)")
            return None
        model = index.model(ut)
        if model is None:
            st.skip("model not in catalog")
            return None
        return {"model": model, "region": region or ut.region, "scope": ut.scope, "tier": ut.tier,
                "kind": ut.kind, "lc": ut.long_context, "usagetype": usage}

    header, kept, od, _res, st.products_read, st.terms_read = stream_offer(path, keep)
    st.products_kept = len(kept)
    for sku, info in kept.items():
        dims = [(d, _usd(d)) for d in _price_dims(od.get(sku, {}))]
        dims = [(d, v) for d, v in dims if v is not None and "token" in str(d.get("unit", "")).lower()]
        if not dims:
            st.skip("no on-demand token price")
            continue
        d, usd = dims[0]
        unit = str(d.get("unit", "")).lower()
        per = 1000.0 if unit.startswith("1k") else 1.0 if unit.startswith("1m") else None
        if per is None:
            st.skip(f"unit {d.get('unit')!r} not per 1K or 1M tokens")
            continue
        f = f"{'lc_' if info['lc'] else ''}{info['kind']}_usd_per_mtok"
        row = {"model": info["model"], "scope": info["scope"], "region": info["region"], "tier": info["tier"],
               f: float(f"{usd * per:.10g}"),
               "source": f"AWS Price List {st.offer} {st.publication}", "checked": st.publication,
               "_effective": _effective(d)}
        up.put("bedrock_prices", row)
        up.rows["bedrock_prices"][_key("bedrock_prices", row)].setdefault("_skus", []).append(
            f"{info['usagetype']} sku {sku}")
        st.rows += 1
    return st


def _key(table: str, row: dict[str, Any]) -> tuple:
    return tuple(row.get(k) for k in TABLES[table][1])


# ---- index files -----------------------------------------------------------------------------------------------

def _follow_index(path: Path, header: dict, regions: set[str] | None) -> list[Path]:
    """The offer files an offer index or region index names, in the local mirror that holds the index."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    urls: list[str] = []
    if "regions" in doc:
        for code, r in doc["regions"].items():
            if not regions or code in regions:
                urls.append(r["currentVersionUrl"])
    else:
        for code, o in doc.get("offers", {}).items():
            if code in OFFERS:
                urls.append(o.get("currentRegionIndexUrl") if regions else o["currentVersionUrl"])
    found, missing = [], []
    for url in urls:
        local = _mirror(path, url)
        (found if local is not None else missing).append(local or url)
    if missing:
        raise CatalogError(
            f"{path} names offer files this machine does not have: "
            + ", ".join(str(m) for m in missing)
            + ". Fetch them on a machine with access (curl -O https://pricing.us-east-1.amazonaws.com<URL>, keeping "
            "the /offers/... path beside the index) or pass the offer files themselves")
    return [p for p in found if isinstance(p, Path)]


def _mirror(index: Path, url: str) -> Path | None:
    """`/offers/v1.0/aws/X/...` relative to the folder holding `offers/` above the index, or beside it."""
    rel = url.split("amazonaws.com", 1)[-1].lstrip("/")
    for parent in index.resolve().parents:
        if parent.name == "offers":
            cand = parent.parent / rel
            if cand.is_file():
                return cand
    cand = index.parent / Path(rel).name
    return cand if cand.is_file() and cand.resolve() != index.resolve() else None


def read_price_list(paths: Iterable[Path], cat: Catalog, *, regions: set[str] | None = None,
                    up: Update | None = None) -> Update:
    """Read offer files (and the offer files index files point to) into an Update."""
    up = up or Update()
    queue = list(paths)
    seen: set[Path] = set()
    while queue:
        p = Path(queue.pop(0))
        if p.resolve() in seen:
            continue
        seen.add(p.resolve())
        if not p.is_file():
            raise CatalogError(f"price list file {p} not found")
        header = _header(p)
        if header.get("_first") in ("offers", "regions"):
            queue.extend(_follow_index(p, header, regions))
            continue
        offer = header.get("offerCode")
        if offer == "AmazonEC2":
            up.stats.append(_ec2(p, header, cat, up, regions))
        elif offer == "AmazonSageMaker":
            up.stats.append(_sagemaker(p, header, cat, up, regions))
        elif offer in BEDROCK_OFFERS:
            up.stats.append(_bedrock(p, header, cat, up, regions))
        else:
            raise CatalogError(f"{p}: offerCode {offer!r} is not one inferplan reads (expected one of "
                               f"{', '.join(OFFERS)}, or an index.json / region_index.json)")
    return up


# ---- LiteLLM's price map ---------------------------------------------------------------------------------------

_LITELLM_FIELDS = {
    "input_cost_per_token": "input", "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cache_read", "cache_creation_input_token_cost": "cache_write_5m",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
}
_LITELLM_TIERS = {"": "standard", "_batches": "batch", "_flex": "flex", "_priority": "priority"}
_LC = re.compile(r"^(.*)_above_(\d+)k_tokens(.*)$")


def read_litellm(path: Path, cat: Catalog, up: Update | None = None) -> Update:
    """Bedrock entries of LiteLLM's `model_prices_and_context_window.json`, for models the catalog knows."""
    up = up or Update()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CatalogError(f"{path}: not a LiteLLM price map ({exc})") from None
    st = OfferStats(str(path), "litellm", date.today().isoformat())
    for key, val in data.items():
        if not isinstance(val, dict) or key == "sample_spec":
            continue
        st.products_read += 1
        if val.get("litellm_provider") not in ("bedrock", "bedrock_converse"):
            st.skip("not a bedrock provider")
            continue
        ident, region = key, "*"
        parts = key.split("/")
        if parts[0] == "bedrock":
            if len(parts) == 3 and re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", parts[1]):
                region, ident = parts[1], parts[2]
            elif len(parts) == 2:
                ident = parts[1]
            else:
                st.skip("bedrock key form not read (commitment, invoke, ...)")
                continue
        try:
            r = cat.resolve_model(ident)
        except UnknownModelError:
            st.skip("model not in catalog")
            continue
        st.products_kept += 1
        for suffix, tier in _LITELLM_TIERS.items():
            row: dict[str, Any] = {}
            for name, v in val.items():
                if not isinstance(v, (int, float)):
                    continue
                base, lc = name, ""
                if m := _LC.match(name):
                    base, lc = m[1] + m[3], m[2]
                if not base.endswith(suffix) or (not suffix and any(base.endswith(s) for s in _LITELLM_TIERS if s)):
                    continue
                kind = _LITELLM_FIELDS.get(base.removesuffix(suffix) if suffix else base)
                if kind is None:
                    continue
                if lc:
                    row[f"lc_{kind}_usd_per_mtok"] = float(f"{v * 1e6:.10g}")
                    row["lc_threshold_tokens"] = int(lc) * 1000
                else:
                    row[f"{kind}_usd_per_mtok"] = float(f"{v * 1e6:.10g}")
            if "input_usd_per_mtok" not in row or "output_usd_per_mtok" not in row:
                continue
            row.update(model=r.model, scope=r.scope, region=region, tier=tier,
                       source=f"LiteLLM price map {path.name} key {key}", checked=st.publication)
            up.put("bedrock_prices", row)
            st.rows += 1
    up.stats.append(st)
    return up


# ---- merge, diff, write ----------------------------------------------------------------------------------------

PRICE_FIELDS = {
    "bedrock_prices": tuple(f"{p}{k}_usd_per_mtok" for p in ("", "lc_") for k in
                            ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")),
    "ec2_instances": ("on_demand_usd_per_hour", "spot_usd_per_hour"),
    "sagemaker_instances": ("usd_per_hour",),
    "discounts": ("discount_fraction",),
    "sagemaker_serverless": ("usd_per_gb_second",),
}


def _same_key(table: str) -> tuple[str, ...]:
    return tuple(k for k in TABLES[table][1] if k != "effective_from")  # the rows of one price over time


def _discount_fallback(cat: Catalog, row: dict[str, Any], family: str | None, on: date) -> dict[str, Any] | None:
    """The family or `*` discount row the catalog uses on `on` where this type and region have none (as
    `perf.cost.find_discount`): what a per-type row read from the Price List replaces, for the diff."""
    rows = [d for d in cat.discounts if (d.plan, d.term_years, d.payment) ==
            (row["plan"], row["term_years"], row["payment"]) and d.in_force(on)]
    for applies in (family, "*"):
        for region in (row["region"], "*"):
            for d in rows:
                if d.applies_to == applies and d.region == region:
                    return d.model_dump(mode="json")
    return None


def _rows_of(cat: Catalog, table: str, row: dict[str, Any], region: str | None = None) -> list[Any]:
    keys = _same_key(table)
    want = {**{k: row.get(k) for k in keys}, **({"region": region} if region is not None else {})}
    return sorted([r for r in cat.rows(table) if all(getattr(r, k) == want[k] for k in keys)],
                  key=lambda r: r.effective_from or date.min)


def _current(cat: Catalog, table: str, row: dict[str, Any], on: date) -> tuple[dict[str, Any] | None, bool]:
    """The row in force on `on` for this key (Bedrock: the `*` region row where the region has none then), and
    whether it has the read row's own key (a price of the same thing over time, not a fallback)."""
    regions = (row["region"], "*") if table == "bedrock_prices" else (row["region"],)
    for reg in regions:
        for r in _rows_of(cat, table, row, reg):
            if r.in_force(on):
                return r.model_dump(mode="json"), reg == row["region"]
    return None, False


def _window(cat: Catalog, table: str, row: dict[str, Any], on: date | None) -> tuple[str | None, str | None]:
    """For a read row with no row of its own key in force on `on`: the window up to the next row of its key
    (undated when the key has no row at all: a region row over the `*` row is not a price change)."""
    own = _rows_of(cat, table, row)
    if not own or on is None:
        return None, None
    later = [r.effective_from for r in own if r.effective_from is not None and r.effective_from > on]
    earlier = any((r.effective_to or date.max) <= on for r in own)
    return (on.isoformat() if earlier else None), (min(later).isoformat() if later else None)


def plan_rows(up: Update, cat: Catalog) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """The rows to write (each whole: read fields over the row in force) and the diff against the catalog.

    A price that changed from the row of its own key in force on the term's `effectiveDate` (E) is a new row in
    force from E; the old row is kept, closed at E (`effective_to`), so what ran before E still reprices at the
    old price (a diff entry then carries `effective_from`). Unchanged prices refresh the row in force (source,
    checked) without a new window. Without an effectiveDate the price is compared with today's row and replaces it.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    diff: list[dict[str, Any]] = []
    today = date.today()
    for table, rows in up.rows.items():
        for _, new_row in sorted(rows.items(), key=lambda kv: tuple(map(str, kv[0]))):
            new = dict(new_row)
            skus = new.pop("_skus", None)
            eff = new.pop("_effective", None)
            on = date.fromisoformat(eff) if eff else None
            family = new.pop("_family", None)
            old, own = _current(cat, table, new, on or today)
            merged = {**(old or {}), **new}
            if table == "discounts" and old is None:  # compared with the family or `*` row it replaces
                old = _discount_fallback(cat, new, family, on or today)
            if table == "bedrock_prices":
                if old is None:
                    merged = new
                given = [f for f in PRICE_FIELDS[table] if f in new]
                merged["source"] = (f"{new['source']}: {', '.join(given)}" + (f" ({'; '.join(skus)})" if skus else "")
                                    + (f"; other fields: {old['source']}" if old and set(old) - set(new) else ""))
                if any(f.startswith("lc_") for f in given) and merged.get("lc_threshold_tokens") is None:
                    up.notes.append(f"{new['model']} {new['scope']}/{new['region']}/{new['tier']}: long-context "
                                    "prices read but the catalog has no lc_threshold_tokens; they were left out")
                    for f in given:
                        if f.startswith("lc_"):
                            merged.pop(f, None)
            changed = [f for f in PRICE_FIELDS[table] if f in new and (old or {}).get(f) != merged.get(f)]
            since = None
            if not own:  # a new key (or a region row over `*`): its window among its key's other rows
                merged["effective_from"], merged["effective_to"] = _window(cat, table, new, on)
                since = merged["effective_from"]
            elif changed and on is not None and (old or {}).get("effective_from") != eff:
                # the price of this key changed on `on`: a new row from then, the old one kept and closed
                merged["effective_from"], merged["effective_to"] = eff, (old or {}).get("effective_to")
                closed = {**(old or {}), "effective_to": eff,
                          "source": f"{(old or {}).get('source')} (ends {eff}: {new['source']})"}
                out.setdefault(table, []).append({k: v for k, v in closed.items() if v is not None})
                since = eff
            merged = {k: v for k, v in merged.items() if v is not None}
            item = merged.get("model") or merged.get("instance") or merged.get("applies_to") or \
                (f"serverless {merged['memory_gb']} GB" if table == "sagemaker_serverless" else None)
            plan = {"plan": f"{merged['plan']} {merged['term_years']}y {merged['payment']}"} if table == "discounts" \
                else {}
            for f in changed:
                o, n = (old or {}).get(f), merged.get(f)
                diff.append({"table": table, "item": item, "region": merged.get("region"),
                             "scope": merged.get("scope"), "tier": merged.get("tier"), **plan, "field": f, "old": o,
                             "new": n, "percent": None if not o or n is None else round((n - o) / o * 100, 4),
                             "effective_from": since})
            out.setdefault(table, []).append(merged)
    return out, diff


def write_catalog(path: Path, rows: dict[str, list[dict[str, Any]]],
                  check: Callable[[Path], object] | None = None) -> None:
    """Merge rows into the user catalog file at `path` (rows with the same key replaced, others kept). The new
    file is written beside it and `check`ed (loaded, validated) before it replaces the old one: a bad row never
    leaves the user with a config catalog every command refuses."""
    doc: dict[str, Any] = {}
    if path.is_file():
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(doc, dict):
            raise CatalogError(f"{path} is not a catalog file (a mapping of table to rows); choose another --out")
    for table, new in rows.items():
        keys = TABLES[table][1]
        have = {tuple(str(r.get(k)) for k in keys): r for r in doc.get(table, []) if isinstance(r, dict)}
        for r in new:
            have[tuple(str(r.get(k)) for k in keys)] = r
        doc[table] = list(have.values())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("# written by `inferplan prices update`; merged over the packaged catalog on load\n"
                   + yaml.safe_dump(doc, sort_keys=False, width=200), encoding="utf-8")
    if check is not None:
        try:
            check(tmp)
        except Exception:
            tmp.unlink(missing_ok=True)
            raise
    tmp.replace(path)
