"""Prompt caching lever (managed, Bedrock): replay the traffic through the cache and price the result.

For every call type (per model) it tries checkpoint placements (after segment 1, 2, 3 of `prefix` and/or
at the end of the prefix, at most 4) and the TTLs the model offers, replays the whole traffic for each
(see `_replay` for the cache rules), and keeps the cheapest: a placement, or no caching, or the caching
the traffic already does. The final counterfactual is one replay with every call type's chosen placement.
"""

from __future__ import annotations

import copy
import hashlib
from concurrent.futures import ThreadPoolExecutor
from itertools import combinations
from typing import Any

import numba
import numpy as np
import pyarrow as pa

from ..catalog import Catalog
from ..pricing import KINDS, RequestRates, request_costs, request_rates, token_counts
from . import breakers as brk
from ._common import codes, col, encode, lookup, mask, replace_columns, sub_codes, total_input
from .cache import replay as _replay
from .cache.flat import Exploded, Flat, Prefixes, _mix, explode, from_arrays, gather, ints, narrow, splitmix64
from .options import CachingOptions

CACHE_TIERS = ("standard", "flex", "priority")
US = 1_000_000
Placement = tuple[tuple[int, ...], bool]


def placement_label(p: Placement) -> str:
    fixed, last = p
    parts = [f"after segment {', '.join(map(str, fixed))}"] if fixed else []
    if last:
        parts.append("end of prefix")
    return " + ".join(parts)


def candidate_placements(opts: CachingOptions, max_depth: int) -> list[Placement]:
    if opts.placements != "auto":
        out = []
        for spec in opts.placements:
            fixed = tuple(sorted({int(x) for x in spec if x != "last"}))
            out.append((fixed, "last" in spec))
        return out
    depths = list(range(1, min(3, max_depth) + 1))
    opts_: list[Placement] = []
    items: list[int | str] = [*depths, "last"]
    for k in range(1, min(4, len(items)) + 1):
        for combo in combinations(items, k):
            opts_.append((tuple(int(x) for x in combo if x != "last"), "last" in combo))
    return opts_


def build_flat(t: pa.Table | Exploded, rows: np.ndarray, stable: dict[str, int], namespace: np.ndarray,
               tin: np.ndarray, *, lean: bool = False) -> Flat:
    """Flat segments of `rows` (in that order); rows without a prefix get their call type's declared
    stable prefix as one segment. `t`: a canonical table, or its `explode()` (reused across calls)."""
    ex = t if isinstance(t, Exploded) else explode(t)
    rows = np.asarray(rows, np.int64)
    n = rows.size
    decl_any = bool(stable) and n > 0 and bool(
        ((lookup(ex.ct_code[rows], ex.call_types, stable, 0, np.int64) > 0) & (ex.lengths[rows] == 0)).any())
    if not decl_any:  # no declared stable prefix to add: one compiled gather
        return gather(ex.lengths, ex.starts, ex.seg, ex.tokens, rows, tin, namespace, lean=lean)
    lengths = ex.lengths[rows]
    total = int(lengths.sum())
    if total:
        first = np.cumsum(lengths) - lengths  # first element of each row in the gathered arrays
        idx = np.repeat(ex.starts[rows] - first, lengths) + np.arange(total, dtype=np.int64)
        seg, tok = ex.seg[idx], ex.tokens[idx]
    else:
        seg, tok = np.zeros(0, np.uint64), np.zeros(0, np.int64)
    req = np.repeat(np.arange(n, dtype=np.int64), lengths)
    if stable and n:
        ct = ex.ct_code[rows]
        decl = lookup(ct, ex.call_types, stable, 0, np.int64)
        add = (lengths == 0) & (decl > 0)
        if add.any():
            # one id per call type's declared prefix, salted apart from real segment ids (64-bit values)
            names = sorted(stable)
            ct_id = lookup(ct, ex.call_types, {c: names.index(c) for c in names}, 0, np.uint64)
            req = np.concatenate([req, np.flatnonzero(add)])
            seg = np.concatenate([seg, splitmix64(ct_id[add] + np.uint64(0x6A09E667F3BCC908))])
            tok = np.concatenate([tok, decl[add]])
            o = np.argsort(req, kind="stable")
            req, seg, tok = req[o], seg[o], tok[o]
            lengths = lengths + add
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return from_arrays(offsets, seg, np.maximum(tok, 0), tin, namespace)


@numba.njit(cache=True)
def _prefix_reach(rows: np.ndarray, lengths: np.ndarray, starts: np.ndarray, tokens: np.ndarray,
                  cap: np.ndarray) -> np.ndarray:
    """Per row of `rows`: the tokens of its whole prefix as a replay counts them (negative counts as 0, the sum
    clamped to the request's input `cap`): the most any checkpoint of it could cover."""
    out = np.zeros(rows.size, np.int64)
    for j in range(rows.size):
        r = rows[j]
        s = np.int64(0)
        for e in range(starts[r], starts[r] + lengths[r]):
            k = tokens[e]
            if k > 0:
                s += k
        out[j] = min(s, np.int64(cap[j]))
    return out


