"""Synthetic traffic from a scenario's `traffic:` section: for teams with no logs yet, and for benchmarks.

The spec (validated, `extra="forbid"`) names call types; each has a mean rate, a daily and a weekly profile,
burstiness, token-length distributions, shared prefixes with their reuse, whether a caller waits, and a
model. `generate()` draws a canonical raw table (the shape readers produce: `model_id` as the id is logged)
with numpy only: counts per (call type, minute) cell, then every per-request column as one array. Same spec
and seed give the same table. See docs/readers.md for the YAML.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError
from .workload import PREFIX_TYPE

__all__ = ["TrafficSpec", "CallTypeSpec", "Dist", "PrefixStage", "load_traffic", "generate", "to_workload",
           "DAILY_SHAPES", "WEEKLY_SHAPES"]

MINUTE_US = 60_000_000
# Named daily shapes (24 hourly weights, local time) and weekly shapes (Mon..Sun); normalised on use.
DAILY_SHAPES: dict[str, list[float]] = {
    "flat": [1.0] * 24,
    "business": [0.15, 0.1, 0.1, 0.1, 0.15, 0.25, 0.45, 0.8, 1.3, 1.7, 1.85, 1.9,
                 1.8, 1.85, 1.9, 1.8, 1.6, 1.3, 0.9, 0.6, 0.45, 0.35, 0.25, 0.2],
    "evening": [0.5, 0.35, 0.25, 0.2, 0.2, 0.25, 0.4, 0.6, 0.8, 0.9, 1.0, 1.05,
                1.1, 1.1, 1.1, 1.15, 1.2, 1.35, 1.6, 1.8, 1.9, 1.8, 1.4, 0.9],
    "nightly": [3.0, 4.0, 4.0, 3.0, 2.0, 1.0, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1,
                0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.5, 1.5],
}
WEEKLY_SHAPES: dict[str, list[float]] = {
    "flat": [1.0] * 7,
    "weekdays": [1.15, 1.2, 1.2, 1.2, 1.1, 0.6, 0.55],
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Dist(_Strict):
    """A token-length distribution. A bare number in YAML means `{dist: fixed, mean: N}`."""

    dist: Literal["fixed", "lognormal", "exponential", "uniform", "normal"] = "lognormal"
    mean: float = Field(gt=0, description="mean tokens (fixed: the value)")
    cv: float = Field(default=0.5, ge=0, description="coefficient of variation (sd / mean); lognormal, normal")
    min: int = Field(default=1, ge=0)
    max: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _bounds(self) -> Dist:
        if self.max is not None and self.max < self.min:
            raise ValueError("max is below min")
        return self

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        m = self.mean
        if self.dist == "fixed":
            x = np.full(n, m)
        elif self.dist == "lognormal":
            s2 = np.log1p(self.cv**2)
            x = rng.lognormal(np.log(m) - s2 / 2, np.sqrt(s2), n)
        elif self.dist == "exponential":
            x = rng.exponential(m, n)
        elif self.dist == "uniform":
            hi = 2 * m - self.min
            x = rng.uniform(self.min, max(hi, self.min), n)
        else:
            x = rng.normal(m, m * self.cv, n)
        hi = self.max if self.max is not None else np.iinfo(np.int64).max // 4
        return np.clip(np.rint(x), self.min, hi).astype(np.int64)


class PrefixStage(_Strict):
    """A shared prompt segment (tools + system prompt, a reused document...): `tokens` long, one of
    `variants` distinct texts, present in a `reuse` fraction of the requests that have the previous stage."""

    tokens: int = Field(gt=0)
    reuse: float = Field(default=1.0, ge=0, le=1)
    variants: int = Field(default=1, ge=1)
    name: str | None = None


class CallTypeSpec(_Strict):
    """One call type: how often, when, how big, on which model."""

    model: str = Field(min_length=1, description="model id as it would be logged (id, profile id, alias)")
    per_second: float | None = Field(default=None, ge=0)
    per_hour: float | None = Field(default=None, ge=0)
    per_day: float | None = Field(default=None, ge=0)
    daily_profile: str | list[float] = "flat"
    weekly_profile: str | list[float] = "flat"
    burstiness: float = Field(default=0.0, ge=0, description="CV of the per-minute rate; 0 is Poisson")
    input_tokens: Dist
    output_tokens: Dist
    prefix: list[PrefixStage] = Field(default_factory=list)
    cache: Literal["none", "5m", "1h"] = "none"
    interactive: bool = True
    tier: Literal["standard", "batch", "flex", "priority", "provisioned"] = "standard"
    region: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("input_tokens", "output_tokens", mode="before")
    @classmethod
    def _number_is_fixed(cls, v: Any) -> Any:
        return {"dist": "fixed", "mean": v} if isinstance(v, int | float) and not isinstance(v, bool) else v

    @field_validator("prefix", mode="before")
    @classmethod
    def _one_stage(cls, v: Any) -> Any:
        return [v] if isinstance(v, dict) else v

    @field_validator("daily_profile", "weekly_profile")
    @classmethod
    def _profile(cls, v: str | list[float], info: Any) -> str | list[float]:
        daily = info.field_name == "daily_profile"
        shapes, n = (DAILY_SHAPES, 24) if daily else (WEEKLY_SHAPES, 7)
        if isinstance(v, str):
            if v not in shapes:
                raise ValueError(f"unknown profile {v!r}; named profiles: {', '.join(shapes)}, or a list of {n}")
            return v
        if len(v) != n or any(x < 0 for x in v) or sum(v) <= 0:
            raise ValueError(f"a {'daily' if daily else 'weekly'} profile is {n} non-negative weights, not all 0")
        return v

    @model_validator(mode="after")
    def _one_rate(self) -> CallTypeSpec:
        given = [x for x in (self.per_second, self.per_hour, self.per_day) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of per_second, per_hour, per_day (mean requests over a week)")
        if self.cache != "none" and not self.prefix:
            raise ValueError("cache needs a prefix: what is cached is the shared prefix")
        return self

    @property
    def rate_per_minute(self) -> float:
        if self.per_second is not None:
            return self.per_second * 60
        if self.per_hour is not None:
            return self.per_hour / 60
        return float(self.per_day or 0) / 1440

    def profile_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        d = np.asarray(DAILY_SHAPES[self.daily_profile] if isinstance(self.daily_profile, str)
                       else self.daily_profile, float)
        w = np.asarray(WEEKLY_SHAPES[self.weekly_profile] if isinstance(self.weekly_profile, str)
                       else self.weekly_profile, float)
        return d / d.mean(), w / w.mean()


class TrafficSpec(_Strict):
    """The `traffic:` section of a scenario file."""

    start: datetime = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
    days: float = Field(default=7, gt=0)
    utc_offset_hours: float = Field(default=0, ge=-12, le=14, description="local time of the profiles")
    region: str = "us-east-1"
    call_types: dict[str, CallTypeSpec] = Field(min_length=1)

    @field_validator("start")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)


def load_traffic(source: str | Path | Mapping[str, Any]) -> TrafficSpec:
    """A validated TrafficSpec from a YAML file, a scenario dict, or the `traffic:` mapping itself."""
    where = "traffic spec"
    if isinstance(source, str | Path):
        where = str(source)
        try:
            doc = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read scenario file {source}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"scenario file {source} is not valid YAML: {exc}") from None
    else:
        doc = dict(source)
    if isinstance(doc, dict) and "traffic" in doc:
        doc = doc["traffic"]
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: expected a `traffic:` mapping with `call_types:`")
    try:
        return TrafficSpec.model_validate(doc)
    except ValidationError as exc:
        msgs = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{where}: invalid traffic spec: {msgs}") from None


def _hash(*parts: object) -> str:
    return hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=8).hexdigest()


def _cell_weights(spec: TrafficSpec, ct: CallTypeSpec, minutes: int, rng: np.random.Generator) -> np.ndarray:
    """Expected requests per minute cell for one call type: rate x daily x weekly x burst multiplier."""
    daily, weekly = ct.profile_arrays()
    start_us = int(spec.start.timestamp() * 1e6)
    local_min = (start_us // MINUTE_US) + np.arange(minutes) + int(round(spec.utc_offset_hours * 60))
    hour = (local_min // 60) % 24
    dow = ((local_min // 1440) + 3) % 7  # 1970-01-01 was a Thursday: Monday = 0
    lam = ct.rate_per_minute * daily[hour] * weekly[dow]
    if ct.burstiness > 0:
        k = 1.0 / ct.burstiness**2
        lam = lam * rng.gamma(k, 1.0 / k, minutes)
    return lam


def generate(spec: TrafficSpec | Mapping[str, Any], *, seed: int = 0, rows: int | None = None,
             days: float | None = None, with_prefix: bool = True) -> pa.Table:
    """Draw requests from the spec: Poisson counts per minute, or exactly `rows` requests spread the same way.

    Returns a pyarrow table in the canonical raw shape, sorted by time: ts, request_id, call_type, model_id,
    region, tier, the five token columns, prefix, latency_ms (null), interactive, tags. `with_prefix=False`
    leaves `prefix` null (faster, for benchmarks that do not replay caches).
    """
    spec = spec if isinstance(spec, TrafficSpec) else load_traffic(spec)
    if days is not None:
        spec = spec.model_copy(update={"days": days})
    rng = np.random.default_rng(seed)
    minutes = max(1, int(round(spec.days * 1440)))
    names = list(spec.call_types)
    lam = np.stack([_cell_weights(spec, spec.call_types[n], minutes, rng) for n in names])
    if rows is None:
        counts = rng.poisson(lam)
    else:
        total = lam.sum()
        if total <= 0:
            raise ConfigError("traffic spec: every call type has a zero rate; cannot draw rows")
        counts = rng.multinomial(rows, (lam / total).ravel()).reshape(lam.shape)
    start_us = int(spec.start.timestamp() * 1e6)
    parts = [_call_type_arrays(spec.call_types[name], counts[i], start_us, rng) for i, name in enumerate(names)]
    return _assemble(spec, names, parts, seed, with_prefix)


RAW_SCHEMA = pa.schema([
    ("ts", pa.timestamp("us", tz="UTC")), ("request_id", pa.string()), ("call_type", pa.string()),
    ("model_id", pa.string()), ("region", pa.string()), ("tier", pa.string()), ("input_tokens", pa.int64()),
    ("cache_read_tokens", pa.int64()), ("cache_write_tokens", pa.int64()), ("cache_write_1h_tokens", pa.int64()),
    ("output_tokens", pa.int64()), ("prefix", PREFIX_TYPE), ("latency_ms", pa.float64()),
    ("interactive", pa.bool_()), ("tags", pa.map_(pa.string(), pa.string())),
])


def _call_type_arrays(ct: CallTypeSpec, counts: np.ndarray, start_us: int,
                      rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Numeric columns of one call type (strings are built once, after the global time sort)."""
    n = int(counts.sum())
    minute = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    ts = start_us + minute * MINUTE_US + rng.integers(0, MINUTE_US, n)
    total_in = ct.input_tokens.draw(rng, n)
    out = ct.output_tokens.draw(rng, n)
    # prefix stages: stage k applies if stage k-1 did and a draw falls under its reuse
    k = len(ct.prefix)
    applied = np.zeros((n, k), bool)
    variant = np.zeros((n, k), np.int64)
    prev = np.ones(n, bool)
    for j, st in enumerate(ct.prefix):
        applied[:, j] = prev & (rng.random(n) < st.reuse)
        variant[:, j] = rng.integers(0, st.variants, n)
        prev = applied[:, j]
    stage_tok = np.array([st.tokens for st in ct.prefix], np.int64)
    prefix_tok = (applied * stage_tok).sum(axis=1) if k else np.zeros(n, np.int64)
    total_in = np.maximum(total_in, prefix_tok + 1)  # the request's own part is at least one token
    read, write = _cache_split(ct, ts, applied, variant, stage_tok)
    # chain key per stage: equal chains of variants = equal prefix text
    chain = np.zeros((n, k), np.int64)
    key = np.zeros(n, np.int64)
    for j, st in enumerate(ct.prefix):
        key = key * st.variants + variant[:, j]
        chain[:, j] = key
    return {"ts": ts, "total_in": total_in, "read": read, "write": write, "out": out, "applied": applied,
            "chain": chain, "own": total_in - prefix_tok}


