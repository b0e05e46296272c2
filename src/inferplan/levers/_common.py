"""Helpers shared by the levers: columns as numpy, dictionary codes, tiny group-bys. Prices come from
`inferplan.pricing` (one rate card), never from here."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..codes import combo_codes, encode, first_order
from ..workload import TOKEN_COLUMNS

__all__ = ["encode", "col", "mask", "lookup", "codes", "total_input", "replace_columns"]



def col(t: pa.Table, name: str) -> np.ndarray:
    """A numeric column as numpy (nulls as 0)."""
    c = t.column(name)
    if pa.types.is_timestamp(c.type):
        c = c.cast(pa.int64())
    return (pc.fill_null(c, 0) if c.null_count else c).to_numpy(zero_copy_only=False)


def mask(code: np.ndarray, values: list[Any], keep: Any) -> np.ndarray:
    """Rows whose value (by `encode`) satisfies `keep(value)`: one call per distinct value."""
    return np.array([bool(keep(v)) for v in values], bool)[code] if values else np.zeros(code.size, bool)


def lookup(code: np.ndarray, values: list[Any], table: Any, default: Any, dtype: Any) -> np.ndarray:
    """Per-row `table.get(value, default)` for encoded rows: one lookup per distinct value."""
    if not values:
        return np.zeros(code.size, dtype)
    return np.array([table.get(v, default) for v in values], dtype)[code]


def codes(t: pa.Table, *names: str, rows: np.ndarray | None = None) -> tuple[np.ndarray, list[tuple]]:
    """Dense integer code per row of the combination of string columns (nulls as ""), with the distinct
    values, in order of first occurrence. With `rows`, only those rows (in that order), as if the table had
    been taken first. One compiled pass over the columns' dictionary indices (`codes.combo_codes`)."""
    n = t.num_rows if rows is None else rows.size
    if n == 0:
        return np.zeros(0, np.int64), []
    dense, found = combo_codes([t.column(name) for name in names], rows)
    keys = [tuple("" if v is None else v for v in k) for k in found]
    # "" and null are one value here: merge keys that became equal
    if len(set(keys)) != len(keys):
        uniq: dict[tuple, int] = {}
        remap = np.array([uniq.setdefault(k, len(uniq)) for k in keys], np.int64)
        return remap[dense], list(uniq)
    return dense, keys


def total_input(t: pa.Table) -> np.ndarray:
    """Input-side tokens per request (the four input buckets), int64, summed in place."""
    out = col(t, TOKEN_COLUMNS[0]).astype(np.int64)
    for c in TOKEN_COLUMNS[1:4]:
        out += col(t, c)
    return out


def replace_columns(t: pa.Table, cols: dict[str, Any]) -> pa.Table:
    """A copy of `t` with some columns replaced (same types)."""
    for name, values in cols.items():
        i = t.schema.get_field_index(name)
        typ = t.schema.field(name).type
        arr = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values, typ)
        t = t.set_column(i, name, arr.cast(typ) if arr.type != typ else arr)
    return t