def can_checkpoint(ex: Exploded, rows: np.ndarray, stable: dict[str, int], tin: np.ndarray,
                   min_tokens: np.ndarray) -> bool:
    """Whether any request of `rows` has a prefix (or, without one, a declared stable prefix) of at least its
    model's minimum tokens (`min_tokens`, per row of `rows`; `tin` their inputs): if none has, no placement makes
    a checkpoint, so no replay reads or writes a token and none need run (`build_flat`'s tokens, exactly)."""
    reach = _prefix_reach(ints(rows), ints(ex.lengths), ints(ex.starts), ints(ex.tokens), ints(tin))
    if stable:
        decl = lookup(ex.ct_code[rows], ex.call_types, stable, 0, np.int64)
        bare = ex.lengths[rows] == 0
        reach[bare] = np.minimum(np.maximum(decl[bare], 0), tin[bare])
    return bool((reach >= min_tokens).any())


@numba.njit(cache=True)
def _may_read(rows: np.ndarray, lengths: np.ndarray, starts: np.ndarray, tokens: np.ndarray, shared: np.ndarray,
              cap: np.ndarray, min_tokens: np.ndarray, seen: np.ndarray) -> bool:
    """`may_read`'s pass: false when no request's shared prefix (its first `shared[r]` segments) reaches its
    minimum tokens (counted as a replay counts them) and no two requests have the same elements (`seen`: one
    flag per element, all false, and all false again on return: one scratch array for every unit)."""
    found = False
    last = rows.size
    for j in range(rows.size):
        r = rows[j]
        n = lengths[r]
        if n == 0:
            continue
        s = starts[r]
        if seen[s]:  # the same request twice (a cascade's copies): it shares every entry with itself
            found = True
            last = j
            break
        seen[s] = True
        run = np.int64(0)
        for d in range(shared[r]):
            k = tokens[s + d]
            run += k if k > 0 else 0
            if cap[j] >= 0 and run > cap[j]:  # clamped to the input as the replay clamps (`flat.gather`)
                run = np.int64(cap[j])
        if shared[r] > 0 and run >= min_tokens[j]:
            found = True
            last = j + 1
            break
    for j in range(last):  # the marks undone
        r = rows[j]
        if lengths[r] > 0:
            seen[starts[r]] = False
    return found


def may_read(ex: Exploded, rows: np.ndarray, stable: dict[str, int], tin: np.ndarray,
             min_tokens: np.ndarray, seen: np.ndarray | None = None) -> bool:
    """Whether any placement could make a request of `rows` (one replay unit) read a cache entry back. A read
    needs an entry checkpointed by one request (its prefix up to there at least the model's minimum tokens) and
    touched again by another, so only entries of prefixes two requests share are ever read back: if no
    request's shared prefix (`Exploded.shared_depth`, over the whole table) reaches its minimum, every
    placement only writes. Ticket triage behind a short shared instruction block and a unique ticket is the
    usual case: its replay then needs no hash pass (`cache.replay.write_only_costs`). `tin`, `min_tokens`: per
    row of `rows`; `seen`: a scratch array of `ex.seg.size` (at least 1) falses, reused by the caller."""
    if stable and bool(((ex.lengths[rows] == 0)
                        & (lookup(ex.ct_code[rows], ex.call_types, stable, 0, np.int64) > 0)).any()):
        return True  # a declared stable prefix: one shared segment per call type (`build_flat`)
    if seen is None:
        seen = np.zeros(max(int(ex.seg.size), 1), np.bool_)
    return bool(_may_read(ints(rows), ints(ex.lengths), ints(ex.starts), ints(ex.tokens), ex.shared_depth(),
                          ints(tin), ints(min_tokens), seen))


@numba.njit(cache=True)
def _plain_costs(total: np.ndarray, rate: np.ndarray, p_in: np.ndarray, p_read: np.ndarray, p_w: np.ndarray,
                 grp: np.ndarray, n_groups: int) -> np.ndarray:
    """Input USD per group when no request reads or writes: the sum `cache.replay._placement_costs` makes for a
    placement without a checkpoint, term for term in the same order (the same floats, not merely close)."""
    cost = np.zeros(n_groups)
    zero = np.int64(0)
    for r in range(total.size):
        k = rate[r]
        cost[grp[r]] += (total[r] - zero - zero) * p_in[k] + zero * p_read[k] + zero * p_w[k]
    return cost


@numba.njit(cache=True)
def _none_costs(total: np.ndarray, rate: np.ndarray, p_in: np.ndarray, grp: np.ndarray, n_groups: int) -> np.ndarray:
    """Input USD per group with no caching: each request's tokens times its input rate, summed in row order
    (as `np.bincount` sums its weights: the same floats), no float array per request."""
    cost = np.zeros(n_groups)
    for r in range(total.size):
        cost[grp[r]] += total[r] * p_in[rate[r]]
    return cost