def _assemble(spec: TrafficSpec, names: list[str], parts: list[dict[str, np.ndarray]], seed: int,
              with_prefix: bool) -> pa.Table:
    """Concatenate call types, sort by time once, then build string and list columns in final order."""
    kmax = max((len(spec.call_types[nm].prefix) for nm in names), default=0)
    cti = np.concatenate([np.full(p["ts"].size, i, np.int32) for i, p in enumerate(parts)])
    ts = np.concatenate([p["ts"] for p in parts])
    order = np.argsort(ts, kind="stable")
    ts, cti = ts[order], cti[order]
    n = ts.size

    def cat(key: str) -> np.ndarray:
        return np.concatenate([p[key] for p in parts])[order]

    total_in, read, write, out, own = cat("total_in"), cat("read"), cat("write"), cat("out"), cat("own")
    # padded stage matrices with global hash ids (offset per call type and stage)
    applied = np.zeros((n, kmax), bool)
    hid = np.zeros((n, kmax), np.int64)
    stok = np.zeros((n, kmax), np.int64)
    pool: list[str] = []
    for i, (nm, p) in enumerate(zip(names, parts, strict=True)):
        ct = spec.call_types[nm]
        rows = np.flatnonzero(cti == i)
        src = np.empty(p["ts"].size, np.int64)
        src[order[rows] - sum(q["ts"].size for q in parts[:i])] = rows
        for j, st in enumerate(ct.prefix):
            distinct, inv = np.unique(p["chain"][:, j], return_inverse=True)
            applied[src, j] = p["applied"][:, j]
            hid[src, j] = inv.reshape(-1) + len(pool)
            stok[src, j] = st.tokens
            pool += [_hash(nm, j, int(d), st.tokens) for d in distinct]
    one_h = np.array([spec.call_types[nm].cache == "1h" for nm in names])[cti] if n else np.zeros(0, bool)
    zeros = np.zeros(n, np.int64)
    ct_of = [spec.call_types[nm] for nm in names]

    rid = pc.binary_join_element_wise(f"syn-{seed}-", pc.cast(pa.array(np.arange(n)), pa.string()), "")

    def lookup(values: list[Any], typ: pa.DataType) -> pa.Array:
        return pc.take(pa.array(values, typ), pa.array(cti))

    cols = {
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "request_id": rid,
        "call_type": lookup(names, pa.string()),
        "model_id": lookup([c.model for c in ct_of], pa.string()),
        "region": lookup([c.region or spec.region for c in ct_of], pa.string()),
        "tier": lookup([c.tier for c in ct_of], pa.string()),
        "input_tokens": pa.array(total_in - read - write),
        "cache_read_tokens": pa.array(read),
        "cache_write_tokens": pa.array(np.where(one_h, zeros, write)),
        "cache_write_1h_tokens": pa.array(np.where(one_h, write, zeros)),
        "output_tokens": pa.array(out),
        "prefix": _prefix_array(applied, hid, stok, own, pool, rid) if with_prefix else pa.nulls(n, PREFIX_TYPE),
        "latency_ms": pa.nulls(n, pa.float64()),
        "interactive": lookup([c.interactive for c in ct_of], pa.bool_()),
        "tags": _tags_array([c.tags for c in ct_of], cti),
    }
    return pa.table(cols, schema=RAW_SCHEMA)


