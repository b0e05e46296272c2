"""Demand series: what a serving option must carry, window by window, per serving group.

A serving group is (the Bedrock model that serves it today, the call type, interactive or deferrable). For
each group and each window of `window_s` seconds the series holds requests, input tokens as billed
(`input_total`), prefill tokens a self-hosted replica would compute (`input_tokens`: total input less what a
self-hosted prefix cache serves), output tokens, and the exact Bedrock on-demand cost of those requests as the
rate card prices them (`bedrock_usd`). A per-group token roll-up with its price keys (`price_roll`) lets any
option reprice the same traffic at another tier (batch, flex, priority) through `inferplan.pricing`.

Arrays are float64 of shape (groups, windows), so transforms (scale, growth, shifting deferrable work) stay
exact in expectation. Series come from a workload (`from_workload`) or from metrics (`inferplan.demand.readers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa

from ..errors import ConfigError
from .build import from_workload

__all__ = ["DemandSeries", "GroupKey", "from_workload", "HOURS_PER_MONTH"]

HOURS_PER_MONTH = 730.0


@dataclass(frozen=True)
class GroupKey:
    """Which traffic a row of the series is: the Bedrock model serving it, its call type, whether a caller waits."""

    model: str
    call_type: str
    interactive: bool


@dataclass
class DemandSeries:
    """Aggregate demand per (group, window). See the module docstring."""

    window_s: int
    start: int  # UTC epoch seconds of window 0
    groups: list[GroupKey]
    requests: np.ndarray
    input_tokens: np.ndarray  # prefill after a self-hosted prefix cache
    output_tokens: np.ndarray
    input_total: np.ndarray  # every input token (plain, cache read, cache writes)
    bedrock_usd: np.ndarray  # on-demand cost as the rate card prices these requests
    price_roll: pa.Table | None = None  # `_g` (group index), price keys, long-context bucket, token sums
    fine_requests: np.ndarray | None = None  # (groups, windows x window_s / fine_window_s): arrivals for latency
    fine_window_s: int | None = None
    notes: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        shape = (len(self.groups), self.windows)
        for name in ("requests", "input_tokens", "output_tokens", "input_total", "bedrock_usd"):
            arr = np.asarray(getattr(self, name), dtype=np.float64)
            if arr.shape != shape:
                raise ConfigError(f"demand series: {name} has shape {arr.shape}, expected {shape}")
            setattr(self, name, arr)
        if self.window_s <= 0:
            raise ConfigError("demand series: window_s must be positive")
        if self.fine_requests is not None:
            fw = self.fine_window_s or 0
            if fw <= 0 or self.window_s % fw:
                raise ConfigError("demand series: the latency window must divide the window")
            self.fine_requests = np.asarray(self.fine_requests, dtype=np.float64)

    # ---- shape -------------------------------------------------------------------------------------
    @property
    def windows(self) -> int:
        return int(np.asarray(self.requests).shape[-1]) if np.ndim(self.requests) == 2 else 0

    @property
    def hours(self) -> float:
        return self.windows * self.window_s / 3600.0

    @property
    def model(self) -> list[str]:
        return [g.model for g in self.groups]

    @property
    def call_type(self) -> list[str]:
        return [g.call_type for g in self.groups]

    @property
    def interactive(self) -> np.ndarray:
        return np.array([g.interactive for g in self.groups], bool)

    @property
    def peak_to_mean(self) -> float:
        tot = self.requests.sum(axis=0)
        mean = float(tot.mean()) if tot.size else 0.0
        return float(tot.max()) / mean if mean > 0 else 0.0

    @property
    def monthly_factor(self) -> float:
        """Multiply a cost over the series by this to get a 730-hour month."""
        return HOURS_PER_MONTH / self.hours if self.hours > 0 else 0.0

    def total(self, name: str = "requests", groups: np.ndarray | None = None) -> np.ndarray:
        """One quantity summed over groups (all, or a boolean/index selection): shape (windows,)."""
        arr = getattr(self, name)
        return (arr if groups is None else arr[groups]).sum(axis=0)

    def select(self, groups: np.ndarray | list[int]) -> DemandSeries:
        """The series of some groups only (indices or a boolean mask)."""
        idx = np.flatnonzero(groups) if np.asarray(groups).dtype == bool else np.asarray(groups, dtype=np.int64)
        roll = None
        if self.price_roll is not None:
            g = self.price_roll.column("_g").to_numpy(zero_copy_only=False)
            remap = np.full(len(self.groups), -1, np.int64)
            remap[idx] = np.arange(idx.size)
            keep = remap[g] >= 0
            roll = self.price_roll.filter(pa.array(keep))
            roll = roll.set_column(roll.schema.get_field_index("_g"), "_g",
                                   pa.array(remap[g][keep], pa.int64()))
        return replace(self, groups=[self.groups[i] for i in idx], requests=self.requests[idx],
                       input_tokens=self.input_tokens[idx], output_tokens=self.output_tokens[idx],
                       input_total=self.input_total[idx], bedrock_usd=self.bedrock_usd[idx], price_roll=roll,
                       fine_requests=None if self.fine_requests is None else self.fine_requests[idx],
                       notes=list(self.notes))

    # ---- transforms --------------------------------------------------------------------------------
    def _with(self, factor: np.ndarray | float, note: str) -> DemandSeries:
        f = np.asarray(factor, dtype=np.float64)
        roll = self.price_roll
        if roll is not None and f.ndim == 0:
            roll = _scale_roll(roll, float(f))
        elif roll is not None:  # per-window factors: scale each group's token sums by its weighted factor
            w = np.where(self.requests.sum(axis=1) > 0, (self.requests * f).sum(axis=1)
                         / np.maximum(self.requests.sum(axis=1), 1e-300), 1.0)
            roll = _scale_roll(roll, w)
        fine = self.fine_requests
        if fine is not None:
            ff = f if f.ndim == 0 else np.repeat(f, self.window_s // (self.fine_window_s or 1))[: fine.shape[1]]
            fine = fine * ff
        return replace(self, requests=self.requests * f, input_tokens=self.input_tokens * f,
                       output_tokens=self.output_tokens * f, input_total=self.input_total * f,
                       bedrock_usd=self.bedrock_usd * f, price_roll=roll, fine_requests=fine,
                       notes=[*self.notes, note])

    def scaled(self, x: float) -> DemandSeries:
        """The same shape at `x` times the volume."""
        if x < 0:
            raise ConfigError(f"scale must be >= 0, not {x}")
        return self._with(x, f"volume scaled x{x:g}")

    def grown(self, pct_per_month: float) -> DemandSeries:
        """Volume growing by `pct_per_month` percent a month (compounded), from window 0."""
        months = np.arange(self.windows) * self.window_s / 3600.0 / HOURS_PER_MONTH
        return self._with((1.0 + pct_per_month / 100.0) ** months, f"volume grown {pct_per_month:g}% a month")

    def shifted_deferrable(self, window_h: float = 24.0) -> DemandSeries:
        """Deferrable groups' work moved within blocks of `window_h` hours to fill the valleys of the total load.

        Water-filling per block: the deferrable requests of a block are placed where the interactive load is
        lowest, up to a common level. Blocks start at window 0 (work may move earlier within its block: exact
        for work submitted at the block start, such as a nightly batch).
        """
        defer = ~self.interactive
        if not defer.any():
            return replace(self, notes=[*self.notes, "no deferrable traffic to shift"])
        per = max(1, int(round(window_h * 3600 / self.window_s)))
        base = self.requests[~defer].sum(axis=0)
        moved = np.zeros(self.windows)
        dreq = self.requests[defer].sum(axis=0)
        for b0 in range(0, self.windows, per):  # one iteration per block (days), not per request
            sl = slice(b0, min(b0 + per, self.windows))
            moved[sl] = water_fill(base[sl], float(dreq[sl].sum()))
        out = replace(self, notes=[*self.notes, f"deferrable work shifted within {window_h:g}-hour blocks"])
        for name in ("requests", "input_tokens", "output_tokens", "input_total", "bedrock_usd"):
            arr = getattr(self, name).copy()
            sub = arr[defer]
            for b0 in range(0, self.windows, per):
                sl = slice(b0, min(b0 + per, self.windows))
                totals = sub[:, sl].sum(axis=1, keepdims=True)
                share = moved[sl] / moved[sl].sum() if moved[sl].sum() > 0 else np.zeros(sl.stop - sl.start)
                sub[:, sl] = totals * share
            arr[defer] = sub
            setattr(out, name, arr)
        if self.fine_requests is not None:  # shifted work arrives evenly within its new windows
            ratio = self.window_s // (self.fine_window_s or 1)
            fine = self.fine_requests.copy()
            spread = np.repeat(out.requests[defer] / ratio, ratio, axis=1)[:, : fine.shape[1]]
            fine[defer] = np.pad(spread, ((0, 0), (0, fine.shape[1] - spread.shape[1])))
            out.fine_requests = fine
        return out


def water_fill(base: np.ndarray, amount: float) -> np.ndarray:
    """How much to add to each slot so that base + add is as flat as possible (add >= 0, sum(add) = amount)."""
    if amount <= 0 or base.size == 0:
        return np.zeros_like(base, dtype=np.float64)
    s = np.sort(base)
    csum = np.cumsum(s)
    k = np.arange(1, s.size + 1)
    # level with the k lowest slots filled: (amount + sum of k lowest) / k, valid while <= next slot
    levels = (amount + csum) / k
    nxt = np.append(s[1:], np.inf)
    i = int(np.argmax(levels <= nxt))
    return np.maximum(0.0, levels[i] - base)


def _scale_roll(roll: pa.Table, factor: float | np.ndarray) -> pa.Table:
    from ..workload import TOKEN_COLUMNS

    g = roll.column("_g").to_numpy(zero_copy_only=False)
    f = factor if np.ndim(factor) == 0 else np.asarray(factor)[g]
    out = roll
    for c in (*TOKEN_COLUMNS, "requests"):
        v = np.asarray(roll.column(c).to_numpy(zero_copy_only=False), dtype=np.float64) * f
        out = out.set_column(out.schema.get_field_index(c), c, pa.array(v))
    return out
