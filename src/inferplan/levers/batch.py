"""Batch lever: call types nobody waits on move to the batch tier (about half price, 24-hour window).

A call type qualifies when the user names it, or when every one of its requests has `interactive = false`
(a request with unknown `interactive` does not count as non-interactive). It must also have a batch price
for its model in the catalog (a long-context one for requests above the model's long-context threshold),
priced by the one rate card (`inferplan.pricing`); otherwise it is reported and left alone. Bedrock batch
jobs do not use prompt caching, so cache reads and writes of moved requests become plain input.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..catalog import Catalog
from ..pricing import request_rates
from ._common import codes, col, encode, mask, replace_columns, set_where, total_input
from .options import BatchOptions

BATCH_WINDOW_H = 24


def apply(t: pa.Table, catalog: Catalog, opts: BatchOptions) -> tuple[pa.Table, dict[str, Any]]:
    evidence: dict[str, Any] = {"window_hours": BATCH_WINDOW_H, "call_types": []}
    if t.num_rows == 0:
        return t, evidence
    ct_code, cts = codes(t, "call_type")
    inter = t.column("interactive")
    false_n = np.bincount(ct_code, pc.fill_null(pc.invert(inter), False).to_numpy(zero_copy_only=False),
                          minlength=len(cts)).astype(np.int64)
    known_n = np.bincount(ct_code, pc.is_valid(inter).to_numpy(zero_copy_only=False),
                          minlength=len(cts)).astype(np.int64)
    all_n = np.bincount(ct_code, minlength=len(cts))
    tier_code, tiers = encode(t, "tier")
    real_time = mask(tier_code, tiers, lambda v: v in ("standard", "flex", "priority"))
    is_batch = mask(tier_code, tiers, lambda v: v == "batch")
    model_code, models = encode(t, "model")
    # batch rates of each request as it would move (same total input, so the same long-context rule)
    batch_ok = request_rates(t, catalog, tier="batch", strict=False).priced("input", "output")
    move = np.zeros(t.num_rows, bool)
    for i, (ct,) in enumerate(cts):
        rows = ct_code == i
        if ct in opts.exclude:
            continue
        named = ct in opts.call_types
        non_inter = opts.non_interactive and false_n[i] == all_n[i]
        if not (named or non_inter):
            why = (f"{false_n[i]:,} of {all_n[i]:,} requests are non-interactive" if known_n[i]
                   else "interactive is unknown")
            evidence["call_types"].append({"call_type": ct, "qualifies": False, "why": why})
            continue
        on_rt = rows & real_time
        priced = on_rt & batch_ok
        missing = sorted({models[k] for k in np.unique(model_code[on_rt & ~priced])})
        why = "named in the scenario" if named else f"all {all_n[i]:,} requests are non-interactive"
        entry: dict[str, Any] = {"call_type": ct, "qualifies": True, "why": why,
                                 "requests_moved": int(priced.sum()),
                                 "already_batch": int((rows & is_batch).sum())}
        if missing:
            entry["no_batch_price"] = missing
        evidence["call_types"].append(entry)
        move |= priced
    if not move.any():
        return t, evidence
    tin = total_input(t)
    cols: dict[str, Any] = {"tier": set_where(t.column("tier"), move, "batch")}
    cols["input_tokens"] = np.where(move, tin, col(t, "input_tokens"))
    for c in ("cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens"):
        cols[c] = np.where(move, 0, col(t, c))
    return replace_columns(t, cols), evidence
