"""Self-hosted prefix cache (vLLM-style automatic prefix caching) on block or segment hashes.

What fraction of prefill tokens a cache serves, as a function of its capacity (LRU, in tokens of KV) and
of a TTL, for the whole curve in one pass: each access's LRU *stack distance* (tokens of distinct other
blocks used since this block's previous use) is computed with a Fenwick tree in compiled code (numba); the
access hits at capacity C when distance + its own size <= C (LRU is a stack algorithm, so one pass gives
every C) and, with a TTL, when its previous use is at most TTL before. A request is served from cache up
to its first missing block (prefix semantics), so an element's threshold is the running maximum over the
request's earlier blocks.

Rules (see docs/levers.md): a request first looks its blocks up, then uses them all (hits and new blocks
become most recently used, in prompt order). Order is input order, which for the Mooncake trace is the
arrival order. `same_ts_hits=False` makes requests with equal timestamps see the cache as it was before
that timestamp.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numba
import numpy as np
import pyarrow as pa

from .._build import canonical_table, prefix_from_csr
from .._common import col, total_input
from .flat import Flat, from_arrays, from_prefix_column

INF = np.iinfo(np.int64).max


@numba.njit(cache=True)
def _stack_distances(batch_start: np.ndarray, ps: np.ndarray, pimm: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Tokens of distinct blocks used in (ps[i], start of i's batch), for every element i (-1: no ps)."""
    m = w.size
    tree = np.zeros(m + 1, np.int64)
    dist = np.full(m, -1, np.int64)
    nb = batch_start.size - 1
    for b in range(nb):
        lo, hi = batch_start[b], batch_start[b + 1]
        # prefix sum up to lo (exclusive), once per batch
        s_lo = 0
        j = lo
        while j > 0:
            s_lo += tree[j]
            j -= j & (-j)
        for i in range(lo, hi):
            p = ps[i]
            if p >= 0:
                s_p = 0
                j = p + 1
                while j > 0:
                    s_p += tree[j]
                    j -= j & (-j)
                dist[i] = s_lo - s_p
        for i in range(lo, hi):
            p = pimm[i]
            if p >= 0:
                j = p + 1
                while j <= m:
                    tree[j] -= w[p]
                    j += j & (-j)
            j = i + 1
            while j <= m:
                tree[j] += w[i]
                j += j & (-j)
    return dist


