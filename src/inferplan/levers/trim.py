"""Fewer tokens: scale and/or cap the variable input of named call types (retrieved context).

The stable prefix (the `prefix` segments, or the declared stable prefix length) is never trimmed: what is
cut is the rest of the input. Cut tokens come out of plain input first, then cache writes, then reads.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._common import col, encode, lookup, mask, replace_columns
from .cache.flat import Prefixes
from .options import TrimOptions


def prefix_tokens(t: pa.Table, stable: dict[str, int] | None = None, prefixes: Prefixes | None = None
                  ) -> np.ndarray:
    """Tokens of each request's stable prefix (sum of its segments' tokens, or the declared length)."""
    n = t.num_rows
    out = np.zeros(n, np.int64)
    if prefixes is not None and "_row" in t.column_names:
        out = prefixes.tokens_per_row(t)
    elif "prefix" in t.column_names and n:
        arr = t.column("prefix").combine_chunks()
        lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False).astype(np.int64)
        vals = arr.flatten()
        if len(vals):
            tok = pc.fill_null(vals.field("tokens"), 0).to_numpy(zero_copy_only=False).astype(np.int64)
            req = np.repeat(np.arange(n), lengths)
            out = np.bincount(req, tok, minlength=n).astype(np.int64)
    if stable:
        ct_code, cts = encode(t, "call_type")
        decl = lookup(ct_code, cts, stable, 0, np.int64)
        out = np.where(out == 0, decl, out)
    return out


def apply(t: pa.Table, opts: TrimOptions, stable: dict[str, int] | None = None, *,
          prefixes: Prefixes | None = None) -> tuple[pa.Table, dict[str, Any]]:
    """The trimmed counterfactual. Only the rows of the named call types are read (the rest keep every token):
    a rule's rows as positions `idx`, every count computed there."""
    evidence: dict[str, Any] = {"call_types": []}
    if t.num_rows == 0 or not opts.rules:
        return t, evidence
    ct_code, cts = encode(t, "call_type")
    masks = [mask(ct_code, cts, lambda v, c=rule.call_type: v == c) for rule in opts.rules]
    idx = np.flatnonzero(np.logical_or.reduce(masks))  # the rows some rule names
    buckets = {c: col(t, c)[idx].astype(np.int64) for c in
               ("input_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens", "cache_read_tokens")}
    tin = sum(buckets.values(), np.zeros(idx.size, np.int64))
    pre = np.minimum(prefix_tokens(t, stable, prefixes)[idx], tin)
    new_total = tin.copy()
    for rule, m in zip(opts.rules, masks, strict=True):
        rows = m[idx]
        var = tin[rows] - pre[rows]
        keep = np.floor(var * rule.scale).astype(np.int64)
        if rule.cap_input_tokens is not None:
            keep = np.minimum(keep, np.maximum(rule.cap_input_tokens - pre[rows], 0))
        new_total[rows] = pre[rows] + keep
        evidence["call_types"].append({
            "call_type": rule.call_type, "requests": int(rows.sum()), "scale": rule.scale,
            "cap_input_tokens": rule.cap_input_tokens, "input_tokens_before": int(tin[rows].sum()),
            "input_tokens_after": int(new_total[rows].sum()), "stable_prefix_tokens": int(pre[rows].sum())})
    cut = tin - new_total
    if not cut.any():  # nothing to cut (the stable prefix is the whole input): the input, unchanged
        return t, evidence
    cols: dict[str, Any] = {}
    for c, v in buckets.items():  # cut from plain input first, then cache writes, then reads
        take = np.minimum(v, cut)
        whole = col(t, c).astype(np.int64)
        whole[idx] = v - take
        cols[c] = whole
        cut = cut - take
    return replace_columns(t, cols), evidence