def concat_rows(a: pa.Table, b: pa.Table, take: np.ndarray | None = None) -> pa.Table:
    """The rows of `a`, then those of `b` (same schema), or only `b`'s rows at positions `take`. A fixed-width
    column that is one chunk in both (a lever table's) becomes one chunk, gathered and joined in one numpy
    copy, so every later read of it is without a copy; a dictionary column of them keeps `a`'s dictionary,
    `b`'s other values appended, and `b`'s indices renumbered through it (arrow's own unification hashes every
    value of every row). Other columns chain their chunks, as `pa.concat_tables`."""
    out: dict[str, pa.Array | pa.ChunkedArray] = {}
    idx_arr = None if take is None else pa.array(take)
    for name in a.column_names:
        ca, cb = a.column(name), b.column(name)
        if ca.num_chunks != 1 or cb.num_chunks != 1 or not _fixed_width(ca.type):
            # a canonical table's columns (text, lists, many chunks): the chunks chained, nothing copied (one
            # array of them could pass 2^31 bytes of text)
            cb = cb if idx_arr is None else cb.take(idx_arr)
            out[name] = pa.chunked_array([*ca.chunks, *cb.chunks], ca.type)
            continue
        x, y = ca.chunk(0), cb.chunk(0)
        if not pa.types.is_dictionary(x.type):
            out[name] = _joined(x, y, take, idx_arr)
            continue
        values = x.dictionary.to_pylist()
        where = {v: i for i, v in enumerate(values)}
        for v in y.dictionary.to_pylist():
            if v not in where:
                where[v] = len(values)
                values.append(v)
        lut = np.array([where[v] for v in y.dictionary.to_pylist()] or [0], np.int32)
        xi, yi = ((pc.fill_null(c.indices, 0) if c.null_count else c.indices).to_numpy(zero_copy_only=False)
                  for c in (x, y))
        if take is not None:
            yi = yi[take]
        if not np.array_equal(lut, np.arange(lut.size)):  # `b`'s dictionary is not a prefix of the new one
            yi = lut[yi]
        idx = np.concatenate([xi, yi], dtype=np.int32)
        valid = None
        if x.null_count or y.null_count:
            vy = pc.is_valid(y.indices).to_numpy(zero_copy_only=False)
            valid = np.concatenate([pc.is_valid(x.indices).to_numpy(zero_copy_only=False),
                                    vy if take is None else vy[take]])
        out[name] = pa.DictionaryArray.from_arrays(pa.array(idx, pa.int32(), mask=None if valid is None else ~valid),
                                                   pa.array(values, x.type.value_type))
    return pa.table(out, schema=pa.schema([f.with_type(out[f.name].type) for f in a.schema],
                                          metadata=a.schema.metadata))


def _joined(x: pa.Array, y: pa.Array, take: np.ndarray | None, take_arr: pa.Array | None) -> pa.Array:
    """`x`, then `y` (at `take`; `take_arr` the same as arrow), as one array: numbers without nulls as one numpy
    copy, others by arrow."""
    if x.null_count or y.null_count or pa.types.is_boolean(x.type):
        return pa.concat_arrays([x, y if take_arr is None else y.take(take_arr)])
    xv, yv = x.to_numpy(), y.to_numpy()
    joined = np.empty(len(x) + (len(y) if take is None else len(take)), xv.dtype)
    joined[:len(x)] = xv
    if take is None:
        joined[len(x):] = yv
    else:
        np.take(yv, take, out=joined[len(x):])
    return pa.array(joined, x.type)


def _fixed_width(typ: pa.DataType) -> bool:
    """Numbers, booleans, timestamps, or a dictionary of strings with int32 indices: the lever table's types."""
    if pa.types.is_dictionary(typ):
        return typ.index_type == pa.int32()
    return pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_boolean(typ) or \
        pa.types.is_timestamp(typ)


def set_where(column: pa.ChunkedArray | pa.Array, where: np.ndarray, value: str) -> pa.Array:
    """A string column with `value` on the rows in `where`; a dictionary column stays one, recoded by its
    integer indices (no string per row is made)."""
    c = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_dictionary(c.type):
        return pc.if_else(pa.array(where), pa.scalar(value, pa.string()), c.cast(pa.string()))
    values = c.dictionary.to_pylist()
    if value not in values:
        values.append(value)
    idx = c.indices.to_numpy(zero_copy_only=False).astype(np.int32)
    valid = pc.is_valid(c.indices).to_numpy(zero_copy_only=False)
    new = np.where(where, np.int32(values.index(value)), idx)
    indices = pa.array(new, pa.int32(), mask=~(valid | where))
    return pa.DictionaryArray.from_arrays(indices, pa.array(values, c.type.value_type))


def sub_codes(code: np.ndarray, keys: list[tuple], rows: np.ndarray) -> tuple[np.ndarray, list[tuple]]:
    """`codes(t, ..., rows=rows)` from the whole table's `codes(t, ...)`: the same numbering (first occurrence
    in `rows`), without passing over the whole table again."""
    dense, first = first_order(code[rows])
    return dense, [keys[i] for i in first.tolist()]