def _cache_split(ct: CallTypeSpec, ts: np.ndarray, applied: np.ndarray, variant: np.ndarray,
                 stage_tok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Prompt-cache reads and writes as the traffic records them today (`cache: 5m|1h`).

    Stage j of a request hits when the same chain of variants up to j was used within the TTL before
    (each use refreshes it); otherwise it is written. Hits are monotone in j, as on Bedrock.
    """
    n = ts.size
    read = np.zeros(n, np.int64)
    write = np.zeros(n, np.int64)
    if ct.cache == "none" or n == 0:
        return read, write
    ttl_us = (300 if ct.cache == "5m" else 3600) * 1_000_000
    key = np.zeros(n, np.int64)
    for j in range(applied.shape[1]):
        key = key * (ct.prefix[j].variants + 1) + variant[:, j] + 1
        idx = np.flatnonzero(applied[:, j])
        order = idx[np.lexsort((ts[idx], key[idx]))]
        k_sorted, t_sorted = key[order], ts[order]
        hit = np.zeros(order.size, bool)
        hit[1:] = (k_sorted[1:] == k_sorted[:-1]) & (t_sorted[1:] - t_sorted[:-1] <= ttl_us)
        read[order[hit]] += stage_tok[j]
        write[order[~hit]] += stage_tok[j]
    return read, write


def _prefix_array(applied: np.ndarray, hid: np.ndarray, stok: np.ndarray, own: np.ndarray, pool: list[str],
                  own_hashes: pa.Array) -> pa.Array:
    """Segments per request: each applied shared stage (its hash depends on the chain of variants up to it,
    so equal hashes mean an equal prefix), then the request's own part, hashed as its (unique) request id."""
    n = own.size
    v = len(pool)
    mask = np.concatenate([applied, np.ones((n, 1), bool)], axis=1)
    src = np.concatenate([hid, (v + np.arange(n, dtype=np.int64))[:, None]], axis=1)
    toks = np.concatenate([stok, own[:, None]], axis=1)
    flat_src, flat_tok = src[mask], toks[mask]
    offsets = np.concatenate([[0], np.cumsum(mask.sum(axis=1))]).astype(np.int32)
    all_hashes = pa.concat_arrays([pa.array(pool, pa.string()), own_hashes])
    hashes = pc.take(all_hashes, pa.array(flat_src))
    values = pa.StructArray.from_arrays([hashes, pa.array(flat_tok, pa.int64())], names=["hash", "tokens"])
    return pa.ListArray.from_arrays(pa.array(offsets), values, type=PREFIX_TYPE)


def _tags_array(per_type: list[dict[str, str]], cti: np.ndarray) -> pa.Array:
    """Each row gets its call type's tags (a map), built without a Python loop over rows."""
    sizes = np.array([len(t) for t in per_type], np.int64)
    keys = pa.array([k for t in per_type for k in t], pa.string())
    vals = pa.array([v for t in per_type for v in t.values()], pa.string())
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    counts = sizes[cti]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    # index of each flattened entry: start of its type's block + position within it
    pos = np.arange(offsets[-1]) - np.repeat(offsets[:-1], counts)
    idx = pa.array(np.repeat(starts[cti], counts) + pos)
    return pa.MapArray.from_arrays(pa.array(offsets), pc.take(keys, idx), pc.take(vals, idx))


def to_workload(table: pa.Table, catalog: Any, *, source: str = "synthetic") -> Any:
    """A generated table as a canonical, validated Workload (model ids resolved through the catalog)."""
    import ibis

    from .workload import Defaults, Workload, finalize, validate

    canon = finalize(ibis.memtable(table), catalog, Defaults(), source=source)
    canon, _ = validate(canon, source=source)
    return Workload(table=canon, sources=[source], notes=[f"synthetic traffic: {table.num_rows:,} requests"])
