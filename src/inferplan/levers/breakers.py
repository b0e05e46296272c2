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

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..workload import PREFIX_TYPE
from ._flat import segment_ids


def _exploded(t: pa.Table) -> pd.DataFrame:
    arr = t.column("prefix").combine_chunks()
    lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    vals = arr.flatten()
    req = np.repeat(np.arange(t.num_rows), lengths)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    depth = np.arange(req.size) - offsets[:-1][req]
    ct = pc.dictionary_encode(t.column("call_type").combine_chunks())
    return pd.DataFrame({
        "req": req, "depth": depth, "len": lengths[req],
        "ct": np.asarray(ct.indices.to_numpy(zero_copy_only=False))[req] if req.size else np.zeros(0, int),
        "seg": segment_ids(vals.field("hash")) if len(vals) else np.zeros(0, np.uint64),
        "tokens": pc.fill_null(vals.field("tokens"), 0).to_numpy(zero_copy_only=False) if len(vals) else
        np.zeros(0, np.int64)}), ct.dictionary.to_pylist()


def find(t: pa.Table, *, unique_ratio: float = 0.9, repeat_ratio: float = 0.5, min_requests: int = 20
         ) -> list[dict[str, Any]]:
    """Candidate breakers (call type, 1-based position), without their saving."""
    if "prefix" not in t.column_names or t.num_rows == 0:
        return []
    df, names = _exploded(t)
    if df.empty:
        return []
    g = df.groupby(["ct", "depth"]).agg(n=("seg", "size"), distinct=("seg", "nunique"), tokens=("tokens", "mean"))
    g["ratio"] = g["distinct"] / g["n"]
    out = []
    for (ct, depth), row in g.iterrows():
        if row["n"] < min_requests or row["ratio"] < unique_ratio:
            continue
        after = g.loc[ct]
        after = after[(after.index > depth) & (after["ratio"] <= repeat_ratio) & (after["n"] >= min_requests)]
        if after.empty:
            continue
        out.append({"call_type": names[ct], "position": int(depth) + 1, "requests": int(row["n"]),
                    "distinct_share": round(float(row["ratio"]), 4), "tokens_mean": round(float(row["tokens"]), 1),
                    "repeating_positions_after": [int(d) + 1 for d in after.index],
                    "repeating_tokens_mean_after": round(float(after["tokens"].sum()), 1)})
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
    ct = np.asarray(t.column("call_type").to_pylist(), dtype=object)
    d = position - 1
    hit = (ct == call_type)[req] & (lengths[req] > position)
    newpos = np.where(hit & (depth == d), lengths[req] - 1, np.where(hit & (depth > d), depth - 1, depth))
    order = np.lexsort((newpos, req))
    new_vals = vals.take(pa.array(order))
    new = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), new_vals, type=PREFIX_TYPE,
                                   mask=pa.array(~valid))
    return t.set_column(t.schema.get_field_index("prefix"), "prefix", new)


def with_savings(t: pa.Table, measure: Callable[[pa.Table], float], **kw: Any) -> list[dict[str, Any]]:
    """Breakers with `measure(table) - measure(moved table)` (e.g. dollars, or minus hit tokens)."""
    found = find(t, **kw)
    if not found:
        return []
    base = measure(t)
    for b in found:
        b["saving_if_moved_to_end"] = round(base - measure(move_to_end(t, b["call_type"], b["position"])), 6)
    return found
