"""Dictionary codes of string columns: the per-row work stays in arrow/numpy, only distinct values become Python
objects. Shared by the rate card (`pricing.request_rates`) and the levers."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_MEMO: dict[tuple, tuple[Any, np.ndarray, list[Any]]] = {}
_MEMO_SIZE = 6


def column_id(column: pa.ChunkedArray | pa.Array) -> tuple:
    """The identity of a column's memory (buffer addresses and sizes, its dictionary's too): equal while the
    column lives, so a column a lever kept from its input is recognised without a scan."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    parts: list[Any] = [len(column)]
    for chunk in chunks:
        bufs = list(chunk.buffers())
        if pa.types.is_dictionary(chunk.type):
            bufs += chunk.dictionary.buffers()
        parts += [chunk.offset, str(chunk.type)]  # two slices of one buffer are two columns
        parts += [(b.address, b.size) if b is not None else None for b in bufs]
    return tuple(parts)


def clear_memo() -> None:
    """Forget the remembered codes (a caller that dropped the tables whose columns they keep alive)."""
    _MEMO.clear()


def encode(t: pa.Table | pa.Array | pa.ChunkedArray, name: str | None = None) -> tuple[np.ndarray, list[Any]]:
    """A string column as (int32 code per row, distinct values): dictionary encoding, nulls kept as a value
    (None), codes in order of first occurrence. A dictionary-typed column is recoded from its integer indices
    (its strings are never materialised per row).

    The codes of the last few columns are remembered by the column's memory (`column_id`; the column is kept
    alive with them, so its addresses are not reused): the levers encode the same call type, model and tier
    columns of every table they pass along. Callers must not write into the codes."""
    c = t.column(name) if name is not None else t
    if len(c) == 0:
        return np.zeros(0, np.int32), []
    key = column_id(c)
    if key in _MEMO:
        return _MEMO[key][1], _MEMO[key][2]
    code, values = _encode(c)
    code.flags.writeable = False
    if len(_MEMO) >= _MEMO_SIZE:
        _MEMO.pop(next(iter(_MEMO)))
    _MEMO[key] = (c, code, values)
    return code, values


_LUT_MAX = 1 << 20  # integer codes below this are renumbered through a lookup table, others by a hash


@numba.njit(cache=True)
def _combo_first(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, kb: int, kc: int, kd: int,
                 rows: np.ndarray, every: bool, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Dense codes in order of first occurrence of the combination `((a*kb + b)*kc + c)*kd + d` per row (of
    `rows`, or of every row), in one pass through a `size`-entry table; a column of one element is that
    value on every row (a column not combined: 0). Returns the codes and each code's combined value."""
    n = a.size if every else rows.size
    remap = np.full(size, -1, np.int32)
    firsts = np.empty(min(size, max(n, 1)), np.int64)
    out = np.empty(n, np.int32)
    m = 0
    for j in range(n):
        i = j if every else rows[j]
        va = np.int64(a[i])
        vb = np.int64(b[i]) if b.size > 1 else np.int64(b[0])
        vc = np.int64(c[i]) if c.size > 1 else np.int64(c[0])
        vd = np.int64(d[i]) if d.size > 1 else np.int64(d[0])
        v = ((va * kb + vb) * kc + vc) * kd + vd
        code = remap[v]
        if code < 0:
            code = m
            remap[v] = m
            firsts[m] = v
            m += 1
        out[j] = code
    return out, firsts[:m]


def first_order(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer values as dense int32 codes 0..k-1 in order of first occurrence, and the value (int64) of each:
    a compiled pass through a lookup table where the values are small and non-negative (dictionary indices and
    their combinations), arrow's hash encoding otherwise. Both number alike."""
    values = np.asarray(values)
    if values.size == 0:
        return np.zeros(0, np.int32), np.zeros(0, np.int64)
    lo, hi = int(values.min()), int(values.max())
    if lo >= 0 and hi < _LUT_MAX:  # one column's pass of the combination kernel
        one = np.zeros(1, np.int32)
        return _combo_first(np.ascontiguousarray(values), one, one, one, 1, 1, 1, np.zeros(0, np.int64), True, hi + 1)
    enc = pc.dictionary_encode(pa.array(values))
    return (enc.indices.to_numpy(zero_copy_only=False).astype(np.int32),
            enc.dictionary.to_numpy(zero_copy_only=False).astype(np.int64))


def _encode(c: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, list[Any]]:
    if isinstance(c, pa.ChunkedArray):
        c = c.combine_chunks()
    if pa.types.is_dictionary(c.type):
        idx, values = _indices(c)
        code, first = first_order(idx)  # first occurrence, on integers
        distinct = [values[i] for i in first.tolist()]
        if len(set(distinct)) == len(distinct):
            return code, distinct
        c = c.cast(c.type.value_type)  # a dictionary with repeated values: encode the strings
    enc = pc.dictionary_encode(c, null_encoding="encode")
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int32), enc.dictionary.to_pylist()


def _raw_codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, list[Any]]:
    """Any dense numbering of a string column's values (int32 per row, and each number's value; null a value,
    None): a one-chunk dictionary column with distinct values is its own indices (the null index after the
    last value), read without a pass; any other column is `encode`d."""
    c = column.chunk(0) if isinstance(column, pa.ChunkedArray) and column.num_chunks == 1 else column
    if isinstance(c, pa.DictionaryArray):
        idx, values = _indices(c)
        if len(set(values)) == len(values):  # no value repeated, none null (the null index's None is the last)
            return idx, values
    return encode(column)


