"""Cache breakers: a segment that changes on almost every request, placed ahead of segments that repeat
(a timestamp in the system prompt, a reordered tool list). Everything after it misses the cache.

Found from segment *content* hashes by position, per call type: a position whose content is unique on at
least `unique_ratio` of requests, followed by a position whose content repeats (distinct on at most
`repeat_ratio` of requests). What moving it would save is measured by moving that segment to the end of
the prefix and replaying again. Traces whose hashes are already chained (Mooncake's block ids) cannot
show a breaker: equal ids there mean an equal *prefix*, so everything after a change is new anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..workload import PREFIX_TYPE
from .cache.flat import Exploded, explode


@numba.njit(cache=True)
def _depth_distinct(lengths: np.ndarray, starts: np.ndarray, seg: np.ndarray, ct: np.ndarray, d: int,
                    n_ct: int, size: int) -> np.ndarray:
    """Distinct segments at depth `d` per call type: one pass over the rows, an open-addressing set of exact
    (call type, segment) pairs sized for that depth's elements (at most 2/3 full)."""
    slot_seg = np.empty(size, np.uint64)
    slot_ct = np.full(size, -1, np.int32)
    mask = np.uint64(size - 1)
    out = np.zeros(n_ct, np.int64)
    for r in range(lengths.size):
        c = ct[r]
        if c < 0 or lengths[r] <= d:
            continue
        v = seg[starts[r] + d]
        z = v ^ (np.uint64(c) * np.uint64(0x9E3779B97F4A7C15))
        z = (z ^ (z >> np.uint64(31))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (z ^ (z >> np.uint64(29))) & mask
        while True:
            if slot_ct[h] < 0:
                slot_ct[h] = c
                slot_seg[h] = v
                out[c] += 1
                break
            if slot_ct[h] == c and slot_seg[h] == v:
                break
            h = (h + np.uint64(1)) & mask
    return out


def position_stats(ex: Exploded) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per (call type, depth) present, sorted by call type then depth: call type, depth, elements, distinct
    segments, mean tokens (null call types left out). Straight from flat arrays: per-depth counts by bincount
    over rows, distinct segments
    by one compiled pass per depth; no array per element is made (the exploded arrays cost ~50 bytes each)."""
    n_ct = len(ex.call_types)
    ct_of = np.array([-1 if v is None else i for i, v in enumerate(ex.call_types)], np.int32)
    ct = ct_of[ex.ct_code] if ex.ct_code.size else np.zeros(0, np.int32)
    lengths = np.where(ct >= 0, ex.lengths, 0)
    if n_ct == 0 or not lengths.any():
        z = np.zeros(0, np.int64)
        return z, z, z, z, z.astype(np.float64)
    nd = int(lengths.max())
    g_ct, g_depth, g_n, g_distinct, g_tokens = [], [], [], [], []
    for d in range(nd):
        has = lengths > d
        n = np.bincount(ct[has], minlength=n_ct)
        tok = np.bincount(ct[has], ex.tokens[ex.starts[has] + d], minlength=n_ct)
        size = 1
        while size < int(n.sum()) * 3 // 2 + 1:
            size *= 2
        distinct = _depth_distinct(ex.lengths, ex.starts, ex.seg, ct, d, n_ct, size)
        present = np.flatnonzero(n)
        g_ct.append(present)
        g_depth.append(np.full(present.size, d))
        g_n.append(n[present])
        g_distinct.append(distinct[present])
        g_tokens.append(tok[present] / n[present])
    order = np.lexsort((np.concatenate(g_depth), np.concatenate(g_ct)))  # by call type, then depth
    return tuple(np.concatenate(a)[order] for a in (g_ct, g_depth, g_n, g_distinct, g_tokens))  # type: ignore[return-value]


def find(t: pa.Table, *, unique_ratio: float = 0.9, repeat_ratio: float = 0.5, min_requests: int = 20,
         exploded: Exploded | None = None) -> list[dict[str, Any]]:
    """Candidate breakers (call type, 1-based position), without their saving. `exploded`: `explode(t)`,
    when the caller has it already."""
    if ("prefix" not in t.column_names and exploded is None) or t.num_rows == 0:
        return []
    ex = explode(t) if exploded is None else exploded
    names = ex.call_types
    g_ct, g_depth, g_n, g_distinct, g_tokens = position_stats(ex)
    ratio = g_distinct / g_n
    out = []
    for i in range(g_ct.size):
        if g_n[i] < min_requests or ratio[i] < unique_ratio:
            continue
        after = np.flatnonzero((g_ct == g_ct[i]) & (g_depth > g_depth[i]) & (ratio <= repeat_ratio)
                               & (g_n >= min_requests))
        if after.size == 0:
            continue
        out.append({"call_type": names[g_ct[i]], "position": int(g_depth[i]) + 1, "requests": int(g_n[i]),
                    "distinct_share": round(float(ratio[i]), 4), "tokens_mean": round(float(g_tokens[i]), 1),
                    "repeating_positions_after": [int(d) + 1 for d in g_depth[after]],
                    "repeating_tokens_mean_after": round(float(g_tokens[after].sum()), 1)})
    return out


def move_to_end(t: pa.Table, call_type: str, position: int) -> pa.Table:
    """The table with segment `position` (1-based) of `call_type`'s prefixes moved to the end."""
    arr = t.column("prefix").combine_chunks()
    lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    valid = pc.is_valid(arr).to_numpy(zero_copy_only=False)
    vals = arr.flatten()
    req = np.repeat(np.arange(t.num_rows), lengths)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    depth = np.arange(req.size) - offsets[:-1][req]
    is_ct = pc.fill_null(pc.equal(t.column("call_type"), pa.scalar(call_type, pa.string())), False)
    d = position - 1
    hit = np.asarray(is_ct.to_numpy(zero_copy_only=False), bool)[req] & (lengths[req] > position)
    newpos = np.where(hit & (depth == d), lengths[req] - 1, np.where(hit & (depth > d), depth - 1, depth))
    order = np.lexsort((newpos, req))
    new_vals = vals.take(pa.array(order))
    new = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), new_vals, type=PREFIX_TYPE,
                                   mask=pa.array(~valid))
    return t.set_column(t.schema.get_field_index("prefix"), "prefix", new)


