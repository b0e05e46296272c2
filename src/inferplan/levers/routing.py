"""Routing and cascades on stated rates (no outcome data): send a share of a call type to a smaller model.

- router: a `share` of the call type's requests goes to the small model instead of the original one.
- cascade: a `share` goes to the small model first; an `escalation_rate` of those is also sent to the
  original model (a second request: they pay both).
Which requests are picked is a seeded hash of their position in the input's order (`lever_table` reads the
rows in the file's order on every engine), so runs are reproducible and `analyze --levers`, `plan` and
`breakeven` pick the same requests. The routed
requests lose the original model's prompt cache (a cache is per model); the caching lever, which runs
after routing, replays the new model's cache. With outcome data, `inferplan route-eval` measures the share
and the quality (see `route_eval`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from ..catalog import Catalog
from ..pricing import request_rates
from ._common import col, concat_rows, encode, mask, replace_columns, set_where, total_input
from .cache.flat import splitmix64
from .options import RoutingOptions


def _uniform(n: int, seed: int, salt: int) -> np.ndarray:
    x = splitmix64(np.arange(n, dtype=np.uint64) + np.uint64((seed * 1_000_003 + salt) & 0xFFFFFFFF) * np.uint64(
        1 << 32))
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def apply(t: pa.Table, catalog: Catalog, opts: RoutingOptions) -> tuple[pa.Table, dict[str, Any]]:
    evidence: dict[str, Any] = {"rules": []}
    if t.num_rows == 0 or not opts.rules:
        return t, evidence
    n = t.num_rows
    ct_code, cts = encode(t, "call_type")
    model_code, models = encode(t, "model")
    tier_code, tiers = encode(t, "tier")
    scaled = any(rule.output_ratio != 1 for rule in opts.rules)  # else the output column is kept as it is
    out_tok = col(t, "output_tokens").astype(np.int64) if scaled else None
    new_model: Any = t.column("model")
    new_scope: Any = t.column("scope")
    routed = np.zeros(n, bool)
    escalate = np.zeros(n, bool)
    new_out = out_tok.copy() if out_tok is not None else None
    for k, rule in enumerate(opts.rules):
        rows = mask(ct_code, cts, lambda v, c=rule.call_type: v == c)
        small = catalog.resolve_model(rule.small_model)
        u = _uniform(n, rule.seed, 2 * k)
        v = _uniform(n, rule.seed, 2 * k + 1)
        r = rows & (u < rule.share) & mask(model_code, models, lambda m, s=small.model: m != s)
        # the small model's rates for these requests (its long-context rule; provisioned has none): no price, no move
        unpriced = r & ~request_rates(t, catalog, model=rule.small_model, strict=False).priced("input", "output")
        r &= ~unpriced
        e = r & (v < rule.escalation_rate) if rule.mode == "cascade" else np.zeros(n, bool)
        if r.any():
            new_model = set_where(new_model, r, small.model)
            new_scope = set_where(new_scope, r, small.scope)
        if rule.output_ratio != 1:  # (a ratio of 1 keeps every count: rint(k * 1.0) == k below 2^53)
            assert new_out is not None and out_tok is not None
            new_out[r] = np.rint(out_tok[r] * rule.output_ratio).astype(np.int64)
        routed |= r
        escalate |= e
        evidence["rules"].append({
            "call_type": rule.call_type, "mode": rule.mode, "small_model": small.model,
            "requests": int(rows.sum()), "to_small": int(r.sum()), "escalated": int(e.sum()),
            "share": rule.share, "escalation_rate": rule.escalation_rate if rule.mode == "cascade" else 0.0,
            "from_models": sorted({models[i] for i in np.unique(model_code[rows]).tolist()}),
            **({"not_routed_no_price": int(unpriced.sum()),
                "not_routed_tiers": sorted({tiers[i] for i in np.unique(tier_code[unpriced]).tolist()})}
               if unpriced.any() else {}),
        })
    cols: dict[str, Any] = {"model": new_model, "scope": new_scope}
    if new_out is not None:
        cols["output_tokens"] = new_out
    cached = [c for c in ("cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens")
              if (routed & (col(t, c) != 0)).any()]  # a routed request's cache tokens become plain input
    if cached:
        cols["input_tokens"] = np.where(routed, total_input(t), col(t, "input_tokens"))
        for c in cached:
            cols[c] = np.where(routed, 0, col(t, c))
    out = replace_columns(t, cols)
    if escalate.any():  # the escalated requests also run on the original model, as they did
        # as one chunk a column: every later read of a column (pricing, the cache replay) is then without a copy
        out = concat_rows(out, t, np.flatnonzero(escalate))
    return out, evidence
