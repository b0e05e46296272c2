"""Oracles: the plain per-element implementations that compiled passes replaced, kept only to test those
passes against (`tests/test_levers_caching.py`, `tests/test_advisor.py`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from inferplan.levers.cache.flat import Exploded, explode, splitmix64
from inferplan.levers.cache.replay import previous_occurrence


def _exploded(t: pa.Table, ex: Exploded | None = None) -> tuple[dict[str, np.ndarray], list[Any]]:
    """One element per (request, segment): call type code (-1: null call type), depth, segment id, tokens."""
    ex = explode(t) if ex is None else ex
    req = np.repeat(np.arange(ex.lengths.size), ex.lengths)
    depth = np.arange(req.size) - (np.cumsum(ex.lengths) - ex.lengths)[req]
    src = ex.starts[req] + depth  # rows may gather from shared arrays (a lever table's `Prefixes`)
    ct_of = np.array([-1 if v is None else i for i, v in enumerate(ex.call_types)], np.int64)
    return {"depth": depth, "ct": ct_of[ex.ct_code][req] if req.size else np.zeros(0, np.int64),
            "seg": ex.seg[src], "tokens": ex.tokens[src]}, ex.call_types


def _position_stats(el: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per (call type, depth) present, sorted: call type, depth, elements, distinct segments, mean tokens."""
    ct, depth, seg, tok = el["ct"], el["depth"], el["seg"], el["tokens"]
    if (ct < 0).any():  # a null call type: left out, as a group-by leaves out null keys
        keep = ct >= 0
        ct, depth, seg, tok = ct[keep], depth[keep], seg[keep], tok[keep]
    if ct.size == 0:
        z = np.zeros(0, np.int64)
        return z, z, z, z, z.astype(np.float64)
    ct = ct.astype(np.int64)
    depth = depth.astype(np.int64)
    nd = int(depth.max()) + 1
    gkey = ct * nd + depth
    enc = pc.dictionary_encode(pa.array(gkey, pa.int64()))  # hash-based; the few groups are then sorted
    found = enc.dictionary.to_numpy(zero_copy_only=False)
    order = np.argsort(found)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    groups = found[order]
    g = rank[enc.indices.to_numpy(zero_copy_only=False)]
    n = np.bincount(g, minlength=groups.size)
    tokens = np.bincount(g, tok.astype(np.float64), minlength=groups.size) / n
    # distinct segments per group: the elements that are the first of their (group, segment) pair, found by
    # one pass over a hash table (segment ids may be any 64-bit values; the group salt is a bijection per group)
    key = seg.astype(np.uint64) ^ splitmix64(g.astype(np.uint64) + np.uint64(0x2545F4914F6CDD1D))
    distinct = np.bincount(g[previous_occurrence(key) < 0], minlength=groups.size)
    return groups // nd, groups % nd, n, distinct, tokens