def _indices(c: pa.DictionaryArray) -> tuple[np.ndarray, list[Any]]:
    """A dictionary array's indices, a null as the index after the last value (in a type that holds it: an
    int8 dictionary of 128 values has no index 128), and its values with None after them."""
    values = [*c.dictionary.to_pylist(), None]
    idx = pc.fill_null(c.indices.cast(pa.int64()), len(values) - 1) if c.null_count else c.indices
    return idx.to_numpy(zero_copy_only=False), values


def combo_codes(columns: list[pa.ChunkedArray | pa.Array], rows: np.ndarray | None = None
                ) -> tuple[np.ndarray, list[tuple]]:
    """Dense int32 code per row (of `rows`, in that order, or of every row) of the combination of string
    columns, numbered by first occurrence, and each code's values (null as None): for up to four columns whose
    dictionaries combine into fewer than 2^20 values, one compiled pass over their indices, no column encoded
    on its own; else column by column, each pair's combination renumbered densely by `first_order` before the
    next column joins (so the combined integers stay below n^2, whatever the dictionaries hold: the same
    numbering)."""
    if not columns:
        raise ValueError("combo_codes needs a column")
    raw = [_raw_codes(c) for c in columns]
    cards = [max(len(v), 1) for _, v in raw]
    size = 1
    for k in cards:
        size *= k  # a Python integer: no overflow
    n = len(columns[0]) if rows is None else rows.size
    if n == 0:
        return np.zeros(0, np.int32), []
    if size < _LUT_MAX and len(columns) <= 4:
        arrays = [np.ascontiguousarray(code, np.int32) for code, _ in raw]
        arrays += [np.zeros(1, np.int32)] * (4 - len(arrays))
        ks = [*cards[1:], 1, 1, 1][:3]
        sel = np.zeros(0, np.int64) if rows is None else np.ascontiguousarray(rows, np.int64)
        out, first = _combo_first(*arrays, *ks, sel, rows is None, size)
        keys = []
        for u in first.tolist():
            parts = []
            for (_, values), k in zip(reversed(raw), reversed(cards), strict=True):
                parts.append(values[u % k])
                u //= k
            keys.append(tuple(reversed(parts)))
        return out, keys
    code0, values0 = raw[0]
    out, first = first_order(code0 if rows is None else code0[rows])
    keys = [(values0[u],) for u in first.tolist()]
    for code, values in raw[1:]:
        k = max(len(values), 1)
        combined = out.astype(np.int64) * k + (code if rows is None else code[rows])  # below n * k
        out, first = first_order(combined)
        keys = [(*keys[u // k], values[u % k]) for u in first.tolist()]
    return out, keys