@numba.njit(cache=True)
def _group_counts(rows: np.ndarray, grp: np.ndarray, total: np.ndarray, read: np.ndarray, w5: np.ndarray,
                  w1h: np.ndarray, n_groups: int):  # noqa: ANN202
    """Per group: requests, input tokens, and the read and written tokens of the rows `rows` (whole columns read
    at them): the evidence's integer counts in one pass, no gathered column."""
    out = np.zeros((5, n_groups), np.int64)
    for j in range(rows.size):
        g = grp[j]
        r = rows[j]
        out[0, g] += 1
        out[1, g] += total[j]
        out[2, g] += read[r]
        out[3, g] += w5[r]
        out[4, g] += w1h[r]
    return out[0], out[1], out[2], out[3], out[4]


def _whole(t: pa.Table, enc: dict[Any, Any], *names: str) -> tuple[np.ndarray, list[tuple]]:
    """`codes(t, *names)` over the whole table, made once per `enc` (each unit takes its rows from it)."""
    if names not in enc:
        enc[names] = codes(t, *names)
    return enc[names]


def _model_cache_rules(catalog: Catalog, models: list[str]) -> tuple[dict[str, int | None], dict[str, list[int]]]:
    mins, ttls = {}, {}
    for m in models:
        bm = catalog.bedrock_models.get(m)
        mins[m] = bm.cache_min_tokens if bm else None
        ttls[m] = list(bm.cache_ttls_s) if bm and bm.cache_ttls_s else [300]
    return mins, ttls


def apply(t: pa.Table, catalog: Catalog, opts: CachingOptions, *, breakers: bool = True,
          prefixes: Prefixes | None = None, memo: dict[bytes, Any] | None = None,
          remember: bool = True) -> tuple[pa.Table, dict[str, Any]]:
    """The caching counterfactual of a canonical table, with the evidence per call type and model (and the
    cache breakers found, with the dollars that moving each to the end of the prefix would save). A lever
    table (`levers._table`: `_row` instead of `prefix`) takes its prefixes from `prefixes`.

    The traffic is replayed in independent units: one namespace (model, scope, region) and the call types in
    it that share a prompt prefix (no entry can be shared across units). With a `memo` (a dict the caller
    keeps for one catalog), a unit whose inputs are byte for byte those of a unit replayed before (the same
    requests, times, tokens, rates and prefixes: a compounded step that left it alone) reuses that result;
    `remember=False` only looks units up, and takes what it finds out of the memo (the caller's last replay:
    nothing is asked for again)."""
    ex = explode(t, prefixes)
    out, evidence = _apply(t, catalog, opts, ex, memo, remember)
    if breakers and evidence["groups"]:

        def input_usd(tab: pa.Table, moved: Exploded | None = None) -> float:
            res, _ = _apply(tab, catalog, opts, moved, memo)
            return float(request_costs(res, catalog).input_side.sum())

        evidence["breakers"] = brk.with_savings(t, input_usd, exploded=ex)
    return out, evidence


def _apply(t: pa.Table, catalog: Catalog, opts: CachingOptions, ex: Exploded | None = None,
           memo: dict[bytes, Any] | None = None, remember: bool = True) -> tuple[pa.Table, dict[str, Any]]:
    n = t.num_rows
    evidence: dict[str, Any] = {"groups": [], "notes": []}
    if n == 0:
        return t, evidence
    tin = narrow(total_input(t))  # int32 where every request's input fits (as it does): 4 bytes a request
    ts = col(t, "ts").astype(np.int64, copy=False)
    enc: dict[Any, Any] = {}  # each string column dictionary-encoded once
    prices = request_rates(t, catalog)  # the bill's rates per request (long context included)
    prices.check(token_counts(t))  # the bill's error for any unpriced tokens, as pricing the table would raise
    model_code, models = codes(t, "model")
    model_names = [m[0] for m in models]
    mins, offered = _model_cache_rules(catalog, model_names)
    tier_code, tiers = enc.setdefault("tier", encode(t, "tier"))
    ex = explode(t) if ex is None else ex
    ct_code, cts = ex.ct_code, ex.call_types
    cache_tier = mask(tier_code, tiers, lambda v: v in CACHE_TIERS)
    min_tok = np.array([mins[m] if mins[m] is not None else -1 for m in model_names], np.int64)  # per model code
    elig = cache_tier & (min_tok >= 0)[model_code] & prices.priced("input", "cache_read")
    if opts.call_types is not None:
        elig &= mask(ct_code, cts, lambda v, keep=set(opts.call_types): v in keep)
    no_cache_models = sorted({model_names[i] for i in np.unique(model_code[cache_tier & (min_tok < 0)[model_code]])})
    if no_cache_models:
        evidence["notes"].append(f"no prompt caching on {', '.join(no_cache_models)} (catalog)")
    new = {c: np.array(col(t, c)) for c in  # int64, or a lever table's int32 (every count fits its input's)
           ("input_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens")}

    # stated read fractions (traffic without prefix identity)
    stated = elig & mask(ct_code, cts, lambda v: v in opts.stated_read_fraction)
    if stated.any():
        frac = lookup(ct_code, cts, opts.stated_read_fraction, 0.0, np.float64)[stated]
        read = np.floor(tin[stated] * frac).astype(np.int64)
        new["cache_read_tokens"][stated] = read
        new["input_tokens"][stated] = tin[stated] - read
        new["cache_write_5m_tokens"][stated] = 0
        new["cache_write_1h_tokens"][stated] = 0
        evidence["notes"].append("stated read fractions (not replayed): " + ", ".join(
            f"{k} {v:.0%}" for k, v in opts.stated_read_fraction.items()))
    elig &= ~stated

    if ts.size < 2 or bool((ts[1:] >= ts[:-1]).all()):  # in arrival order already (as logs mostly are)
        rows = narrow(np.flatnonzero(elig))  # the stable sort's order, without the sort
    else:
        arrival = np.argsort(ts, kind="stable")
        rows = narrow(arrival[elig[arrival]])  # eligible rows in arrival order (int32 where they fit)
        del arrival
    del elig, cache_tier
    if rows.size:
        _replay_units(t, ex, rows, catalog, opts, tin, ts, prices, model_code, model_names, offered,
                      min_tok, new, evidence, enc, memo, remember)
    out = replace_columns(t, new)
    return out, evidence


