"""Managed prompt-cache replay (Bedrock semantics), vectorised with numpy.

Model (documented in docs/levers.md):
- A cache entry is a prompt prefix ending at a segment boundary, in one namespace (model, scope, region).
- Entries are *created* only at a request's checkpoints (at most 4, each with at least the model's minimum
  tokens of prefix). A request *reads* the longest prefix of its prompt, at any of its segment boundaries,
  whose entry is alive (Bedrock/Anthropic look back over earlier boundaries), and *writes* the tokens from
  there to its last checkpoint. The rest of its input is plain input.
- An entry stays alive while requests that contain it keep arriving with gaps <= TTL (the TTL restarts
  on each use, including a use through a longer cached prefix); after a longer gap it is gone until a
  request checkpoints it again.
- Order is arrival order (ts, then input order). `same_ts_hits=False` makes requests with equal
  timestamps unable to see each other's writes.

With those rules the touches of an entry do not depend on the checkpoint placement, so the expensive part
(each element's previous use of the same entry, one pass over a hash table) is computed once and reused for
every placement and TTL; a placement only changes which touches create the entry, one linear scan each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from .flat import Flat, ints, previous_occurrence

__all__ = ["previous_occurrence", "prepare", "replay", "checkpoints", "placement_costs", "write_only_costs",
           "write_only_tokens", "Touches", "Result", "alive"]


@numba.njit(cache=True)
def _alive_scan(prev: np.ndarray, req: np.ndarray, ts: np.ndarray, ttl: np.ndarray, creator: np.ndarray,
                same_ts_hits: bool) -> np.ndarray:
    """In arrival order: `through[i]`: a creator since the entry last expired, up to and including i;
    `alive[i]`: one strictly before i (and, with same_ts_hits=False, at an earlier timestamp)."""
    n = prev.size
    through = np.zeros(n, np.bool_)
    alive = np.zeros(n, np.bool_)
    for i in range(n):
        p = prev[i]
        ti = ts[req[i]]
        limit = ttl[req[i]]
        seen = False
        cont = False
        if p >= 0 and ti - ts[req[p]] <= limit:
            if same_ts_hits:
                seen = through[p]
            else:
                q = p
                while q >= 0 and ts[req[q]] == ti:
                    q = prev[q]
                seen = q >= 0 and ti - ts[req[q]] <= limit and through[q]
            cont = through[p]
        alive[i] = seen
        through[i] = cont or creator[i]
    return alive


@dataclass
class Touches:
    """Placement-independent part of a replay: each element's previous touch of the same entry."""

    prev: np.ndarray  # per element: previous element with the same chain key (-1: none)
    req: np.ndarray  # per element: its request
    ts: np.ndarray  # per request: arrival time
    ttl: np.ndarray  # per request: TTL of its namespace
    same_ts_hits: bool


def prepare(flat: Flat, ts: np.ndarray, ttl: np.ndarray, *, same_ts_hits: bool = True) -> Touches:
    """One hash pass. `ts` per request (any integer unit, in arrival order), `ttl` per request in the same
    unit (namespaces must have one TTL each, since keys are namespaced)."""
    prev = previous_occurrence(np.ascontiguousarray(flat.key, dtype=np.uint64))
    return Touches(prev, flat.req, np.ascontiguousarray(ts, dtype=np.int64),
                   np.ascontiguousarray(ttl, dtype=np.int64), same_ts_hits)


def alive(t: Touches, creator: np.ndarray) -> np.ndarray:
    """Per element (arrival order): its entry is alive when this request arrives."""
    return _alive_scan(t.prev, t.req, t.ts, t.ttl, np.ascontiguousarray(creator, dtype=np.bool_), t.same_ts_hits)


@dataclass
class Result:
    read_tokens: np.ndarray  # per request
    write_tokens: np.ndarray
    read_depth: np.ndarray  # number of segments read (0: none)
    last_checkpoint: np.ndarray  # depth (1-based) of the last checkpoint (0: none)


@numba.njit(cache=True)
def _tokens(offsets: np.ndarray, cum: np.ndarray, live: np.ndarray, creator: np.ndarray):  # noqa: ANN202
    n = offsets.size - 1
    read = np.zeros(n, np.int64)
    write = np.zeros(n, np.int64)
    rd = np.zeros(n, np.int64)
    lc = np.zeros(n, np.int64)
    for r in range(n):
        lo = offsets[r]
        for i in range(lo, offsets[r + 1]):
            if live[i]:
                rd[r] = i - lo + 1
            if creator[i]:
                lc[r] = i - lo + 1
        if rd[r] > 0:
            read[r] = cum[lo + rd[r] - 1]
        if lc[r] > rd[r]:
            write[r] = cum[lo + lc[r] - 1] - read[r]
    return read, write, rd, lc


