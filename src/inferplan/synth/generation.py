"""Drawing requests from a spec: counts per (call type, minute) cell, time order, every numeric column.

numpy only: one in-place sort of packed (minute, time, call type) keys, then each per-request column as one
array in time order; same spec and seed give the same table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import ConfigError
from .arrow import assemble
from .spec import CallTypeSpec, TrafficSpec, load_traffic

MINUTE_US = 60_000_000
_OFFSET_BITS = 26  # a time within its minute, in microseconds: < 2**26


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
    return assemble(spec, names, ts, cti, cols, seed, with_prefix)

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

