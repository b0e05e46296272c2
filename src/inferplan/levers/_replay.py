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
(one stable sort of all chain keys, runs of touches with gaps <= TTL) is computed once per TTL and reused
for every placement; a placement only changes which touches create the entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._flat import Flat, segmented_max, value_at_depth


@dataclass
class Touches:
    """Placement-independent part of a replay: chain keys sorted by (key, arrival), runs of live touches."""

    order: np.ndarray  # element indices sorted by (key, arrival)
    run_start: np.ndarray  # per sorted position: first position of its run (gaps <= TTL, same key)
    see_from: np.ndarray  # per sorted position: creators strictly before this position can be seen


def prepare(flat: Flat, ts: np.ndarray, ttl: np.ndarray, *, same_ts_hits: bool = True) -> Touches:
    """Sort once. `ts` per request (any integer unit), `ttl` per request in the same unit (namespaces
    must have one TTL each, since keys are namespaced)."""
    order = np.argsort(flat.key, kind="stable")
    sk = flat.key[order]
    r = flat.req[order]
    st = ts[r]
    m = sk.size
    pos = np.arange(m, dtype=np.int64)
    brk = np.ones(m, bool)
    if m > 1:
        brk[1:] = (sk[1:] != sk[:-1]) | ((st[1:] - st[:-1]) > ttl[r[1:]])
    run_start = np.maximum.accumulate(np.where(brk, pos, 0))
    if same_ts_hits:
        see_from = pos
    else:
        grp = brk.copy()
        if m > 1:
            grp[1:] |= st[1:] != st[:-1]
        see_from = np.maximum.accumulate(np.where(grp, pos, 0))
    return Touches(order, run_start, see_from)


def alive(t: Touches, creator: np.ndarray) -> np.ndarray:
    """Per element (arrival order): its entry is alive when this request arrives."""
    cr = creator[t.order].astype(np.int64)
    excl = np.cumsum(cr) - cr  # creators strictly before each sorted position
    seen = excl[t.see_from] - excl[t.run_start]
    out = np.empty(creator.size, bool)
    out[t.order] = seen > 0
    return out


@dataclass
class Result:
    read_tokens: np.ndarray  # per request
    write_tokens: np.ndarray
    read_depth: np.ndarray  # number of segments read (0: none)
    last_checkpoint: np.ndarray  # depth (1-based) of the last checkpoint (0: none)


def replay(flat: Flat, t: Touches, creator: np.ndarray) -> Result:
    """Read and write tokens per request for one set of checkpoints (`creator`, per element)."""
    d1 = flat.depth + 1
    live = alive(t, creator)
    read_depth = segmented_max(np.where(live, d1, 0), flat.offsets)
    last_cp = segmented_max(np.where(creator, d1, 0), flat.offsets)
    read = value_at_depth(flat, read_depth, flat.cum)
    upto = value_at_depth(flat, last_cp, flat.cum)
    write = np.where(last_cp > read_depth, upto - read, 0)
    return Result(read, write, read_depth, last_cp)


def checkpoints(flat: Flat, fixed: tuple[int, ...], last: bool, min_tokens: np.ndarray,
                enabled: np.ndarray | None = None) -> np.ndarray:
    """Creator mask for a placement: after segments `fixed` (1-based) and/or at the end of the prefix,
    where the prefix up to there has at least the model's minimum tokens. `enabled` per request."""
    d1 = flat.depth + 1
    mask = np.isin(d1, np.asarray(fixed, np.int64)) if fixed else np.zeros(flat.size, bool)
    if last:
        ends = np.zeros(flat.size, bool)
        lens = flat.lengths()
        ne = lens > 0
        ends[flat.offsets[1:][ne] - 1] = True
        mask |= ends
    mask &= flat.cum >= min_tokens[flat.req]
    if enabled is not None:
        mask &= enabled[flat.req]
    return mask