def _replay_units(t: pa.Table, ex: Exploded, rows: np.ndarray, catalog: Catalog, opts: CachingOptions,
                  tin: np.ndarray, ts: np.ndarray, prices: RequestRates,
                  model_code: np.ndarray, model_names: list[str], offered: dict[str, list[int]],
                  min_tok: np.ndarray, new: dict[str, np.ndarray], evidence: dict[str, Any],
                  enc: dict[Any, Any], memo: dict[bytes, Any] | None, remember: bool = True) -> None:
    """Replay each independent unit (see `apply`), reusing remembered units; evidence in arrival order."""
    depth = ex.lengths[rows]
    if opts.stable_prefix_tokens:
        depth = np.maximum(depth, lookup(ex.ct_code[rows], ex.call_types, opts.stable_prefix_tokens, 0, np.int64) > 0)
    max_depth = int(depth.max())
    del depth
    if max_depth == 0:
        evidence["notes"].append("no request has a `prefix` or a declared stable prefix: nothing to replay; "
                                 "declare `stable_prefix_tokens` per call type in the scenario")
        return
    found: list[tuple[int, dict[str, Any]]] = []
    seen: np.ndarray | None = None
    for pos_in_rows in _unit_positions(t, ex, rows, enc):
        unit = rows[pos_in_rows]
        key = _fingerprint(t, ex, unit, opts, ts, prices, new, max_depth, enc) if memo is not None else None
        if key is not None and key in memo:  # the caller's last replay takes it out: its memory goes now
            values, groups = memo[key] if remember else memo.pop(key)
            for c, v in values.items():
                new[c][unit] = v
            groups = copy.deepcopy(groups)
        else:
            if seen is None:  # one scratch array for every unit's `may_read`
                seen = np.zeros(max(int(ex.seg.size), 1), np.bool_)
            # a unit that cannot read an entry back replays in one pass of writes (no hash pass, no flat arrays)
            write_only = not may_read(ex, unit, opts.stable_prefix_tokens, tin[unit], min_tok[model_code[unit]],
                                      seen)
            part: dict[str, Any] = {"groups": [], "notes": []}
            firsts = _replay_rows(t, ex, unit, catalog, opts, tin, ts, prices, model_code, model_names,
                                  offered, min_tok, new, part, enc, max_depth, write_only)
            groups = list(zip(firsts, part["groups"], strict=True))  # (position in the unit, evidence)
            if key is not None and remember:  # token counts fit 32 bits: half the memory
                memo[key] = ({c: narrow(v[unit]) for c, v in new.items()}, copy.deepcopy(groups))
        found += [(int(pos_in_rows[pos]), g) for pos, g in groups]  # ordered by arrival
    evidence["groups"] = [g for _, g in sorted(found, key=lambda x: x[0])]
    evidence["same_timestamp_hits"] = opts.same_timestamp_hits


def _units(t: pa.Table, ex: Exploded, rows: np.ndarray, enc: dict[Any, Any]) -> list[np.ndarray]:
    """`rows` (arrival order) split into independent units: a namespace and the call types in it whose
    prefixes share a first segment (every cache entry descends from its first segment), each in arrival order."""
    return [rows[p] for p in _unit_positions(t, ex, rows, enc)]


_FEW_UNITS = 16  # up to this many replay units, one scan each finds their rows; above, one stable sort


@numba.njit(cache=True)
def _find(parent: np.ndarray, x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]  # path halving
        x = parent[x]
    return x