def replay(flat: Flat, t: Touches, creator: np.ndarray) -> Result:
    """Read and write tokens per request for one set of checkpoints (`creator`, per element)."""
    creator = np.ascontiguousarray(creator, dtype=np.bool_)
    live = alive(t, creator)
    read, write, rd, lc = _tokens(flat.offsets, flat.cum, live, creator)
    return Result(read, write, rd, lc)


@numba.njit(cache=True)
def _checkpoints(offsets: np.ndarray, cum: np.ndarray, fixed: np.ndarray, last: bool, min_tokens: np.ndarray,
                 enabled: np.ndarray) -> np.ndarray:
    out = np.zeros(cum.size, np.bool_)
    for r in range(offsets.size - 1):
        if not enabled[r]:
            continue
        lo, hi = offsets[r], offsets[r + 1]
        for i in range(lo, hi):
            d1 = i - lo + 1
            on = last and i == hi - 1
            for f in fixed:
                if f == d1:
                    on = True
            out[i] = on and cum[i] >= min_tokens[r]
    return out


def checkpoints(flat: Flat, fixed: tuple[int, ...], last: bool, min_tokens: np.ndarray,
                enabled: np.ndarray | None = None) -> np.ndarray:
    """Creator mask for a placement: after segments `fixed` (1-based) and/or at the end of the prefix,
    where the prefix up to there has at least the model's minimum tokens. `enabled` per request."""
    en = np.ones(flat.n_requests, np.bool_) if enabled is None else np.ascontiguousarray(enabled, np.bool_)
    return _checkpoints(flat.offsets, flat.cum, np.asarray(fixed, np.int64), bool(last),
                        np.ascontiguousarray(min_tokens, np.int64), en)


@numba.njit(cache=True, nogil=True)  # nogil: the TTLs' passes run side by side (`levers.caching`)
def _placement_costs(offsets: np.ndarray, cum: np.ndarray, req: np.ndarray, prev: np.ndarray, ts: np.ndarray,
                     ttl: np.ndarray, same_ts_hits: bool, depth_bits: np.ndarray, last_bits: np.uint64,
                     n_placements: int, min_tokens: np.ndarray, allowed: np.ndarray, total: np.ndarray,
                     rate: np.ndarray, p_in: np.ndarray, p_read: np.ndarray, p_w: np.ndarray, grp: np.ndarray,
                     n_groups: int, through: np.ndarray):  # noqa: ANN202
    """Every placement in one pass: bit p of an element's creator/alive/through word is placement p (`through`:
    zeros, one word per element, of the narrowest unsigned type that holds a bit per placement).

    The same rules as `checkpoints` + `alive` + `replay` (one run per placement), evaluated together: the touches
    of an entry do not depend on the placement, only which touches create it, so the scan carries one 64-bit
    word per element instead of one bool per placement. Returns input USD per (placement, group) and whether
    any request of the group got a checkpoint under some placement."""
    n = offsets.size - 1
    cost = np.zeros((n_placements, n_groups))
    any_ck = np.zeros(n_groups, np.bool_)
    rd = np.zeros(n_placements, np.int64)
    lc = np.zeros(n_placements, np.int64)
    zero = np.uint64(0)
    one = np.uint64(1)
    for r in range(n):
        lo, hi = offsets[r], offsets[r + 1]
        for p in range(n_placements):
            rd[p] = 0
            lc[p] = 0
        ti = ts[r]
        limit = ttl[r] if ttl.size > 1 else ttl[0]  # one TTL for every request: a one-element array
        for i in range(lo, hi):
            d1 = i - lo + 1
            creator = zero
            if allowed[r] and cum[i] >= min_tokens[r]:
                if d1 < depth_bits.size:
                    creator = depth_bits[d1]
                if i == hi - 1:
                    creator |= last_bits
            q = prev[i]
            seen = zero
            cont = zero
            if q >= 0 and ti - ts[req[q]] <= limit:
                cont = np.uint64(through[q])
                if same_ts_hits:
                    seen = cont
                else:
                    while q >= 0 and ts[req[q]] == ti:
                        q = prev[q]
                    if q >= 0 and ti - ts[req[q]] <= limit:
                        seen = np.uint64(through[q])
            through[i] = cont | creator  # (bits of placements in this chunk only: the word holds them)
            if seen != zero or creator != zero:
                for p in range(n_placements):
                    bit = one << np.uint64(p)
                    if seen & bit:
                        rd[p] = d1
                    if creator & bit:
                        lc[p] = d1
        g = grp[r]
        k = rate[r]
        for p in range(n_placements):
            read = np.int64(cum[lo + rd[p] - 1]) if rd[p] > 0 else np.int64(0)
            write = np.int64(cum[lo + lc[p] - 1]) - read if lc[p] > rd[p] else np.int64(0)
            if lc[p] > 0:
                any_ck[g] = True
            cost[p, g] += (total[r] - read - write) * p_in[k] + read * p_read[k] + write * p_w[k]
    return cost, any_ck


