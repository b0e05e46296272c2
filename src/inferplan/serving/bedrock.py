"""Bedrock options: on-demand (the exact bill), batch, flex/priority, Provisioned Throughput, Reserved tier.

On-demand is the series' own priced cost (the same priced roll-up `analyze` totals). Other tiers reprice the
same tokens through the one rate card (`inferplan.pricing.resolve_prices` + `price_rollup`) with the tier
swapped; batch follows the batch lever's rule (cache reads and writes become plain input: batch jobs do not
use prompt caching). Provisioned Throughput pays model units every hour, sized for the peak tokens per minute;
the Reserved tier pays a reservation every hour and overflow at standard.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..catalog import Catalog
from ..demand import DemandSeries
from ..errors import ConfigError, MissingPriceError
from ..pricing import price_rollup, resolve_prices
from .result import OptionResult
from .spec import CompareSpec

CACHE_COLUMNS = ("cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens")


def tokens(demand: DemandSeries, groups: np.ndarray | None = None) -> float:
    """All tokens (input of every kind + output) of some groups over the series."""
    sel = slice(None) if groups is None else groups
    return float(demand.input_total[sel].sum() + demand.output_tokens[sel].sum())


def per_mtok(usd: float | None, n_tokens: float) -> float | None:
    return None if usd is None or n_tokens <= 0 else usd / n_tokens * 1e6


def reprice(demand: DemandSeries, catalog: Catalog, tier_of: dict[int, str]) -> np.ndarray:
    """Cost per group over the series with some groups moved to another tier (MissingPriceError if unpriced)."""
    roll = demand.price_roll
    if roll is None:
        raise ConfigError("this demand series has no token roll-up to reprice; build it with from_workload or a "
                          "demand reader")
    g = roll.column("_g").to_numpy(zero_copy_only=False).astype(np.int64)
    tiers = roll.column("tier").to_pylist()
    new_tier = [tier_of.get(int(gi), t) for gi, t in zip(g, tiers, strict=True)]
    to_batch = np.array([t == "batch" and tier_of.get(int(gi)) == "batch" for gi, t in zip(g, new_tier, strict=True)])
    cols = {c: roll.column(c) for c in roll.column_names}
    cols["tier"] = pa.array(new_tier, pa.string())
    if to_batch.any():
        base = np.asarray(roll.column("input_tokens").to_numpy(zero_copy_only=False), dtype=np.float64)
        extra = sum(np.asarray(roll.column(c).to_numpy(zero_copy_only=False), dtype=np.float64) for c in CACHE_COLUMNS)
        cols["input_tokens"] = pa.array(np.where(to_batch, base + extra, base))
        for c in CACHE_COLUMNS:
            v = np.asarray(roll.column(c).to_numpy(zero_copy_only=False), dtype=np.float64)
            cols[c] = pa.array(np.where(to_batch, 0.0, v))
    t = pa.table(cols)
    thresholds = catalog.lc_thresholds
    prices, _ = resolve_prices(t, catalog, thresholds)
    priced = price_rollup(t, prices, thresholds)
    usd = priced.column("total_usd").to_numpy(zero_copy_only=False)
    return np.bincount(g, weights=usd, minlength=len(demand.groups))


def on_demand(demand: DemandSeries, period_usd: float | None = None) -> OptionResult:
    """Bedrock on-demand as billed: zero idle cost."""
    usd = float(demand.bedrock_usd.sum()) if period_usd is None else float(period_usd)
    return OptionResult(name="Bedrock on-demand", kind="bedrock", monthly_usd=usd * demand.monthly_factor,
                        period_usd=usd, utilization=None, idle_share=0.0, slo_miss_share=0.0,
                        usd_per_mtok=per_mtok(usd, tokens(demand)), lever="caching, batch, routing (analyze --levers)",
                        notes=["the exact bill of this traffic at its logged tiers (same rate card as analyze)"])


def batch(demand: DemandSeries, catalog: Catalog) -> OptionResult:
    """Deferrable groups on Bedrock batch (24-hour window), the rest on-demand."""
    defer = np.flatnonzero(~demand.interactive)
    name = "Bedrock batch (deferrable) + on-demand"
    if defer.size == 0:
        return OptionResult(name=name, kind="bedrock-batch", monthly_usd=None, feasible=False,
                            reason="no deferrable traffic: every call type has a caller waiting (interactive)")
    try:
        per_group = reprice(demand, catalog, {int(g): "batch" for g in defer})
    except (MissingPriceError, ConfigError) as exc:
        return OptionResult(name=name, kind="bedrock-batch", monthly_usd=None, feasible=False, reason=str(exc))
    usd = float(per_group.sum())
    moved = float(demand.requests[defer].sum())
    return OptionResult(name=name, kind="bedrock-batch", monthly_usd=usd * demand.monthly_factor, period_usd=usd,
                        idle_share=0.0, slo_miss_share=0.0, usd_per_mtok=per_mtok(usd, tokens(demand)),
                        lever="batch the deferrable call types",
                        notes=[f"{moved:,.0f} deferrable request(s) at the batch price (results within 24 h; cache "
                               "tokens billed as plain input, as batch jobs do not cache)"])


def tier(demand: DemandSeries, catalog: Catalog, tier_name: str) -> OptionResult:
    """Every request on the flex or priority tier (where the catalog prices it)."""
    name = f"Bedrock {tier_name}"
    try:
        per_group = reprice(demand, catalog, {g: tier_name for g in range(len(demand.groups))})
    except (MissingPriceError, ConfigError) as exc:
        return OptionResult(name=name, kind="bedrock", monthly_usd=None, feasible=False, reason=str(exc))
    usd = float(per_group.sum())
    note = ("flex: lower price, requests may wait or be rejected under load" if tier_name == "flex"
            else "priority: higher price for faster, preferred processing")
    return OptionResult(name=name, kind="bedrock", monthly_usd=usd * demand.monthly_factor, period_usd=usd,
                        idle_share=0.0, slo_miss_share=0.0, usd_per_mtok=per_mtok(usd, tokens(demand)), notes=[note])


def _peak_per_minute(demand: DemandSeries, groups: np.ndarray, name: str) -> float:
    per_window = getattr(demand, name)[groups].sum(axis=0)
    return float(per_window.max()) * 60.0 / demand.window_s if per_window.size else 0.0


def provisioned(demand: DemandSeries, catalog: Catalog, cs: CompareSpec) -> list[OptionResult]:
    """Per Bedrock model of the traffic and per term: model units for the peak tokens per minute, paid hourly.

    Other models stay on-demand. MU capacity comes from the scenario (AWS does not publish it for most models);
    MU prices from the catalog (`provisioned_prices`) or the scenario, and each option says which.
    """
    out: list[OptionResult] = []
    models = demand.model
    for model in dict.fromkeys(models):
        groups = np.array([i for i, m in enumerate(models) if m == model], np.int64)
        rest = np.setdiff1d(np.arange(len(models)), groups)
        user = cs.provisioned.get(model)
        base = f"Bedrock Provisioned Throughput ({model})"
        if user is None or (user.input_tokens_per_minute_per_mu is None and user.output_tokens_per_minute_per_mu
                            is None):
            out.append(OptionResult(
                name=base, kind="bedrock-provisioned", monthly_usd=None, feasible=False,
                reason=(f"what one model unit of {model} delivers is not published; give it in the scenario: "
                        f"compare.provisioned['{model}'].input_tokens_per_minute_per_mu and "
                        "output_tokens_per_minute_per_mu (from your account team or a test)")))
            continue
        peak_in = _peak_per_minute(demand, groups, "input_total")
        peak_out = _peak_per_minute(demand, groups, "output_tokens")
        need = [peak_in / user.input_tokens_per_minute_per_mu if user.input_tokens_per_minute_per_mu else 0.0,
                peak_out / user.output_tokens_per_minute_per_mu if user.output_tokens_per_minute_per_mu else 0.0]
        mus = max(1, int(np.ceil(max(need) - 1e-9)))
        prices = {p.term: (p.usd_per_model_unit_hour, f"catalog ({p.source})") for p in catalog.provisioned_prices
                  if p.model == model and p.region in ("*", _region(demand, groups))}
        for term, usd_h in user.usd_per_mu_hour.items():
            prices[term] = (usd_h, "scenario")
        if not prices:
            out.append(OptionResult(
                name=base, kind="bedrock-provisioned", monthly_usd=None, feasible=False,
                reason=(f"no Provisioned Throughput price for {model}: add a `provisioned_prices:` row to your catalog "
                        f"file (--catalog FILE) or compare.provisioned['{model}'].usd_per_mu_hour in the scenario")))
            continue
        rest_usd = float(demand.bedrock_usd[rest].sum())
        used = tokens(demand, groups)
        cap_tokens = sum(c for c in (user.input_tokens_per_minute_per_mu, user.output_tokens_per_minute_per_mu)
                         if c) * mus * demand.windows * demand.window_s / 60.0
        for term in ("none", "1-month", "6-month"):
            if term not in prices:
                continue
            usd_h, src = prices[term]
            usd = mus * usd_h * demand.hours + rest_usd
            util = min(1.0, used / cap_tokens) if cap_tokens > 0 else None
            out.append(OptionResult(
                name=f"{base}, {term if term != 'none' else 'no'} commitment", kind="bedrock-provisioned",
                monthly_usd=mus * usd_h * 730.0 + rest_usd * demand.monthly_factor, period_usd=usd,
                utilization=util, idle_share=None if util is None else 1.0 - util, slo_miss_share=0.0,
                replicas={"min": mus, "mean": mus, "max": mus}, usd_per_mtok=per_mtok(usd, tokens(demand)),
                lever="commitment term; utilisation of the model units",
                details={"model_units": mus, "term": term, "usd_per_mu_hour": usd_h, "price_source": src,
                         "peak_input_tpm": peak_in, "peak_output_tpm": peak_out, "mu_capacity_source": "scenario"},
                notes=[f"{mus} model unit(s) for the peak {peak_in:,.0f} input / {peak_out:,.0f} output tokens per "
                       f"minute; MU capacity from the scenario, price from {src}",
                       *([f"{demand.window_s}-second windows: the peak per minute is a window mean and can be "
                          "understated"] if demand.window_s > 60 else [])]))
    return out


def _region(demand: DemandSeries, groups: np.ndarray) -> str:
    roll = demand.price_roll
    if roll is None:
        return "*"
    regions = roll.column("region").to_pylist()
    g = roll.column("_g").to_pylist()
    sel = {r for r, gi in zip(regions, g, strict=True) if gi in set(groups.tolist())}
    return sel.pop() if len(sel) == 1 else "*"


def reserved(demand: DemandSeries, cs: CompareSpec) -> OptionResult | None:
    """Bedrock Reserved tier: reserved tokens per minute paid every hour; tokens above it billed at standard."""
    r = cs.reserved
    if r is None:
        return None
    per_min = 60.0 / demand.window_s
    tin = demand.total("input_total") * per_min
    tout = demand.total("output_tokens") * per_min
    over_in = np.maximum(0.0, tin - r.input_tokens_per_minute)
    over_out = np.maximum(0.0, tout - r.output_tokens_per_minute)
    # the share of each window's tokens above the reservation, billed at its own standard cost
    tot = tin + tout
    share = np.divide(over_in + over_out, tot, out=np.zeros_like(tot), where=tot > 0)
    overflow_usd = float((demand.bedrock_usd.sum(axis=0) * share).sum())
    usd = r.usd_per_hour * demand.hours + overflow_usd
    cap = (r.input_tokens_per_minute + r.output_tokens_per_minute) * demand.windows / per_min
    used = float((tot - over_in - over_out).sum()) / per_min
    util = used / cap if cap > 0 else None
    return OptionResult(
        name="Bedrock Reserved tier + standard overflow", kind="bedrock-provisioned",
        monthly_usd=r.usd_per_hour * 730.0 + overflow_usd * demand.monthly_factor, period_usd=usd,
        utilization=util, idle_share=None if util is None else 1.0 - util, slo_miss_share=0.0,
        usd_per_mtok=per_mtok(usd, tokens(demand)), lever="size the reservation to the load-duration curve",
        details={"price_source": r.source, "overflow_share": float(share.mean())},
        notes=[f"reservation ${r.usd_per_hour:,.2f}/h from {r.source}; tokens above it at the standard price"])
