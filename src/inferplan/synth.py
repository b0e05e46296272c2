"""Synthetic traffic from a scenario's `traffic:` section: for teams with no logs yet, and for benchmarks.

The spec (validated, `extra="forbid"`) names call types; each has a mean rate, a daily and a weekly profile,
burstiness, token-length distributions, shared prefixes with their reuse, whether a caller waits, and a
model. `generate()` draws a canonical raw table (the shape readers produce: `model_id` as the id is logged)
with numpy only: counts per (call type, minute) cell, one sort of packed (minute, time, call type) keys, then
every per-request column as one array in time order; strings exist per call type (dictionary columns) and per
distinct prefix segment, never per request in Python. Same spec and seed give the same table. See
docs/readers.md for the YAML; bench/synth.py times 10 million rows.
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
from .regions import REGIONS, unknown_message
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


def _real_region(v: str) -> str:
    """A scenario's region, refused when it is not an AWS region (it would price at the `*` rows)."""
    if v not in REGIONS:
        raise ValueError(unknown_message(v))
    return v


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
        x = np.asarray(x, float)
        np.rint(x, out=x)
        np.clip(x, self.min, hi, out=x)
        return x.astype(np.int64)


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

    @field_validator("region")
    @classmethod
    def _region(cls, v: str | None) -> str | None:
        return v if v is None else _real_region(v)

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

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        return _real_region(v)


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
    region, tier, the five token columns, prefix, latency_ms (null), interactive, tags. `call_type`,
    `model_id`, `region` and `tier` are dictionary-encoded strings (one code per call type, no per-request
    strings). `with_prefix=False` leaves `prefix` null (faster, for benchmarks that do not replay caches).
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
    ts, cti = _time_order(counts, start_us, rng)
    cols = _draw_columns(spec, names, ts, cti, rng, with_prefix)
    return _assemble(spec, names, ts, cti, cols, seed, with_prefix)


_DICT = pa.dictionary(pa.int32(), pa.string())
RAW_SCHEMA = pa.schema([
    ("ts", pa.timestamp("us", tz="UTC")), ("request_id", pa.string()), ("call_type", _DICT),
    ("model_id", _DICT), ("region", _DICT), ("tier", _DICT), ("input_tokens", pa.int64()),
    ("cache_read_tokens", pa.int64()), ("cache_write_5m_tokens", pa.int64()), ("cache_write_1h_tokens", pa.int64()),
    ("output_tokens", pa.int64()), ("prefix", PREFIX_TYPE), ("latency_ms", pa.float64()),
    ("interactive", pa.bool_()), ("tags", pa.map_(pa.string(), pa.string())),
])
_OFFSET_BITS = 26  # a time within its minute, in microseconds: < 2**26
_CHUNK = 1 << 22  # rows per chunk of the string and list columns (keeps 32-bit offsets small)