def move_exploded(ex: Exploded, call_type: str, position: int) -> Exploded:
    """`move_to_end` on flat arrays (a lever table, whose prefixes are only there)."""
    n = ex.lengths.size
    req = np.repeat(np.arange(n), ex.lengths)
    first = np.cumsum(ex.lengths) - ex.lengths
    depth = np.arange(req.size) - first[req]
    src = ex.starts[req] + depth  # element of row `req` at `depth`, in the shared arrays
    is_ct = np.array([v == call_type for v in ex.call_types], bool)[ex.ct_code] if ex.call_types else \
        np.zeros(n, bool)
    d = position - 1
    hit = is_ct[req] & (ex.lengths[req] > position)
    newpos = np.where(hit & (depth == d), ex.lengths[req] - 1, np.where(hit & (depth > d), depth - 1, depth))
    order = src[np.lexsort((newpos, req))]
    return Exploded(ex.lengths, first.astype(np.int64), ex.seg[order], ex.tokens[order], ex.ct_code, ex.call_types)


def with_savings(t: pa.Table, measure: Callable[..., float], *, exploded: Exploded | None = None,
                 **kw: Any) -> list[dict[str, Any]]:
    """Breakers with `measure(table) - measure(moved table)` (e.g. dollars, or minus hit tokens). A table
    without a `prefix` column (a lever table) is measured as `measure(table, moved exploded)`."""
    found = find(t, exploded=exploded, **kw)
    if not found:
        return []
    if "prefix" not in t.column_names and exploded is not None:
        base = measure(t, exploded)
        for b in found:
            moved = move_exploded(exploded, b["call_type"], b["position"])
            b["saving_if_moved_to_end"] = round(base - measure(t, moved), 6)
        return found
    base = measure(t)
    for b in found:
        b["saving_if_moved_to_end"] = round(base - measure(move_to_end(t, b["call_type"], b["position"])), 6)
    return found