@numba.njit(cache=True)
def _slot(keys: np.ndarray, owner: np.ndarray, v: np.uint64) -> int:
    """The slot of `v` in an open-addressing table of a power-of-two size: where it is, or the empty one it
    would take."""
    mask = np.uint64(keys.size - 1)
    h = _mix(v) & mask
    while owner[h] >= 0 and keys[h] != v:
        h = (h + np.uint64(1)) & mask
    return h


@numba.njit(cache=True)
def _unit_roots(rows: np.ndarray, lengths: np.ndarray, starts: np.ndarray, seg: np.ndarray, ct_code: np.ndarray,
                ns: np.ndarray, n_ct: int, n_nodes: int) -> np.ndarray:
    """Per node (namespace x n_ct + call type): the least node it shares a replay unit with. One pass: each row's
    (namespace, first segment) pair, numbered by a 64-bit mix (its first segment, or without one its call type,
    xor the mixed namespace) in an open-addressing table that keeps the first node seen with it (sized by the
    pairs seen, doubled at half full: a few system prompts make a table that stays in cache); a row of another
    node with the same pair joins the two (union-find over the nodes). Two pairs that shared a number would
    only join their units: still exact, only less split."""
    parent = np.arange(n_nodes)
    keys = np.zeros(1024, np.uint64)
    owner = np.full(1024, -1, np.int64)  # the first node seen with the pair in the slot (-1: empty)
    used = 0
    for j in range(rows.size):
        r = rows[j]
        v = _mix(seg[starts[r]]) if lengths[r] > 0 else np.uint64(ct_code[r])
        v ^= _mix(np.uint64(ns[j]) + np.uint64(0x3C6EF372FE94F82B))
        node = ns[j] * n_ct + ct_code[r]
        h = _slot(keys, owner, v)
        o = owner[h]
        if o < 0:
            keys[h] = v
            owner[h] = node
            used += 1
            if 2 * used > keys.size:  # half full: twice the slots, every pair placed again
                old_k, old_o = keys, owner
                keys = np.zeros(2 * old_k.size, np.uint64)
                owner = np.full(2 * old_k.size, -1, np.int64)
                for i in range(old_k.size):
                    if old_o[i] >= 0:
                        g = _slot(keys, owner, old_k[i])
                        keys[g] = old_k[i]
                        owner[g] = old_o[i]
        elif o != node:
            a_, b_ = _find(parent, o), _find(parent, node)
            if a_ != b_:
                parent[max(a_, b_)] = min(a_, b_)
    for x in range(n_nodes):
        parent[x] = _find(parent, x)
    return parent


def _unit_positions(t: pa.Table, ex: Exploded, rows: np.ndarray, enc: dict[Any, Any]) -> list[np.ndarray]:
    """`_units` as positions in `rows`."""
    ns, _ = sub_codes(*_whole(t, enc, "model", "scope", "region"), rows)
    ns = ints(ns)
    n_ct = max(len(ex.call_types), 1)
    # a row without segments (or with only a declared stable prefix, one id per call type) shares with no other
    # call type: its own call type stands in for its first segment
    n_nodes = (int(ns.max()) + 1) * n_ct if ns.size else 0
    roots = _unit_roots(ints(rows), ints(ex.lengths), ints(ex.starts), np.ascontiguousarray(ex.seg, np.uint64),
                        ints(ex.ct_code), ns, n_ct, n_nodes)
    unit = roots[ns * n_ct + ex.ct_code[rows]]
    units = np.flatnonzero(np.bincount(unit, minlength=n_nodes))
    if units.size <= _FEW_UNITS:  # few units: one scan each, no sort
        return [narrow(np.flatnonzero(unit == u)) for u in units.tolist()]
    # many (call types by the hundred): one stable sort keeps each unit's rows in arrival order
    order = np.argsort(unit, kind="stable")
    return np.split(order, np.cumsum(np.bincount(np.searchsorted(units, unit), minlength=units.size))[:-1])


@numba.njit(cache=True, inline="always")
def _absorb(h1: np.uint64, h2: np.uint64, v: np.uint64) -> tuple[np.uint64, np.uint64]:
    """One value into two lanes, each a bijection of its state for a given value and an injection of the value
    for a given state (rotate, xor, odd multiply): sequences that differ in one value always end apart."""
    h1 = (((h1 << np.uint64(23)) | (h1 >> np.uint64(41))) ^ v) * np.uint64(0x9E3779B97F4A7C15)
    h2 = (((h2 << np.uint64(37)) | (h2 >> np.uint64(27))) + v) * np.uint64(0xD1342543DE82EF95)
    return h1, h2