@numba.njit(cache=True)
def _prefix_max(thr: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    out = np.empty_like(thr)
    for r in range(offsets.size - 1):
        run = np.int64(0)
        for i in range(offsets[r], offsets[r + 1]):
            if thr[i] > run:
                run = thr[i]
            out[i] = run
    return out


def thresholds(flat: Flat, ts: np.ndarray, ttl: int | None = None, *, same_ts_hits: bool = True) -> np.ndarray:
    """Per element: the smallest cache capacity (tokens) at which it is served from cache (INF: never)."""
    m = flat.size
    if m == 0:
        return np.zeros(0, np.int64)
    order = np.argsort(flat.key, kind="stable")
    sk = flat.key[order]
    req_sorted = flat.req[order]
    if same_ts_hits:
        batch_of_req = np.arange(flat.n_requests, dtype=np.int64)
    else:
        newts = np.ones(flat.n_requests, bool)
        newts[1:] = ts[1:] != ts[:-1]
        batch_of_req = np.cumsum(newts) - 1
    bs = batch_of_req[req_sorted]
    pos = np.arange(m, dtype=np.int64)
    newkey = np.ones(m, bool)
    newkey[1:] = sk[1:] != sk[:-1]
    newblock = newkey.copy()
    newblock[1:] |= bs[1:] != bs[:-1]
    key_start = np.maximum.accumulate(np.where(newkey, pos, 0))
    block_start = np.maximum.accumulate(np.where(newblock, pos, 0))
    ps_sorted = np.where(block_start > key_start, block_start - 1, -1)
    pimm_sorted = np.where(newkey, -1, pos - 1)
    ps = np.empty(m, np.int64)
    pimm = np.empty(m, np.int64)
    ps[order] = np.where(ps_sorted >= 0, order[np.maximum(ps_sorted, 0)], -1)
    pimm[order] = np.where(pimm_sorted >= 0, order[np.maximum(pimm_sorted, 0)], -1)
    # batches in element order: a request, or every request of one timestamp
    eb = batch_of_req[flat.req]
    starts = np.flatnonzero(np.concatenate([[True], eb[1:] != eb[:-1]]))
    batch_start = np.concatenate([starts, [m]]).astype(np.int64)
    dist = _stack_distances(batch_start, ps, pimm, flat.tokens.astype(np.int64))
    ok = dist >= 0
    if ttl is not None:
        ok &= (ts[flat.req] - ts[flat.req[np.maximum(ps, 0)]]) <= ttl
    thr = np.where(ok, dist + flat.tokens, INF)
    return _prefix_max(thr, flat.offsets)


def curve(flat: Flat, ts: np.ndarray, total_tokens: int, capacities: list[int | None], ttl: int | None = None,
          *, same_ts_hits: bool = True) -> list[dict[str, Any]]:
    """Fraction of all input tokens served from cache at each capacity (None: unlimited)."""
    thr = thresholds(flat, ts, ttl, same_ts_hits=same_ts_hits)
    o = np.argsort(thr, kind="stable")
    st, cw = thr[o], np.cumsum(flat.tokens[o])
    points = []
    for c in capacities:
        k = int(np.searchsorted(st, INF - 1 if c is None else c, side="right"))
        hit = int(cw[k - 1]) if k else 0
        points.append({"capacity_tokens": c, "hit_token_fraction": hit / total_tokens if total_tokens else 0.0,
                       "hit_tokens": hit})
    return points


def table_curve(t: pa.Table, capacities: list[int | None], ttl_s: float | None = None, *,
                same_ts_hits: bool = True) -> dict[str, Any]:
    """The cache curve of a canonical table (uses `ts`, the input token columns and `prefix`)."""
    ts = col(t, "ts").astype(np.int64)
    order = np.argsort(ts, kind="stable")
    t = t.take(pa.array(order)) if np.any(order != np.arange(order.size)) else t
    ts = ts[order]
    tin = total_input(t)
    flat = from_prefix_column(t.column("prefix"), tin)
    ttl = None if ttl_s is None else int(round(ttl_s * 1_000_000))
    pts = curve(flat, ts, int(tin.sum()), capacities, ttl, same_ts_hits=same_ts_hits)
    return {"ttl_s": ttl_s, "requests": t.num_rows, "input_tokens": int(tin.sum()),
            "prefix_tokens": int(flat.tokens.sum()), "same_timestamp_hits": same_ts_hits, "points": pts}


# ---- Mooncake trace (block hashes), read directly until the issue-3 reader is registered ------------------
MOONCAKE_BLOCK = 512


def mooncake_flat(path: str | Path) -> tuple[Flat, np.ndarray, np.ndarray]:
    """(flat blocks, ts in microseconds, input tokens) of a Mooncake JSONL trace; the last block of each
    request holds the remainder of `input_length` (at most 512 tokens)."""
    import pyarrow.json as pj

    t = pj.read_json(str(path))
    ts = t.column("timestamp").to_numpy().astype(np.int64) * 1000
    n_in = t.column("input_length").to_numpy().astype(np.int64)
    ids = t.column("hash_ids").combine_chunks()
    lengths = np.diff(ids.offsets.to_numpy()).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    seg = ids.flatten().to_numpy().astype(np.int64).astype(np.uint64) + np.uint64(1)
    req = np.repeat(np.arange(len(t)), lengths)
    depth = np.arange(offsets[-1]) - offsets[:-1][req]
    tokens = np.clip(n_in[req] - MOONCAKE_BLOCK * depth, 0, MOONCAKE_BLOCK)
    return from_arrays(offsets, seg, tokens, n_in), ts, n_in


def mooncake_table(path: str | Path) -> pa.Table:
    """A Mooncake trace as canonical columns (ts, input/output tokens, prefix of 512-token blocks)."""
    import pyarrow.json as pj

    t = pj.read_json(str(path))
    n = len(t)
    n_in = t.column("input_length").to_numpy().astype(np.int64)
    ids = t.column("hash_ids").combine_chunks()
    offsets = ids.offsets.to_numpy().astype(np.int64)
    req = np.repeat(np.arange(n), np.diff(offsets))
    depth = np.arange(offsets[-1]) - offsets[:-1][req]
    tokens = np.clip(n_in[req] - MOONCAKE_BLOCK * depth, 0, MOONCAKE_BLOCK)
    hashes = ids.flatten().cast(pa.string())
    return canonical_table(
        n, ts=t.column("timestamp").to_numpy().astype(np.int64) * 1000, model="unknown", input_tokens=n_in,
        output_tokens=t.column("output_length").to_numpy().astype(np.int64),
        prefix=prefix_from_csr(offsets, hashes, tokens))
