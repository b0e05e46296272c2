"""Uncertainty: a seeded, vectorised Monte Carlo over what the break-even depends on.

Each draw picks, independently:

- volume today relative to the measured traffic (lognormal; its spread from the traffic's own day-to-day
  variation when the series spans 3 days or more, otherwise the scenario's `volume_sigma`, default stated);
- growth per month (uniform), averaged over the horizon the one-time cost is spread over (only the
  probability over the horizon uses it: today's is at today's volume);
- engineering: the ongoing share (a factor on each option's fte), the loaded cost a year, the set-up weeks
  (a factor), the discount rate;
- the throughput model's error on the option's hardware, bootstrapped from the validation errors measured by
  `bench/perf_validation.py` (`inferplan.perf.expected`): error e = predicted / measured - 1, so a replica
  really serves 1 / (1 + e) of what was predicted and the fleet needs (1 + e) times the capacity;
- the Spot interruption rate (a band of the AWS Spot Advisor, drawn uniformly), for Spot options: each
  interruption takes a replica away for the replacement delay, so the fleet needs 1 / (1 - rate x delay / 730 h).

An option's infrastructure cost at any volume is read off its cost curve (from the break-even grid, interpolated
in log-log), at the volume the draw's capacity error calls for. Then per draw: the probability that the option's
total cost is below Bedrock's at today's volume (`p_beats_bedrock`), the same at the horizon's average volume
with the draw's growth (`p_beats_bedrock_horizon`), and the break-even (first grid crossing, interpolated
linearly between grid points), reported as Bedrock-equivalent monthly spend, P10 / P50 / P90.
No Python loop over draws: one (draws x grid) array per option.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..catalog import Catalog
from .breakeven import Breakeven
from .tco import TcoOptions, engineering_monthly, engineering_terms

# AWS Spot Instance Advisor "frequency of interruption" bands, % of instances a month (the top band is open:
# capped at 30% here).
SPOT_BANDS = ((0.0, 5.0), (5.0, 10.0), (10.0, 15.0), (15.0, 20.0), (20.0, 30.0))


class UncertaintyOptions(BaseModel):
    """The scenario's `uncertainty:` section: ranges are [low, high] of uniform draws."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    draws: int = Field(default=10_000, ge=100, le=1_000_000)
    seed: int = 0
    volume_sigma: float = Field(default=0.2, ge=0, description="lognormal sigma of volume today vs the measured "
                                "traffic, when the series is shorter than 3 days")
    growth_pct_per_month: tuple[float, float] = (0.0, 5.0)
    fte_factor: tuple[float, float] = (2 / 3, 4 / 3)  # 0.2-0.4 of an engineer around 0.3
    usd_per_year: tuple[float, float] = (220_000.0, 300_000.0)
    setup_factor: tuple[float, float] = (0.8, 1.3)  # 8-13 weeks around 10: "2-3 months"
    discount_rate: tuple[float, float] = (0.05, 0.15)
    spot_bands: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], description="indices into the Spot "
                                  "Advisor bands <5%, 5-10%, 10-15%, 15-20%, >20% to draw from")
    replacement_minutes: float = Field(default=6.5, ge=0, description="a Spot replica's replacement delay "
                                       "(boot + model load: 4-9 minutes published)")

    @field_validator("growth_pct_per_month", "fte_factor", "usd_per_year", "setup_factor", "discount_rate")
    @classmethod
    def _range(cls, v: tuple[float, float]) -> tuple[float, float]:
        if v[0] > v[1]:
            raise ValueError(f"range {list(v)}: low must be <= high")
        return v

    @field_validator("growth_pct_per_month")
    @classmethod
    def _growth(cls, v: tuple[float, float]) -> tuple[float, float]:
        if v[0] <= -100:
            raise ValueError(f"range {list(v)}: growth must be above -100% a month")
        return v

    @field_validator("spot_bands")
    @classmethod
    def _bands(cls, v: list[int]) -> list[int]:
        if not v or any(b not in range(len(SPOT_BANDS)) for b in v):
            raise ValueError("spot_bands: a non-empty list of 0..4")
        return v


def traffic_sigma(daily_volume: np.ndarray | None, fallback: float) -> tuple[float, str]:
    """Lognormal sigma of volume: the traffic's own day-to-day spread when it has 3 days or more."""
    if daily_volume is not None:
        d = np.asarray(daily_volume, float)
        d = d[d > 0]
        if d.size >= 3:
            return float(np.std(np.log(d), ddof=1)), f"day-to-day spread of this traffic over {d.size} days"
    return fallback, "stated (volume_sigma): the traffic spans under 3 days"


def throughput_errors(catalog: Catalog, instance: str | None, tp: int = 1) -> tuple[np.ndarray, str]:
    """Signed relative errors (predicted / measured - 1) of the throughput model on this hardware, as the
    validation measured them; empty (with why) where nothing was measured (Bedrock, CPU-only options)."""
    if not instance:
        return np.zeros(0), "no throughput model involved"
    try:
        from ..perf.expected import expected_error
    except ImportError:  # pragma: no cover - the validation data ships with inferplan.perf
        return np.zeros(0), "inferplan.perf has no validation data (inferplan.perf.expected)"
    from ..errors import InferplanError

    try:
        e = expected_error(instance, tp, "tokens_per_s", catalog=catalog)
    except InferplanError as exc:
        return np.zeros(0), f"not sampled: {exc}"
    return np.asarray(e["errors"], float), f"{e['n']} validation rows, {e['basis']} ({e['source']})"