@numba.njit(cache=True, nogil=True)  # nogil: a unit's halves digested side by side (`_fingerprint`)
def _digest(lo: int, hi: int, unit: np.ndarray, ts: np.ndarray, keys: np.ndarray, grp: np.ndarray,
            lengths: np.ndarray, starts: np.ndarray, seg: np.ndarray, tokens: np.ndarray, c0: np.ndarray,
            c1: np.ndarray, c2: np.ndarray, c3: np.ndarray) -> tuple[np.uint64, np.uint64]:
    """A 128-bit digest (two differently seeded and stepped chains, finished by a strong mix) of a unit's
    inputs at positions [lo, hi), row by row: time, price key, group, prefix length, then each segment's id
    and tokens, then the token buckets."""
    h1 = np.uint64(0x243F6A8885A308D3)
    h2 = np.uint64(0x13198A2E03707344)
    h1, h2 = _absorb(h1, h2, np.uint64(hi - lo))
    for j in range(lo, hi):
        r = unit[j]
        n = lengths[r]
        h1, h2 = _absorb(h1, h2, np.uint64(ts[r]))
        h1, h2 = _absorb(h1, h2, np.uint64(keys[j]))
        h1, h2 = _absorb(h1, h2, np.uint64(grp[j]))
        h1, h2 = _absorb(h1, h2, np.uint64(n))
        s = starts[r]
        for e in range(s, s + n):
            h1, h2 = _absorb(h1, h2, seg[e])
            h1, h2 = _absorb(h1, h2, np.uint64(tokens[e]))
        h1, h2 = _absorb(h1, h2, np.uint64(c0[r]))
        h1, h2 = _absorb(h1, h2, np.uint64(c1[r]))
        h1, h2 = _absorb(h1, h2, np.uint64(c2[r]))
        h1, h2 = _absorb(h1, h2, np.uint64(c3[r]))
    return _mix(h1), _mix(h2 ^ _mix(h1))