def _time_order(counts: np.ndarray, start_us: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Times (sorted) and call-type codes of all requests: a uniform time within each request's minute.

    Requests of one call type are exchangeable until their columns are drawn (after this), so one in-place
    sort of a packed key (minute | microsecond in the minute | call type) orders them: no argsort, no gathers.
    """
    k, m = counts.shape
    cbits = (k - 1).bit_length()
    n = int(counts.sum())
    code = np.int8 if k < 128 else np.int32
    if (m - 1).bit_length() + _OFFSET_BITS + cbits > 63:  # (never in practice) fall back to an argsort
        cti = np.repeat(np.tile(np.arange(k, dtype=code), m), counts.T.ravel())
        ts = np.repeat(np.arange(m, dtype=np.int64) * MINUTE_US, counts.sum(axis=0))
        ts += rng.integers(0, MINUTE_US, n)
        order = np.argsort(ts, kind="stable")
        return ts[order] + start_us, cti[order]
    cell = (np.arange(m, dtype=np.int64)[:, None] << (_OFFSET_BITS + cbits)) | np.arange(k, dtype=np.int64)
    key = np.repeat(cell.ravel(), counts.T.ravel())
    offset = rng.integers(0, MINUTE_US, n)
    offset <<= cbits
    key |= offset
    del offset
    key.sort()
    cti = np.empty(n, code)
    np.bitwise_and(key, (1 << cbits) - 1, out=cti, casting="unsafe")
    key >>= cbits
    ts = key >> _OFFSET_BITS
    ts *= MINUTE_US
    key &= (1 << _OFFSET_BITS) - 1
    ts += key
    ts += start_us
    return ts, cti


def _chain_keys(ct: CallTypeSpec, variant: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Per stage, a key equal for equal chains of variants up to that stage, and the number of keys."""
    n, k = variant.shape
    chain = np.zeros((n, k), np.int64)  # columns of a single possible chain stay untouched zeros
    key = np.zeros(n, np.int64)
    size = 1
    sizes = []
    for j, st in enumerate(ct.prefix):
        if size * st.variants >= 1 << 62:  # too many possible chains for one int64: renumber the used ones
            uniq, inv = np.unique(key, return_inverse=True)
            key, size = inv.reshape(-1).astype(np.int64), uniq.size
        if st.variants > 1:
            key = key * st.variants + variant[:, j]
        size *= st.variants
        if size > 1:
            chain[:, j] = key
        sizes.append(size)
    return chain, sizes


def _draw_columns(spec: TrafficSpec, names: list[str], ts: np.ndarray, cti: np.ndarray,
                  rng: np.random.Generator, with_prefix: bool) -> dict[str, Any]:
    """Every numeric column in final (time) order, drawn call type by call type."""
    n = ts.size
    kmax = max(len(spec.call_types[nm].prefix) for nm in names)
    total_in = np.empty(n, np.int64)
    out = np.empty(n, np.int64)
    read = np.zeros(n, np.int64)
    write = np.zeros(n, np.int64)
    own = np.empty(n, np.int64)
    napplied = np.zeros(n, np.int8 if kmax < 127 else np.int32)
    hid = [np.zeros(n, np.int32) for _ in range(kmax)]  # hash id of stage j, where applied
    stage_tok = np.zeros((len(names), kmax), np.int64)
    pool: list[str] = []
    for i, nm in enumerate(names):
        ct = spec.call_types[nm]
        sel: Any = np.flatnonzero(cti == i) if len(names) > 1 else slice(None)  # faster than a mask
        m = sel.size if len(names) > 1 else n
        tin = ct.input_tokens.draw(rng, m)
        out[sel] = ct.output_tokens.draw(rng, m)
        k = len(ct.prefix)
        applied = np.ones((m, k), bool)
        variant = np.zeros((m, k), np.int64)
        for j, st in enumerate(ct.prefix):
            if st.reuse < 1:
                applied[:, j] = applied[:, j - 1] & (rng.random(m) < st.reuse) if j else rng.random(m) < st.reuse
            elif j:
                applied[:, j] = applied[:, j - 1]
            if st.variants > 1:
                variant[:, j] = rng.integers(0, st.variants, m)
        tok = np.array([st.tokens for st in ct.prefix], np.int64)
        stage_tok[i, :k] = tok
        if all(st.reuse >= 1 for st in ct.prefix):
            count: Any = k
            prefix_tok: Any = int(tok.sum())
        else:
            count = applied.sum(axis=1, dtype=napplied.dtype)
            prefix_tok = np.concatenate([[0], np.cumsum(tok)])[count]
        np.maximum(tin, prefix_tok + 1, out=tin)  # the request's own part is at least one token
        total_in[sel] = tin
        tin -= prefix_tok
        own[sel] = tin
        del tin
        napplied[sel] = count
        chain, sizes = _chain_keys(ct, variant)
        if ct.cache != "none":
            read[sel], write[sel] = _cache_split(ct, ts[sel], applied, variant, tok, chain=(chain, sizes))
        if not with_prefix:
            continue
        for j, st in enumerate(ct.prefix):
            every = isinstance(count, int) or bool(applied[:, j].all())
            if sizes[j] == 1:  # one text: one hash id
                if every or applied[:, j].any():
                    hid[j][sel] = len(pool)
                    pool.append(_hash(nm, j, 0, st.tokens))
                continue
            keys = chain[:, j] if every else chain[applied[:, j], j]
            if sizes[j] <= max(4 * m, 1 << 16):
                used = np.flatnonzero(np.bincount(keys, minlength=sizes[j]))
                lookup = np.zeros(sizes[j], np.int32)
                lookup[used] = np.arange(len(pool), len(pool) + used.size, dtype=np.int32)
                hid[j][sel] = lookup[chain[:, j]]  # rows without the stage get a value never read
            else:
                used, inv = np.unique(keys, return_inverse=True)
                col = np.zeros(m, np.int32)
                col[slice(None) if every else applied[:, j]] = len(pool) + inv.reshape(-1)
                hid[j][sel] = col
            pool += [_hash(nm, j, int(d), st.tokens) for d in used]
    return {"total_in": total_in, "read": read, "write": write, "out": out, "own": own, "napplied": napplied,
            "hid": hid, "stage_tok": stage_tok, "pool": pool}


def _dictionary(values: list[Any], cti: np.ndarray) -> pa.DictionaryArray:
    """A dictionary array: call type i's value, for int32 codes `cti` (values deduplicated; the codes array is
    shared when the values are distinct)."""
    uniq = list(dict.fromkeys(values))
    if len(uniq) == len(values):
        idx = cti
    elif len(uniq) == 1:
        idx = np.zeros(cti.size, np.int32)
    else:
        idx = np.array([uniq.index(v) for v in values], np.int32)[cti]
    return pa.DictionaryArray.from_arrays(pa.array(idx), pa.array(uniq, pa.string()))


def _assemble(spec: TrafficSpec, names: list[str], ts: np.ndarray, cti: np.ndarray, c: dict[str, Any],
              seed: int, with_prefix: bool) -> pa.Table:
    """Arrow columns from the numeric ones; strings only per call type or per distinct prefix segment."""
    n = ts.size
    ct_of = [spec.call_types[nm] for nm in names]
    write = c["write"]
    if any(x.cache == "1h" for x in ct_of):
        one_h = np.array([x.cache == "1h" for x in ct_of])[cti]
        write, write_1h = np.where(one_h, 0, write), np.where(one_h, write, 0)
    else:
        write_1h = np.zeros(n, np.int64)
    input_tokens = c["total_in"]
    if any(x.cache != "none" for x in ct_of):
        input_tokens -= c["read"]
        input_tokens -= c["write"]
    chunks = [(a, min(a + _CHUNK, n)) for a in range(0, n, _CHUNK)] or [(0, 0)]
    codes = cti.astype(np.int32)
    if with_prefix:
        own_tag = np.frombuffer(hashlib.blake2b(f"syn-own/{seed}".encode(), digest_size=3).hexdigest().encode(),
                                np.uint8)
        pool16 = np.frombuffer("".join(c["pool"]).encode() or b"\0" * 16, "V16")
        prefix = pa.chunked_array([_prefix_chunk(c, cti, pool16, own_tag, a, b) for a, b in chunks],
                                  PREFIX_TYPE)
    else:
        prefix = pa.nulls(n, PREFIX_TYPE)
    cols = {
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "request_id": pa.chunked_array([_request_ids(f"syn-{seed}-", a, b) for a, b in chunks], pa.string()),
        "call_type": _dictionary(names, codes),
        "model_id": _dictionary([x.model for x in ct_of], codes),
        "region": _dictionary([x.region or spec.region for x in ct_of], codes),
        "tier": _dictionary([x.tier for x in ct_of], codes),
        "input_tokens": pa.array(input_tokens),
        "cache_read_tokens": pa.array(c["read"]),
        "cache_write_5m_tokens": pa.array(write),
        "cache_write_1h_tokens": pa.array(write_1h),
        "output_tokens": pa.array(c["out"]),
        "prefix": prefix,
        "latency_ms": pa.nulls(n, pa.float64()),
        "interactive": pa.array(np.array([x.interactive for x in ct_of])[cti]),
        "tags": pa.chunked_array([_tags_chunk([x.tags for x in ct_of], cti[a:b]) for a, b in chunks],
                                 RAW_SCHEMA.field("tags").type),
    }
    return pa.table(cols, schema=RAW_SCHEMA)


def _cache_split(ct: CallTypeSpec, ts: np.ndarray, applied: np.ndarray, variant: np.ndarray,
                 stage_tok: np.ndarray, *, chain: tuple[np.ndarray, list[int]] | None = None,
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Prompt-cache reads and writes as the traffic records them today (`cache: 5m|1h`).

    Stage j of a request hits when the same chain of variants up to j was used within the TTL before
    (each use refreshes it); otherwise it is written. Hits are monotone in j, as on Bedrock.
    """
    n = ts.size
    read = np.zeros(n, np.int64)
    write = np.zeros(n, np.int64)
    if ct.cache == "none" or n == 0:
        return read, write
    if n > 1 and (np.diff(ts) < 0).any():  # callers pass time order; anything else is sorted here
        order = np.argsort(ts, kind="stable")
        r, w = _cache_split(ct, ts[order], applied[order], variant[order], stage_tok)
        read[order], write[order] = r, w
        return read, write
    keys, sizes = chain if chain is not None else _chain_keys(ct, variant)
    ttl_us = (300 if ct.cache == "5m" else 3600) * 1_000_000
    for j in range(applied.shape[1]):
        idx = np.flatnonzero(applied[:, j])
        if idx.size == 0:
            continue
        key = keys[idx, j]
        if sizes[j] > 1:  # by chain, then time (rows are in time order: a stable sort by chain)
            pbits = int(idx.size).bit_length()
            if (sizes[j] - 1).bit_length() + pbits <= 63:
                packed = np.sort((key << pbits) | np.arange(idx.size, dtype=np.int64))
                perm = packed & ((1 << pbits) - 1)
                key = packed >> pbits
            else:
                perm = np.argsort(key, kind="stable")
                key = key[perm]
            idx = idx[perm]
        t = ts[idx]
        hit = np.zeros(idx.size, bool)
        hit[1:] = (key[1:] == key[:-1]) & (t[1:] - t[:-1] <= ttl_us)
        read[idx[hit]] += stage_tok[j]
        write[idx[~hit]] += stage_tok[j]
    return read, write


def _prefix_chunk(c: dict[str, Any], cti: np.ndarray, pool16: np.ndarray, own_tag: np.ndarray, a: int,
                  b: int) -> pa.Array:
    """Segments of requests a..b: each applied shared stage (its hash depends on the call type, the stage and
    the chain of variants up to it, so equal hashes mean an equal prefix), then the request's own part, with a
    hash unique to the request (16 characters like the shared ones: 6 hex digits from the seed, then the row
    number in 10 decimal digits). Built from flat arrays: the hash strings
    are 16 bytes each, copied from the distinct segments' hashes, never one Python string per request."""
    napplied = c["napplied"][a:b]
    hid, stage_tok, code = [x[a:b] for x in c["hid"]], c["stage_tok"], cti[a:b]
    m = b - a
    offsets = np.empty(m + 1, np.int32)
    offsets[0] = 0
    np.cumsum(napplied, out=offsets[1:], dtype=np.int32)
    offsets[1:] += np.arange(1, m + 1, dtype=np.int32)
    s = int(offsets[-1])
    h = np.empty(s, "V16")  # 16 bytes a segment: its hash's characters
    tok = np.empty(s, np.int64)
    for j, ids in enumerate(hid):
        r = np.flatnonzero(napplied > j)
        pos = offsets[r]
        pos += j
        h[pos] = pool16[ids[r]]
        tok[pos] = stage_tok[code[r], j]
    last = offsets[1:] - 1
    own = np.empty((m, 16), np.uint8)
    own[:, :6] = own_tag
    _decimal_into(own[:, 6:], a)
    h[last] = own.view("V16").reshape(-1)
    tok[last] = c["own"][a:b]
    hashes = pa.StringArray.from_buffers(s, pa.py_buffer(np.arange(0, 16 * s + 1, 16, dtype=np.int32)),
                                         pa.py_buffer(h))
    values = pa.StructArray.from_arrays([hashes, pa.array(tok)], names=["hash", "tokens"])
    return pa.ListArray.from_arrays(pa.array(offsets), values, type=PREFIX_TYPE)


_DIGITS3 = np.frombuffer("".join(f"{x:03d}" for x in range(1000)).encode(), np.uint8).reshape(1000, 3)


def _decimal_into(out: np.ndarray, lo: int) -> None:
    """Write the d decimal digits of lo, lo+1, ... (all d digits long) into the rows of `out` (n, d)."""
    n, d = out.shape
    if d > 3 and n >= 4000:  # blocks of 1000: the last 3 digits cycle, the others are constant per block
        a0 = -(-lo // 1000) * 1000
        blocks = (lo + n - a0) // 1000
        _decimal_into(out[:a0 - lo], lo)
        mid = out[a0 - lo:a0 - lo + blocks * 1000].reshape(blocks, 1000, d)
        head = np.empty((blocks, d - 3), np.uint8)
        _decimal_into(head, a0 // 1000)
        mid[:, :, :d - 3] = head[:, None, :]
        mid[:, :, d - 3:] = _DIGITS3[None]
        _decimal_into(out[a0 - lo + blocks * 1000:], a0 + blocks * 1000)
        return
    x = np.arange(lo, lo + n, dtype=np.int64)
    for col in range(d - 1, -1, -1):
        out[:, col] = x % 10 + 48
        x //= 10


def _request_ids(prefix: str, a: int, b: int) -> pa.Array:
    """`prefix` + the decimal row number, for rows a..b, built as bytes (rows with d digits are contiguous)."""
    pre = np.frombuffer(prefix.encode(), np.uint8)
    groups = []
    d = 1
    while a < b:
        hi = min(b, 10**d)
        if a < hi:
            groups.append((a, hi, pre.size + d))
            a = hi
        d += 1
    n = sum(hi - lo for lo, hi, _ in groups)
    offsets = np.empty(n + 1, np.int32)
    offsets[0] = 0
    data = np.empty(sum((hi - lo) * w for lo, hi, w in groups), np.uint8)
    row = at = 0
    for lo, hi, w in groups:
        g = hi - lo
        mat = data[at:at + g * w].reshape(g, w)
        mat[:, :pre.size] = pre
        _decimal_into(mat[:, pre.size:], lo)
        offsets[row + 1:row + 1 + g] = np.arange(at + w, at + w * g + 1, w, dtype=np.int32)
        row, at = row + g, at + g * w
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def _strings(values: list[str]) -> tuple[bytes, np.ndarray]:
    raw = [v.encode() for v in values]
    return b"".join(raw), np.array([len(x) for x in raw], np.int32)


def _tags_chunk(per_type: list[dict[str, str]], cti: np.ndarray) -> pa.Array:
    """Each row gets its call type's tags (a map), built without a Python loop over rows."""
    typ = RAW_SCHEMA.field("tags").type
    m = cti.size
    if all(t == per_type[0] for t in per_type):  # the common case: one tag set, a tiled pattern
        t = per_type[0]
        e = len(t)
        children = []
        for strs in (list(t), list(t.values())):
            data, lens = _strings(strs)
            unit = np.zeros(e, np.int32)
            np.cumsum(lens[:-1], out=unit[1:])
            offs = np.empty(m * e + 1, np.int32)
            offs[:-1] = (np.arange(m, dtype=np.int32)[:, None] * len(data) + unit[None, :]).reshape(-1)
            offs[-1] = m * len(data)
            children.append(pa.StringArray.from_buffers(m * e, pa.py_buffer(offs),
                                                        pa.py_buffer(np.tile(np.frombuffer(data, np.uint8), m))))
        offsets = pa.array(np.arange(0, m * e + 1, e, dtype=np.int32) if e else np.zeros(m + 1, np.int32))
        return pa.MapArray.from_arrays(offsets, children[0], children[1], type=typ)
    sizes = np.array([len(t) for t in per_type], np.int64)
    keys = pa.array([k for t in per_type for k in t], pa.string())
    vals = pa.array([v for t in per_type for v in t.values()], pa.string())
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    counts = sizes[cti]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    # index of each flattened entry: start of its type's block + position within it
    pos = np.arange(offsets[-1]) - np.repeat(offsets[:-1], counts)
    idx = pa.array(np.repeat(starts[cti], counts) + pos)
    return pa.MapArray.from_arrays(pa.array(offsets), pc.take(keys, idx), pc.take(vals, idx), type=typ)


def to_workload(table: pa.Table, catalog: Any, *, source: str = "synthetic") -> Any:
    """A generated table as a canonical, validated Workload (model ids resolved through the catalog)."""
    import ibis

    from .workload import Defaults, Workload, finalize, validate

    canon = finalize(ibis.memtable(table), catalog, Defaults(), source=source)
    canon, _ = validate(canon, source=source)
    return Workload(table=canon, sources=[source], notes=[f"synthetic traffic: {table.num_rows:,} requests"])
