"""Facts about each call type that the findings rest on: volume, shape, model, how interactive, how repetitive.

Per-request work stays in arrow/numpy (dictionary codes and bincounts); only the per-call-type results, a
handful, become Python values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..catalog import Catalog
from ..errors import MissingPriceError
from ..levers._common import col, encode, total_input
from ..levers.breakers import position_stats
from ..levers.cache.flat import _mix, explode, ints

# A model whose standard output price is at least this ($ per million tokens) is a frontier model here: the
# Claude Sonnet/Opus tier and above (REFERENCE.md section 2). Easy traffic: short answers.
FRONTIER_OUTPUT_USD_PER_MTOK = 10.0
EASY_MEAN_OUTPUT_TOKENS = 300.0
# The guide's RAG example: ~4,000 tokens of retrieved context on every request. Retrieved context is told from a
# document that is the task itself (a transcript to summarise) by recurrence: the same chunks are sent again.
RAG_MEAN_INPUT_TOKENS = 4_000.0
RAG_MIN_VARIABLE_TOKENS = 2_000.0  # recurring varying tokens per request
RAG_INPUT_OUTPUT_RATIO = 10.0
# A leading prompt segment is shared when at most this share of requests carry a different content there.
SHARED_DISTINCT_SHARE = 0.01


@dataclass
class CallTypeFacts:
    call_type: str
    model: str  # the model with most requests
    scope: str
    region: str
    requests: int
    mean_input: float  # all four input buckets
    mean_output: float
    cache_read_share: float
    non_interactive_share: float  # of requests with a known flag
    interactive_known_share: float
    batch_share: float
    shared_prefix_tokens: float  # mean tokens of the leading segments every request shares
    shared_depth: int  # how many leading segments are shared
    recurring_varying_tokens: float  # mean tokens per request, after the shared segments, in segments that
    # other requests of the call type send too (retrieved documents re-sent): RAG's signature

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@numba.njit(cache=True)
def _recurring(lengths: np.ndarray, starts: np.ndarray, seg: np.ndarray, tokens: np.ndarray, ct: np.ndarray,
               from_depth: np.ndarray, n_ct: int, size: int) -> np.ndarray:
    """Per call type: the tokens of its segments at depth >= `from_depth[call type]` whose (call type, segment)
    pair is sent twice or more (at any depth). Two passes over the rows and an exact (call type, segment)
    count table (at most 2/3 full): no array per element."""
    slot_seg = np.empty(size, np.uint64)
    slot_ct = np.full(size, -1, np.int32)
    slot_n = np.zeros(size, np.int32)
    mask = np.uint64(size - 1)
    for r in range(lengths.size):
        c = ct[r]
        if c < 0:
            continue
        for e in range(starts[r], starts[r] + lengths[r]):
            v = seg[e]
            h = _mix(v ^ (np.uint64(c) * np.uint64(0x9E3779B97F4A7C15))) & mask
            while True:
                if slot_ct[h] < 0:
                    slot_ct[h] = c
                    slot_seg[h] = v
                    slot_n[h] = 1
                    break
                if slot_ct[h] == c and slot_seg[h] == v:
                    slot_n[h] += 1
                    break
                h = (h + np.uint64(1)) & mask
    out = np.zeros(n_ct, np.int64)
    for r in range(lengths.size):
        c = ct[r]
        if c < 0:
            continue
        for d in range(from_depth[c], lengths[r]):
            e = starts[r] + d
            v = seg[e]
            h = _mix(v ^ (np.uint64(c) * np.uint64(0x9E3779B97F4A7C15))) & mask
            while not (slot_ct[h] == c and slot_seg[h] == v):
                h = (h + np.uint64(1)) & mask
            if slot_n[h] >= 2:
                out[c] += tokens[e]
    return out


def shared_leading(i: int, g_ct: np.ndarray, g_depth: np.ndarray, g_n: np.ndarray, g_distinct: np.ndarray,
                   g_tokens: np.ndarray) -> tuple[int, float]:
    """Of call type code `i`, from per-(call type, depth) stats (`breakers.position_stats`): how many leading
    positions are shared (the same content on all but `SHARED_DISTINCT_SHARE` of requests, from depth 0 without
    a gap), and the tokens they hold summed over requests."""
    sel = np.flatnonzero(g_ct == i)
    d, tok = 0, 0.0
    for j in sel[np.argsort(g_depth[sel])]:
        if g_depth[j] != d or (g_distinct[j] - 1) > SHARED_DISTINCT_SHARE * g_n[j]:
            break
        tok += float(g_tokens[j]) * g_n[j]
        d += 1
    return d, tok


def _shared_depths(t: pa.Table, cts: list[Any]) -> tuple[dict[str, int], dict[str, float], dict[str, float]]:
    """Per call type: the number of leading prefix positions whose content is the same on (nearly) every
    request, the mean tokens they hold, and the mean tokens per request after them in segments that recur
    (sent by two requests or more). From the flat prefix arrays by compiled passes (`breakers.position_stats`,
    `_recurring`): no array per element."""
    depth: dict[str, int] = {}
    tokens: dict[str, float] = {}
    recurring: dict[str, float] = {}
    if "prefix" not in t.column_names or t.num_rows == 0:
        return depth, tokens, recurring
    ex = explode(t)
    names = ex.call_types
    if not ex.lengths.any():
        return depth, tokens, recurring
    g_ct, g_depth, g_n, g_distinct, g_tokens = position_stats(ex)
    from_depth = np.zeros(max(len(names), 1), np.int64)
    per_ct = np.bincount(ex.ct_code, minlength=len(names))  # requests per call type (a null one too)
    counts: dict[str, int] = {}
    for i, name in enumerate(names):
        if name is None:
            continue
        d, tok = shared_leading(i, g_ct, g_depth, g_n, g_distinct, g_tokens)
        depth[name] = d
        from_depth[i] = d
        counts[name] = n_ct = int(per_ct[i])
        tokens[name] = tok / n_ct if n_ct else 0.0
    ct = np.array([-1 if v is None else i for i, v in enumerate(names)], np.int32)[ex.ct_code]
    named = ct >= 0
    elements = int(ex.lengths[named].sum())
    size = 1
    while size < elements * 3 // 2 + 1:
        size *= 2
    rec = _recurring(ints(ex.lengths), ints(ex.starts), np.ascontiguousarray(ex.seg, np.uint64), ints(ex.tokens), ct,
                     from_depth, len(from_depth), size)
    for i, name in enumerate(names):
        if name is not None:
            recurring[name] = float(rec[i]) / counts[name] if counts[name] else 0.0
    return depth, tokens, recurring


def call_type_facts(t: pa.Table) -> dict[str, CallTypeFacts]:
    """Facts per call type of a canonical pyarrow table."""
    if t.num_rows == 0:
        return {}
    ct_code, cts = encode(t, "call_type")
    k = len(cts)
    n = np.bincount(ct_code, minlength=k)
    tin = total_input(t).astype(np.float64)
    out_tok = col(t, "output_tokens").astype(np.float64)
    read = col(t, "cache_read_tokens").astype(np.float64)
    inter = t.column("interactive")
    known = pc.is_valid(inter).to_numpy(zero_copy_only=False)
    non_inter = pc.fill_null(pc.invert(inter), False).to_numpy(zero_copy_only=False)
    tier_code, tiers = encode(t, "tier")
    is_batch = np.array([v == "batch" for v in tiers], bool)[tier_code]
    key_code, keys = encode(pa.array(pc.binary_join_element_wise(
        t.column("model").cast(pa.string()), t.column("scope").cast(pa.string()),
        t.column("region").cast(pa.string()), "\x1f")))
    depth, shared, recurring = _shared_depths(t, cts)
    facts: dict[str, CallTypeFacts] = {}
    for i, ct in enumerate(cts):
        rows = ct_code == i
        kc = np.bincount(key_code[rows], minlength=len(keys))
        model, scope, region = keys[int(kc.argmax())].split("\x1f")
        sum_in = float(tin[rows].sum())
        kn = int(known[rows].sum())
        facts[str(ct)] = CallTypeFacts(
            call_type=str(ct), model=model, scope=scope, region=region, requests=int(n[i]),
            mean_input=sum_in / n[i], mean_output=float(out_tok[rows].sum()) / n[i],
            cache_read_share=float(read[rows].sum()) / sum_in if sum_in else 0.0,
            non_interactive_share=float(non_inter[rows].sum()) / kn if kn else 0.0,
            interactive_known_share=kn / n[i], batch_share=float(is_batch[rows].mean()),
            shared_prefix_tokens=shared.get(str(ct), 0.0), shared_depth=depth.get(str(ct), 0),
            recurring_varying_tokens=recurring.get(str(ct), 0.0))
    return facts


def output_price(catalog: Catalog, f: CallTypeFacts) -> float | None:
    try:
        return catalog.price(f.model, f.scope, f.region, "standard").output_usd_per_mtok
    except MissingPriceError:
        return None


def small_model_for(catalog: Catalog, f: CallTypeFacts) -> str | None:
    """A default small model for a cascade: the same provider's cheapest model with a standard price in the
    call type's scope and region (a starting point to evaluate, never a recommendation of quality)."""
    big = catalog.bedrock_models.get(f.model)
    if big is None:
        return None
    best: tuple[float, str] | None = None
    for m, bm in catalog.bedrock_models.items():
        if m == f.model or bm.provider != big.provider or getattr(bm, "billing_unit", "token") != "token":
            continue
        try:
            p = catalog.price(m, f.scope, f.region, "standard")
        except MissingPriceError:
            continue
        if p.input_usd_per_mtok is None or p.output_usd_per_mtok is None:
            continue
        cost = p.input_usd_per_mtok * f.mean_input + p.output_usd_per_mtok * f.mean_output
        if best is None or cost < best[0]:
            best = (cost, m)
    return best[1] if best else None