def _fingerprint(t: pa.Table, ex: Exploded, unit: np.ndarray, opts: CachingOptions, ts: np.ndarray,
                 prices: RequestRates, new: dict[str, np.ndarray], max_depth: int,
                 enc: dict[Any, Any]) -> bytes:
    """A digest of everything a unit's replay reads (equal digest: equal inputs, so an equal result): its
    requests' times, price keys and call types, prefixes and token buckets. Rates, minimum tokens and TTLs follow
    from keys and tokens through the catalog, which is one for a memo's lifetime. The per-request part is one
    compiled pass to 128 bits (`_digest`: two different inputs share it with probability about 2^-128 a pair,
    far below the chain keys' own 2^-64), no array gathered per element."""
    grp, groups = sub_codes(*_whole(t, enc, "call_type", "model", "scope", "region"), unit)
    code = prices.code[unit]
    # price keys numbered by their values, not by where they first occur in this table (a step that added a
    # key elsewhere, e.g. batch or a routed model, renumbers the codes, not this unit's inputs)
    used = sorted(np.flatnonzero(np.bincount(code, minlength=len(prices.keys))).tolist(), key=lambda k: prices.keys[k])
    lut = np.zeros(len(prices.keys), np.int64)
    lut[used] = np.arange(len(used))
    keys = lut[code]
    cols = [ints(new[c]) for c in sorted(new)]
    args = (ints(unit), ints(ts), keys, ints(grp), ints(ex.lengths), ints(ex.starts),
            np.ascontiguousarray(ex.seg, np.uint64), ints(ex.tokens), *cols)
    n = unit.size
    parts = [(0, n // 2), (n // 2, n)] if n >= _SPLIT_DIGEST else [(0, n)]  # the same split for the same size
    if len(parts) > 1:  # the halves side by side, one a core
        with ThreadPoolExecutor(2) as pool:
            lanes = list(pool.map(lambda p: _digest(p[0], p[1], *args), parts))
    else:
        lanes = [_digest(0, n, *args)]
    h = hashlib.sha256(repr((opts.model_dump(), groups, [prices.keys[k] for k in used], max_depth, n)).encode())
    h.update(np.array(lanes, np.uint64).tobytes())
    return h.digest()


_SPLIT_DIGEST = 1 << 16  # units of at least this many requests are digested in two halves at once


def _replay_rows(t: pa.Table, ex: Exploded, rows: np.ndarray, catalog: Catalog, opts: CachingOptions,
                 tin: np.ndarray, ts: np.ndarray, prices: RequestRates,
                 model_code: np.ndarray,
                 model_names: list[str], offered: dict[str, list[int]], min_tok: np.ndarray,
                 new: dict[str, np.ndarray], evidence: dict[str, Any],
                 enc: dict[Any, Any], max_depth: int, write_only: bool = False) -> list[int]:
    """Replay one unit (`rows` in arrival order); returns each evidence group's first position in `rows`.
    `write_only`: no request can read an entry back (`may_read`), so every replay is one pass of writes."""
    enc.setdefault("call_type", (ex.ct_code, ex.call_types))
    ns_code, _ = sub_codes(*_whole(t, enc, "model", "scope", "region"), rows)
    T = tin[rows]
    mt = min_tok[model_code[rows]]
    # no request reaching its model's minimum (a short system prompt): every placement's replay is known unrun
    reachable = can_checkpoint(ex, rows, opts.stable_prefix_tokens, T, mt)
    write_only = write_only and reachable
    flat = build_flat(ex, rows, opts.stable_prefix_tokens, ns_code, T, lean=True) if reachable and not write_only \
        else None
    r_ts = ts[rows]
    rc = prices.rate_code[rows]  # the rates are read per code in the compiled passes: no float array per request
    p_in, p_read = prices.rates["input"], prices.rates["cache_read"]
    grp_code, groups = sub_codes(*_whole(t, enc, "call_type", "model", "scope", "region"), rows)
    G = len(groups)
    grp_ns = np.zeros(G, np.int64)
    grp_ns[grp_code] = ns_code
    placements = candidate_placements(opts, max_depth)
    ttl_choices = [300, 3600] if opts.ttl == "auto" else [int(opts.ttl)]
    none_cost = _none_costs(ints(T), ints(rc), np.ascontiguousarray(p_in, np.float64), ints(grp_code), G)
    # the unit's buckets are still the table's here (each unit writes only its own rows)
    buckets = {kind: new[c] for kind, c in KINDS.items() if c in new}  # whole columns, read at `rows`
    obs_cost = prices.input_usd_sums(buckets, rows, grp_code, G)
    # cost[ttl_i][placement_j] per group, plus per-request read/write for the evidence
    cost = np.full((len(ttl_choices), len(placements), G), np.inf)
    any_checkpoint = np.zeros(G, bool)
    prev: np.ndarray | None = None
    jobs = []
    for i, ttl in enumerate(ttl_choices):
        allowed = np.array([ttl in offered[m] for m in model_names], bool)[model_code[rows]]
        p_w = prices.rates["cache_write_5m" if ttl == 300 else "cache_write_1h"]  # per rate code
        allowed &= ~np.isnan(p_w)[rc]
        if not allowed.any():
            continue
        if prev is None and flat is not None:  # previous touch of each entry: the same for every TTL and placement
            prev = _replay.previous_occurrence(np.ascontiguousarray(flat.key, dtype=np.uint64))
            flat.key = None  # type: ignore[assignment]  # read by nothing else: 8 bytes an element freed
        jobs.append((i, ttl, allowed, np.nan_to_num(p_w)))

    def costs(job: tuple[int, int, np.ndarray, np.ndarray]) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        """One TTL's cost of every placement per group (and the groups it cannot serve)."""
        i, ttl, allowed, p_w = job
        bad_groups = np.bincount(grp_code, ~allowed, minlength=G) > 0
        if not reachable:  # no checkpoint anywhere: each placement costs what plain input does
            g = np.repeat(_plain_costs(ints(T), ints(rc), *(np.ascontiguousarray(a, np.float64) for a in (
                p_in, p_read, p_w)), ints(grp_code), G)[None, :], len(placements), axis=0)
            return i, g, np.zeros(G, bool), bad_groups
        if write_only:
            g, ck = _replay.write_only_costs(rows, ex.lengths, ex.starts, ex.tokens, placements, mt, allowed, T,
                                             p_in, p_read, p_w, grp_code, G, rate_code=rc)
            return i, g, ck, bad_groups
        g, ck = _replay.placement_costs(flat, prev, r_ts, np.array([ttl * US], np.int64), placements, mt,
                                        allowed, T, p_in, p_read, p_w, grp_code, G,
                                        same_ts_hits=opts.same_timestamp_hits, rate_code=rc)
        return i, g, ck, bad_groups

    if len(jobs) > 1 and reachable:  # the TTLs' scans are independent compiled passes: one a core
        with ThreadPoolExecutor(len(jobs)) as pool:
            done = list(pool.map(costs, jobs))
    else:
        done = [costs(j) for j in jobs]
    del jobs
    for i, g, ck, bad_groups in done:
        any_checkpoint |= ck
        g[:, bad_groups] = np.inf
        cost[i] = g
    del done
    best_per_ttl = np.minimum(cost.min(axis=1), np.minimum(none_cost, obs_cost)[None, :])  # [ttl, G]
    n_ns = int(grp_ns.max()) + 1
    ns_ttl = np.zeros(n_ns, np.int64)
    for ns in range(n_ns):
        in_ns = grp_ns == ns
        ns_ttl[ns] = int(np.argmin(best_per_ttl[:, in_ns].sum(axis=1)))  # ties: the shorter TTL
    choice = np.full(G, -1, np.int64)  # -1 none, -2 observed, j placement
    for g in range(G):
        i = ns_ttl[grp_ns[g]]
        j = int(np.argmin(cost[i, :, g]))
        best = cost[i, j, g]
        if obs_cost[g] <= min(best, none_cost[g]):
            choice[g] = -2
        elif none_cost[g] < best:
            choice[g] = -1
        else:
            choice[g] = j
    # final replay: only rows whose call type uses a placement; each namespace at its TTL. Call types can
    # share prefixes, so one that only paid because another wrote for it may lose when that one stops
    # caching: switch such call types off and replay again (they only switch off, so this ends).
    ttl_row = np.array(ttl_choices)[ns_ttl[ns_code]]
    fallback = np.minimum(obs_cost, none_cost)
    for it in range(G + 1):
        for c in new if it else ():  # again: the unit's buckets as the table has them
            new[c][rows] = col(t, c)[rows]
        use = choice[grp_code] >= 0
        if not reachable:  # a placement without a checkpoint: plain input, as the replay would give
            on = rows[use]
            new["input_tokens"][on] = tin[on]
            for c in ("cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens"):
                new[c][on] = 0
            use = np.zeros(rows.size, bool)
        elif write_only:
            sub = np.flatnonzero(use)
        elif use.all() and prev is not None:  # every request replayed: the candidates' flat arrays and touches
            sub = slice(None)  # views, not copies, of the unit's arrays
            fflat = flat
            touches = _replay.Touches(prev, flat.req, np.ascontiguousarray(r_ts, np.int64),
                                      np.ascontiguousarray(ttl_row * US, np.int64), opts.same_timestamp_hits)
        elif use.any():
            flat = prev = None  # a subset: its own arrays (the whole unit's are freed first)
            sub = np.flatnonzero(use)
            ns_sub, _ = sub_codes(*_whole(t, enc, "model", "scope", "region"), rows[sub])
            fflat = build_flat(ex, rows[sub], opts.stable_prefix_tokens, ns_sub, T[sub], lean=True)
            touches = _replay.prepare(fflat, r_ts[sub], ttl_row[sub] * US, same_ts_hits=opts.same_timestamp_hits)
        if use.any():
            sub_choice = choice[grp_code[sub]]
            target = rows[sub]
            if write_only:  # nothing read back: each request writes up to its last checkpoint
                written = _replay.write_only_tokens(target, ex.lengths, ex.starts, ex.tokens, T[sub], sub_choice,
                                                    placements, mt[sub])
                read = np.zeros(written.size, np.int64)
            else:
                cr = np.zeros(fflat.size, bool)
                for j, (fixed, last) in enumerate(placements):
                    on = sub_choice == j
                    if on.any():
                        cr |= _replay.checkpoints(fflat, fixed, last, mt[sub], on)
                res = _replay.replay(fflat, touches, cr)
                read, written = res.read_tokens, res.write_tokens
                del res, cr
            one_h = ttl_row[sub] == 3600
            new["cache_read_tokens"][target] = read
            new["cache_write_5m_tokens"][target] = np.where(one_h, 0, written)
            new["cache_write_1h_tokens"][target] = np.where(one_h, written, 0)
            new["input_tokens"][target] = T[sub] - read - written
            del read, written, target, one_h  # 4 counts per request: freed before the dollars are summed
        off = rows[choice[grp_code] == -1]
        new["input_tokens"][off] = tin[off]
        for c in ("cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens"):
            new[c][off] = 0
        after_g = prices.input_usd_sums(buckets, rows, grp_code, G)
        worse = (choice >= 0) & (after_g > fallback * (1 + 1e-12) + 1e-15)
        if not worse.any():
            break
        choice[worse] = np.where(obs_cost[worse] <= none_cost[worse], -2, -1)
    req_g, tok_g, read_g, w5_g, w1h_g = _group_counts(
        ints(rows), ints(grp_code), ints(T), *(ints(new[c]) for c in (
            "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens")), G)
    for g, (ct, model, scope, region) in enumerate(groups):
        i = ns_ttl[grp_ns[g]]
        alts = sorted(((float(cost[i, j, g]), placement_label(p)) for j, p in enumerate(placements)
                       if np.isfinite(cost[i, j, g])))[:5]
        label = {-1: "no caching", -2: "as observed"}.get(int(choice[g])) or placement_label(placements[choice[g]])
        evidence["groups"].append({
            "call_type": ct, "model": model, "scope": scope, "region": region, "placement": label,
            "ttl_s": ttl_choices[i] if choice[g] >= 0 else None,
            "requests": int(req_g[g]), "input_tokens": int(tok_g[g]),
            "cache_read_tokens": int(read_g[g]), "cache_write_5m_tokens": int(w5_g[g]),
            "cache_write_1h_tokens": int(w1h_g[g]),
            "read_fraction": round(float(read_g[g] / tok_g[g]), 6) if tok_g[g] else 0.0,
            "input_usd_before": float(obs_cost[g]), "input_usd_after": float(after_g[g]),
            "input_usd_no_cache": float(none_cost[g]),
            "alternatives": [{"placement": lab, "input_usd": c} for c, lab in alts],
        })
        if choice[g] < 0 and alts:
            evidence["groups"][-1]["why"] = (f"no placement pays: the best, {alts[0][1]}, would make input "
                                             f"${alts[0][0]:,.2f}")
        if not any_checkpoint[g]:
            evidence["groups"][-1]["why"] = (f"no prefix reaches the model's minimum of {int(mt[grp_code == g][0]):,} "
                                             "tokens per checkpoint")
    _, first = np.unique(grp_code, return_index=True)
    return first.tolist()
