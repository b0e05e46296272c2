"""Flat arrays of prompt segments: what both cache models replay.

The canonical `prefix` column (list of (hash, tokens) per request) is exploded once into numpy arrays, one
element per (request, segment). Each element gets a *chain key*: a 64-bit hash of the request's cache
namespace (model, scope, region) and every segment up to and including it, so equal keys mean an equal
prompt prefix on the same model. Keys are a segmented sum of position-salted splitmix64 hashes of the
segment ids, computed in one compiled pass. Two different prefixes share a key with probability about
n^2 / 2^65 (n distinct prefixes): about 1e-8 for a million.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...codes import encode

_GOLD = np.uint64(0x9E3779B97F4A7C15)
_DEPTH = np.uint64(0xD6E8FEB86659FD93)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """A strong 64-bit mix (splitmix64 finaliser) of each value taken as uint64; wraps modulo 2^64 on purpose.
    One compiled pass in place on a copy (numpy's expression made five temporaries of 8 bytes a value)."""
    z = np.array(x, dtype=np.uint64, copy=True)  # any integer array, numpy's cast (negatives wrap)
    if z.size:
        _mix_inplace(z.reshape(-1))
    return z


@numba.njit(cache=True)
def _mix_inplace(z: np.ndarray) -> None:
    for i in range(z.size):
        v = z[i] + np.uint64(0x9E3779B97F4A7C15)
        v = (v ^ (v >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        v = (v ^ (v >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z[i] = v ^ (v >> np.uint64(31))


@dataclass
class Flat:
    """One element per (request, segment), in arrival order: request-major, then segment order."""

    n_requests: int
    offsets: np.ndarray  # int64, n_requests + 1
    req: np.ndarray  # int64: request of each element
    depth: np.ndarray  # int64: 0-based segment position
    seg: np.ndarray  # uint64: segment content id (same text -> same id, wherever it stands)
    key: np.ndarray  # uint64: chain key of the prefix ending at this element
    tokens: np.ndarray  # int64: tokens of this segment (clamped to the request's input)
    cum: np.ndarray  # int64: tokens of the prefix ending here

    @property
    def size(self) -> int:
        return int(self.req.size)

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


def chain_keys(seg: np.ndarray, depth: np.ndarray, req: np.ndarray, offsets: np.ndarray,
               namespace: np.ndarray | None = None) -> np.ndarray:
    """Chain key per element: namespace salt + segmented sum of mix(segment id, position)."""
    with np.errstate(over="ignore"):
        v = splitmix64(seg * _GOLD ^ (depth.astype(np.uint64) * _DEPTH))
        cs = np.cumsum(v, dtype=np.uint64)
        before = np.concatenate([np.zeros(1, np.uint64), cs])[offsets[:-1]]
        key = cs - before[req]
        if namespace is not None:
            key = key + splitmix64(namespace.astype(np.uint64) + np.uint64(0x5851F42D4C957F2D))[req]
    return key


def segment_ids(hashes: pa.Array) -> np.ndarray:
    """Dense ids of segment hash strings (equal strings, equal ids) via dictionary encoding; hashes that are
    64-bit ids already (a lever table's `with_prefix`) are their own ids."""
    if len(hashes) == 0:
        return np.zeros(0, np.uint64)
    if pa.types.is_uint64(hashes.type) and not hashes.null_count:
        return np.asarray(hashes.to_numpy(zero_copy_only=False), np.uint64)
    enc = pc.dictionary_encode(hashes.combine_chunks() if isinstance(hashes, pa.ChunkedArray) else hashes)
    idx = enc.indices.to_numpy(zero_copy_only=False)
    return (idx.astype(np.int64) + 1).astype(np.uint64)


@numba.njit(cache=True)
def _mix(x: np.uint64) -> np.uint64:
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True)
def _build(offsets: np.ndarray, seg: np.ndarray, tokens: np.ndarray, cap: np.ndarray, salt: np.ndarray):  # noqa: ANN202
    """One pass: request, depth, clamped tokens, cumulative tokens and chain key of every element."""
    m = seg.size
    req = np.empty(m, np.int64)
    depth = np.empty(m, np.int64)
    tok = np.empty(m, np.int64)
    cum = np.empty(m, np.int64)
    key = np.empty(m, np.uint64)
    for r in range(offsets.size - 1):
        run = np.int64(0)
        h = salt[r]
        c = cap[r]
        for d, i in enumerate(range(offsets[r], offsets[r + 1])):
            nxt = run + tokens[i]
            if c >= 0 and nxt > c:
                nxt = c
            req[i] = r
            depth[i] = d
            tok[i] = nxt - run
            cum[i] = nxt
            run = nxt
            h = h + _mix(seg[i] * np.uint64(0x9E3779B97F4A7C15) ^ (np.uint64(d) * np.uint64(0xD6E8FEB86659FD93)))
            key[i] = h
    return req, depth, tok, cum, key


def from_arrays(offsets: np.ndarray, seg: np.ndarray, tokens: np.ndarray, total_input: np.ndarray | None = None,
                namespace: np.ndarray | None = None) -> Flat:
    """Build a Flat from CSR arrays (offsets over requests, segment ids and tokens per element). A prefix
    longer than the request's input is clamped to it. Compiled: one pass, no temporaries."""
    offsets = np.ascontiguousarray(offsets, np.int64)
    n = offsets.size - 1
    cap = np.full(n, -1, np.int64) if total_input is None else np.ascontiguousarray(total_input, np.int64)
    if namespace is None:
        salt = np.zeros(n, np.uint64)
    else:
        salt = splitmix64(np.asarray(namespace).astype(np.uint64) + np.uint64(0x5851F42D4C957F2D))
    seg = np.ascontiguousarray(seg, np.uint64)
    req, depth, tok, cum, key = _build(offsets, seg, np.ascontiguousarray(tokens, np.int64), cap, salt)
    return Flat(n, offsets, req, depth, seg, key, tok, cum)


def ints(a: np.ndarray) -> np.ndarray:
    """An integer array as it is (contiguous), any other as int64: compiled passes take int32 or int64 alike,
    so a 32-bit column is not widened (a copy of 8 bytes a row) only to be read."""
    a = np.asarray(a)
    return np.ascontiguousarray(a) if a.dtype.kind in "iu" else np.ascontiguousarray(a, np.int64)


def narrow(a: np.ndarray) -> np.ndarray:
    """Non-negative integers as int32 where they all fit (half the memory of int64), else as they are."""
    return a.astype(np.int32) if a.size and a.dtype.itemsize > 4 and 0 <= a.min() and a.max() < 2**31 else a


@numba.njit(cache=True)
def _gather_build(rows: np.ndarray, lengths: np.ndarray, starts: np.ndarray, seg_all: np.ndarray,
                  tok_all: np.ndarray, cap: np.ndarray, salt: np.ndarray, offsets: np.ndarray, req: np.ndarray,
                  depth: np.ndarray, seg: np.ndarray, tok: np.ndarray, cum: np.ndarray, key: np.ndarray,
                  lean: bool) -> None:
    """`_build` over the elements of `rows` gathered from shared flat arrays, in the same pass, into arrays
    the caller sized from `offsets` (`lean`: `depth`, `seg` and `tok` are not written)."""
    for r in range(rows.size):
        src = starts[rows[r]]
        run = np.int64(0)
        h = salt[r]
        c = cap[r]
        lo = offsets[r]
        for d in range(offsets[r + 1] - lo):
            i = lo + d
            sg = seg_all[src + d]
            k = tok_all[src + d]
            nxt = run + (k if k > 0 else 0)
            if c >= 0 and nxt > c:
                nxt = c
            req[i] = r
            if not lean:
                depth[i] = d
                seg[i] = sg
                tok[i] = nxt - run
            cum[i] = nxt
            run = nxt
            h = h + _mix(sg * np.uint64(0x9E3779B97F4A7C15) ^ (np.uint64(d) * np.uint64(0xD6E8FEB86659FD93)))
            key[i] = h


def gather(lengths: np.ndarray, starts: np.ndarray, seg: np.ndarray, tokens: np.ndarray, rows: np.ndarray,
           total_input: np.ndarray, namespace: np.ndarray, *, lean: bool = False) -> Flat:
    """`from_arrays` of the prefixes of `rows` (in that order), read from shared flat arrays (per row: length,
    first element; per element: segment id, tokens): one compiled pass, no gathered temporaries. `lean`: only
    what a managed-cache replay reads (offsets, request, chain key, cumulative tokens), request and cumulative
    tokens in 32 bits where they fit; `depth`, `seg` and `tokens` are then None."""
    rows = ints(rows)
    n = rows.size
    cap = ints(total_input)
    salt = splitmix64(np.asarray(namespace).astype(np.uint64) + np.uint64(0x5851F42D4C957F2D))
    offsets = np.zeros(n + 1, np.int64)
    if n:
        np.cumsum(np.asarray(lengths)[rows], out=offsets[1:])
    m = int(offsets[-1])
    small = lean and n < 2**31 and (cap.size == 0 or int(cap.max()) < 2**31)  # cum <= cap: fits 32 bits
    req = np.empty(m, np.int32 if small else np.int64)
    cum = np.empty(m, np.int32 if small else np.int64)
    key = np.empty(m, np.uint64)
    depth, sg, tok = (np.empty(0, np.int64), np.empty(0, np.uint64), np.empty(0, np.int64)) if lean else \
        (np.empty(m, np.int64), np.empty(m, np.uint64), np.empty(m, np.int64))
    _gather_build(rows, ints(lengths), ints(starts), np.ascontiguousarray(seg, np.uint64), ints(tokens), cap, salt,
                  offsets, req, depth, sg, tok, cum, key, lean)
    if lean:
        return Flat(n, offsets, req, None, None, key, None, cum)  # type: ignore[arg-type]
    return Flat(n, offsets, req, depth, sg, key, tok, cum)


def from_prefix_column(prefix: pa.Array | pa.ChunkedArray, total_input: np.ndarray | None = None,
                       namespace: np.ndarray | None = None) -> Flat:
    """Explode a canonical `prefix` column (nulls are requests with no known prefix)."""
    arr = prefix.combine_chunks() if isinstance(prefix, pa.ChunkedArray) else prefix
    n = len(arr)
    lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    values = arr.flatten()  # skips the values of null lists
    if len(values) != offsets[-1]:
        raise ValueError("prefix column: flattened length does not match list lengths")
    if n == 0 or len(values) == 0:
        z = np.zeros(0, np.int64)
        return Flat(n, offsets, z, z, z.astype(np.uint64), z.astype(np.uint64), z, z)
    seg = segment_ids(values.field("hash"))
    tokens = pc.fill_null(values.field("tokens"), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    return from_arrays(offsets, seg, np.maximum(tokens, 0), total_input, namespace)


@dataclass
class Exploded:
    """The `prefix` column of a whole table as flat arrays (one dictionary encoding of the segment hashes),
    with each row's call type code: any subset of rows gathers from it with numpy, no arrow `take`."""

    lengths: np.ndarray  # int32 or int64 per row
    starts: np.ndarray  # int32 or int64 per row: first element
    seg: np.ndarray  # uint64 per element: segment id (equal hash, equal id)
    tokens: np.ndarray  # int32 or int64 per element
    ct_code: np.ndarray  # int64 per row
    call_types: list[Any]  # distinct call types (None for null)
    prefixes: Prefixes | None = field(default=None, repr=False, compare=False)  # the workload's prefixes
    rows: np.ndarray | None = field(default=None, repr=False, compare=False)  # these rows point into (`_row`)
    _shared: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    def shared_depth(self) -> np.ndarray:
        """Per row: the deepest segment whose prefix (segment ids up to it, namespace aside) some other element
        has too (0: none): no cache entry deeper than that can ever be read back. A workload's prefixes
        compute it once for every lever and step (`Prefixes.shared_depth`)."""
        if self._shared is None:
            if self.prefixes is not None and self.rows is not None:
                self._shared = self.prefixes.shared_depth()[self.rows]
            else:
                self._shared = shared_depths(ints(self.lengths), ints(self.starts), self.seg)
        return self._shared


@dataclass
class Prefixes:
    """A workload's `prefix` column encoded once (64-bit segment ids, tokens), for lever tables that carry a
    `_row` column (their row's index in the workload) instead of the column: every lever and step gathers
    from the same arrays, and the segment hash strings never leave the engine (`levers._table`)."""

    lengths: np.ndarray  # int32 (or int64) per workload row
    starts: np.ndarray  # int32 (below 2^31 elements) or int64 per workload row: first element
    seg: np.ndarray  # uint64 per element
    tokens: np.ndarray  # int32 where every count fits (else int64) per element
    _per_row: np.ndarray | None = None
    _shared: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    def shared_depth(self) -> np.ndarray:
        """`Exploded.shared_depth` per workload row, computed once (one hash pass over every element)."""
        if self._shared is None:
            self._shared = shared_depths(ints(self.lengths), ints(self.starts), self.seg)
        return self._shared

    def rows(self, t: pa.Table) -> np.ndarray:
        return ints(t.column("_row").to_numpy()) if t.num_rows else np.zeros(0, np.int64)

    def explode(self, t: pa.Table) -> Exploded:
        rows = self.rows(t)
        ct_code, cts = encode(t, "call_type")
        return Exploded(self.lengths[rows], self.starts[rows], self.seg, self.tokens, ct_code, cts, self, rows)

    def tokens_per_row(self, t: pa.Table) -> np.ndarray:
        """Tokens of each row's prefix (0 without one); elements are stored row by row, in workload order."""
        if self._per_row is None:  # one compiled pass over the rows' elements, no array per element
            self._per_row = narrow(_row_sums(ints(self.lengths), ints(self.starts), ints(self.tokens)))
        return self._per_row[self.rows(t)]


def previous_occurrence(keys: np.ndarray) -> np.ndarray:
    """For each element, the index of the previous element with the same key (-1: none), as int32 where
    positions fit: one pass over an open-addressing hash table (keys mixed again: any 64-bit values spread), 2/3
    full at most. A slot holds only the position of the latest element of its key, the key itself read from
    `keys`: 4 bytes a slot, not 12, and 1.5 slots an element (a slot is found from the key's high bits by a
    multiply, so the size need not be a power of two) where a power of two would take up to 3."""
    n = keys.size
    size = n + n // 2 + 1
    slot_pos = np.full(size, -1, np.int32 if n < 2**31 - 1 else np.int64)
    return _previous_occurrence(keys, slot_pos)


@numba.njit(cache=True)
def _previous_occurrence(keys: np.ndarray, slot_pos: np.ndarray) -> np.ndarray:
    n = keys.size
    size = np.uint64(slot_pos.size)
    prev = np.empty(n, slot_pos.dtype)  # positions in 32 bits where they fit, as in the table
    for i in range(n):
        k = keys[i]
        z = _mix(k)
        # in [0, size): the mixed key's high 32 bits scaled by a multiply (a remainder past 2^32 slots)
        h = ((z >> np.uint64(32)) * size) >> np.uint64(32) if size < np.uint64(2**32) else z % size
        while True:
            p = slot_pos[h]
            if p < 0:
                slot_pos[h] = i
                prev[i] = -1
                break
            if keys[p] == k:
                prev[i] = p
                slot_pos[h] = i
                break
            h += np.uint64(1)
            if h == size:
                h = np.uint64(0)
    return prev


def shared_depths(lengths: np.ndarray, starts: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Per row (`lengths`, `starts` into the elements `seg`): the deepest of its segments whose chain (the
    segment ids up to it, namespace aside) occurs at another element, 0 if none. A superset of what any one
    namespace shares: rows of a cache namespace can only share what the whole table shares (rows pointing at
    the same elements are the caller's to check). Keys collide with probability about n^2 / 2^65, as chain
    keys do."""
    key = np.zeros(seg.size, np.uint64)
    _chain_of_rows(lengths, starts, np.ascontiguousarray(seg, np.uint64), key)
    prev = previous_occurrence(key)
    del key
    return _deepest_shared(lengths, starts, prev)


@numba.njit(cache=True)
def _chain_of_rows(lengths: np.ndarray, starts: np.ndarray, seg: np.ndarray, key: np.ndarray) -> None:
    """Each row's elements' chain keys (as `_gather_build`'s, without a namespace salt), written in place."""
    for r in range(lengths.size):
        h = np.uint64(0)
        s = starts[r]
        for d in range(lengths[r]):
            h = h + _mix(seg[s + d] * np.uint64(0x9E3779B97F4A7C15) ^ (np.uint64(d) * np.uint64(0xD6E8FEB86659FD93)))
            key[s + d] = h


@numba.njit(cache=True)
def _deepest_shared(lengths: np.ndarray, starts: np.ndarray, prev: np.ndarray) -> np.ndarray:
    shared = np.zeros(prev.size, np.bool_)
    for e in range(prev.size):
        p = prev[e]
        if p >= 0:
            shared[e] = True
            shared[p] = True
    out = np.zeros(lengths.size, np.int32)
    for r in range(lengths.size):
        s = starts[r]
        for d in range(lengths[r]):
            if shared[s + d]:
                out[r] = d + 1
    return out


@numba.njit(cache=True)
def _row_sums(lengths: np.ndarray, starts: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    out = np.zeros(lengths.size, np.int64)
    for r in range(lengths.size):
        s = np.int64(0)
        for e in range(starts[r], starts[r] + lengths[r]):
            s += tokens[e]
        out[r] = s
    return out


def explode(t: pa.Table, prefixes: Prefixes | None = None) -> Exploded:
    """The table's prefixes as flat arrays: from its `prefix` column, or gathered from `prefixes` by `_row`."""
    if prefixes is not None and "_row" in t.column_names:
        return prefixes.explode(t)
    n = t.num_rows
    if "prefix" in t.column_names and n:
        arr = t.column("prefix").combine_chunks()
        lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False).astype(np.int64)
        values = arr.flatten()
        seg = segment_ids(values.field("hash")) if len(values) else np.zeros(0, np.uint64)
        tok = pc.fill_null(values.field("tokens"), 0).to_numpy(zero_copy_only=False).astype(np.int64) \
            if len(values) else np.zeros(0, np.int64)
    else:
        lengths = np.zeros(n, np.int64)
        seg, tok = np.zeros(0, np.uint64), np.zeros(0, np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if n else np.zeros(0, np.int64)
    ct_code, cts = encode(t, "call_type")
    return Exploded(lengths, starts, seg, tok, ct_code, cts)