def placement_costs(flat: Flat, prev: np.ndarray, ts: np.ndarray, ttl: np.ndarray, placements: list,
                    min_tokens: np.ndarray, allowed: np.ndarray, total: np.ndarray, p_in: np.ndarray,
                    p_read: np.ndarray, p_w: np.ndarray, grp: np.ndarray, n_groups: int, *,
                    same_ts_hits: bool = True, rate_code: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Input USD per (placement, group) of every candidate placement ((fixed depths, last) pairs), each as if
    replayed alone (`checkpoints` + `replay`), in one compiled pass per 64 placements. `prev` from
    `previous_occurrence(flat.key)`; per request: `ts`, `ttl` (or one value for all), `min_tokens`, `allowed`
    (may checkpoint), `total` input tokens and USD-per-token rates, or with `rate_code` (per request) the rates
    per code (a request's rate is read in the pass: no float array per request). Also: whether each group got
    any checkpoint."""
    out = np.zeros((len(placements), n_groups))
    any_ck = np.zeros(n_groups, bool)
    rate = np.arange(flat.n_requests, dtype=np.int64) if rate_code is None else ints(rate_code)
    ts_, ttl_, mt_, tot_, grp_ = (ints(a) for a in (ts, ttl, min_tokens, total, grp))
    al_ = np.ascontiguousarray(allowed, np.bool_)
    pin_, prd_, pw_ = (np.ascontiguousarray(a, np.float64) for a in (p_in, p_read, p_w))
    prev_ = ints(prev)
    for start in range(0, len(placements), 64):
        chunk = placements[start:start + 64]
        depth_bits, last_bits = _placement_words(chunk)
        word = next(w for w in (np.uint8, np.uint16, np.uint32, np.uint64) if len(chunk) <= 8 * np.dtype(w).itemsize)
        c, a = _placement_costs(flat.offsets, flat.cum, flat.req, prev_, ts_, ttl_, bool(same_ts_hits), depth_bits,
                                np.uint64(last_bits), len(chunk), mt_, al_, tot_, rate, pin_, prd_, pw_, grp_,
                                int(n_groups), np.zeros(flat.size, word))  # 2 bytes an element for 15 placements
        out[start:start + len(chunk)] = c
        any_ck |= a
    return out, any_ck


@numba.njit(cache=True, nogil=True)  # nogil: the TTLs' passes run side by side (`levers.caching`)
def _write_only_costs(rows: np.ndarray, lengths: np.ndarray, starts: np.ndarray, tokens: np.ndarray,
                      depth_bits: np.ndarray, last_bits: np.uint64, n_placements: int, min_tokens: np.ndarray,
                      allowed: np.ndarray, total: np.ndarray, rate: np.ndarray, p_in: np.ndarray,
                      p_read: np.ndarray, p_w: np.ndarray, grp: np.ndarray, n_groups: int):  # noqa: ANN202
    """`_placement_costs` where no entry can be read back (`write_only_costs`): each request writes up to its
    last checkpoint and reads nothing, its cumulative tokens computed as `flat.gather` does, read from the
    shared element arrays at `rows` (no flat arrays, no hash pass). The same sums in the same order, so the
    same floats."""
    cost = np.zeros((n_placements, n_groups))
    any_ck = np.zeros(n_groups, np.bool_)
    lc = np.zeros(n_placements, np.int64)
    at = np.zeros(n_placements, np.int64)
    one = np.uint64(1)
    for j in range(rows.size):
        r = rows[j]
        for p in range(n_placements):
            lc[p] = 0
        run = np.int64(0)
        c = total[j]
        s = starts[r]
        n = lengths[r]
        for d in range(n):
            k = tokens[s + d]
            nxt = run + (k if k > 0 else 0)
            if c >= 0 and nxt > c:
                nxt = c
            run = nxt
            if allowed[j] and nxt >= min_tokens[j]:
                creator = np.uint64(0)
                if d + 1 < depth_bits.size:
                    creator = depth_bits[d + 1]
                if d == n - 1:
                    creator |= last_bits
                for p in range(n_placements):
                    if creator & (one << np.uint64(p)):
                        lc[p] = d + 1
                        at[p] = nxt
        g = grp[j]
        k = rate[j]
        for p in range(n_placements):
            read = np.int64(0)
            write = np.int64(at[p]) - read if lc[p] > 0 else np.int64(0)
            if lc[p] > 0:
                any_ck[g] = True
            cost[p, g] += (total[j] - read - write) * p_in[k] + read * p_read[k] + write * p_w[k]
    return cost, any_ck


def _placement_words(placements: list) -> tuple[np.ndarray, int]:
    """Per depth (1-based), the bits of the placements that checkpoint after it; and those that checkpoint at the
    end of the prefix."""
    top = max((max(fixed) for fixed, _ in placements if fixed), default=0)
    depth_bits = np.zeros(top + 1, np.uint64)
    last_bits = 0
    for p, (fixed, last) in enumerate(placements):
        for d in fixed:
            depth_bits[d] |= np.uint64(1 << p)
        if last:
            last_bits |= 1 << p
    return depth_bits, last_bits


def write_only_costs(rows: np.ndarray, lengths: np.ndarray, starts: np.ndarray, tokens: np.ndarray,
                     placements: list, min_tokens: np.ndarray, allowed: np.ndarray, total: np.ndarray,
                     p_in: np.ndarray, p_read: np.ndarray, p_w: np.ndarray, grp: np.ndarray, n_groups: int, *,
                     rate_code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`placement_costs` of requests none of which can read an entry back (no checkpointable prefix is shared:
    `levers.caching.may_read`), from the shared element arrays (per row `lengths`, `starts`; per element
    `tokens`) at `rows`: the same USD per (placement, group), to the bit, and checkpoints per group."""
    out = np.zeros((len(placements), n_groups))
    any_ck = np.zeros(n_groups, bool)
    args = (ints(rows), ints(lengths), ints(starts), ints(tokens))
    rest = (ints(min_tokens), np.ascontiguousarray(allowed, np.bool_), ints(total), ints(rate_code),
            *(np.ascontiguousarray(a, np.float64) for a in (p_in, p_read, p_w)), ints(grp), int(n_groups))
    for start in range(0, len(placements), 64):
        chunk = placements[start:start + 64]
        depth_bits, last_bits = _placement_words(chunk)
        c, a = _write_only_costs(*args, depth_bits, np.uint64(last_bits), len(chunk), *rest)
        out[start:start + len(chunk)] = c
        any_ck |= a
    return out, any_ck


@numba.njit(cache=True)
def _write_only_tokens(rows: np.ndarray, lengths: np.ndarray, starts: np.ndarray, tokens: np.ndarray,
                       cap: np.ndarray, choice: np.ndarray, depth_on: np.ndarray, last_on: np.ndarray,
                       min_tokens: np.ndarray) -> np.ndarray:
    """Per request: the tokens up to its last checkpoint under its placement `choice[j]` (`checkpoints`'s rule:
    after a chosen depth or at the end, with at least the minimum tokens), as `replay` writes them when nothing
    is read back."""
    out = np.zeros(rows.size, np.int64)
    for j in range(rows.size):
        r = rows[j]
        p = choice[j]
        run = np.int64(0)
        c = cap[j]
        s = starts[r]
        n = lengths[r]
        for d in range(n):
            k = tokens[s + d]
            nxt = run + (k if k > 0 else 0)
            if c >= 0 and nxt > c:
                nxt = c
            run = nxt
            on = (last_on[p] and d == n - 1) or (d + 1 < depth_on.shape[1] and depth_on[p, d + 1])
            if on and nxt >= min_tokens[j]:
                out[j] = nxt
    return out


def write_only_tokens(rows: np.ndarray, lengths: np.ndarray, starts: np.ndarray, tokens: np.ndarray,
                      total: np.ndarray, choice: np.ndarray, placements: list, min_tokens: np.ndarray) -> np.ndarray:
    """`replay`'s written tokens per request of `rows` (each at placement `choice`, an index in `placements`)
    when no entry can be read back: read tokens are then 0 and `last_checkpoint`'s tokens are written."""
    top = max((max(fixed) for fixed, _ in placements if fixed), default=0)
    depth_on = np.zeros((len(placements), top + 1), np.bool_)
    for p, (fixed, _) in enumerate(placements):
        depth_on[p, list(fixed)] = True
    last_on = np.array([last for _, last in placements], np.bool_)
    return _write_only_tokens(ints(rows), ints(lengths), ints(starts), ints(tokens), ints(total), ints(choice),
                              depth_on, last_on, ints(min_tokens))