def _interp_loglog(scales: np.ndarray, cost: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Cost at volumes `x` from a curve on `scales`: log-log interpolation; below the range the smallest fleet,
    above it proportional to volume. Infeasible points (inf) stay infinite."""
    ok = np.isfinite(cost) & (cost > 0)
    out = np.full(x.shape, np.inf)
    if not ok.any():
        return out
    ls, lc = np.log(scales[ok]), np.log(cost[ok])
    lx = np.log(np.maximum(x, 1e-300))
    y = np.exp(np.interp(lx, ls, lc))
    hi = x > scales[ok][-1]
    y[hi] = cost[ok][-1] * x[hi] / scales[ok][-1]
    out[:] = y
    # a grid point that was infeasible makes its neighbourhood infeasible: nearest grid point decides
    if not ok.all():
        nearest = np.abs(lx[..., None] - np.log(scales)).argmin(axis=-1)
        out[~ok[nearest]] = np.inf
    return out


def simulate(bk: Breakeven, tco: TcoOptions, catalog: Catalog, opts: UncertaintyOptions | None = None, *,
             daily_volume: np.ndarray | None = None, purchases: dict[str, str] | None = None,
             errors: dict[str, tuple[np.ndarray, str]] | None = None) -> dict[str, Any]:
    """Probability each option beats Bedrock at today's volume, and its break-even P10/P50/P90.

    `errors`: throughput-model errors per option (default: from the validation data for its instance)."""
    o = opts or UncertaintyOptions()
    t0 = time.perf_counter()
    rng = np.random.default_rng(o.seed)
    n = o.draws
    sigma, sigma_basis = traffic_sigma(daily_volume, o.volume_sigma)
    vol = np.exp(rng.normal(-0.5 * sigma**2, sigma, n))  # mean 1
    g = rng.uniform(*o.growth_pct_per_month, n) / 100.0
    months = np.arange(int(np.ceil(tco.horizon_months)))
    growth = ((1.0 + g[:, None]) ** months[None, :]).mean(axis=1)
    today = vol  # today's volume: the growth only moves the horizon's average volume
    horizon = vol * growth
    fte_f = rng.uniform(*o.fte_factor, n)
    usd_yr = rng.uniform(*o.usd_per_year, n)
    setup_f = rng.uniform(*o.setup_factor, n)
    rate = rng.uniform(*o.discount_rate, n)
    band = np.asarray(o.spot_bands)[rng.integers(0, len(o.spot_bands), n)]
    lo_b, hi_b = np.array(SPOT_BANDS).T
    spot_rate = rng.uniform(lo_b[band], hi_b[band]) / 100.0  # interruptions per instance-month
    spot_need = 1.0 / (1.0 - spot_rate * o.replacement_minutes / 60.0 / 730.0)
    b1 = bk.bedrock_monthly_usd
    s = bk.scales
    out: dict[str, Any] = {"draws": n, "seed": o.seed, "volume_sigma": round(sigma, 4),
                           "volume_sigma_basis": sigma_basis, "options": []}
    for name, infra in bk.infra.items():
        kind = bk.kinds[name]
        inst = bk.instances.get(name)
        err, basis = (errors or {}).get(name) or throughput_errors(catalog, inst)
        e = rng.choice(err, n) if err.size else np.zeros(n)
        need = 1.0 + e
        is_spot = "spot" in (purchases or {}).get(name, name)
        if is_spot:
            need = need * spot_need
        terms = engineering_terms(kind, inst, tco)
        eng = engineering_monthly(terms["fte"] * fte_f, usd_yr, terms["one_time_weeks"] * setup_f,
                                  terms["oncall_usd_per_week"], tco.horizon_months, rate)
        cost_today = _interp_loglog(s, infra, today * need) + eng
        p_beats = float(np.mean(cost_today < today * b1))
        cost_horizon = _interp_loglog(s, infra, horizon * need) + eng
        p_horizon = float(np.mean(cost_horizon < horizon * b1))
        grid_cost = _interp_loglog(s, infra, need[:, None] * s[None, :]) + eng[:, None]  # (draws, grid)
        diff = grid_cost - b1 * s[None, :]
        below = diff <= 0
        has = below.any(axis=1)
        j = np.where(has, below.argmax(axis=1), 0)
        jm = np.maximum(j - 1, 0)
        d0, d1 = diff[np.arange(n), jm], diff[np.arange(n), j]
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where((j > 0) & np.isfinite(d0) & (d0 != d1), d0 / (d0 - d1), 1.0)
        ls = np.log(s[jm]) + np.clip(frac, 0, 1) * (np.log(s[j]) - np.log(s[jm]))
        be = np.where(has, np.exp(ls), np.inf)
        qs = {q: float(np.quantile(be, q / 100, method="inverted_cdf")) for q in (10, 50, 90)}
        pct = {f"p{q}": round(v * b1, 2) if np.isfinite(v) else None for q, v in qs.items()}
        scale_pct = {f"p{q}": round(v, 4) if np.isfinite(v) else None for q, v in qs.items()}
        out["options"].append({
            "option": name, "kind": kind, "p_beats_bedrock": round(p_beats, 4),
            "p_beats_bedrock_horizon": round(p_horizon, 4),
            "breakeven_monthly_bedrock_usd": pct, "breakeven_scale": scale_pct,
            "never_in_range_share": round(float(np.mean(~has)), 4),
            "throughput_error": {"draws_from": int(err.size), "basis": basis,
                                 "median_abs": round(float(np.median(np.abs(err))), 4) if err.size else None},
            "spot_interruptions": bool(is_spot),
        })
    out["seconds"] = round(time.perf_counter() - t0, 4)
    return out
