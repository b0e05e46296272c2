"""Helpers shared by the levers: columns as numpy, dictionary codes, tiny group-bys. Prices come from
`inferplan.pricing` (one rate card), never from here."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..codes import encode, first_order
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


def codes(t: pa.Table, *names: str, rows: np.ndarray | None = None,
          cache: dict[str, tuple[np.ndarray, list[Any]]] | None = None) -> tuple[np.ndarray, list[tuple]]:
    """Dense integer code per row of the combination of string columns (nulls as ""), with the distinct
    values, in order of first occurrence. With `rows`, only those rows (in that order), as if the table had
    been taken first. Each column is dictionary-encoded on its own (once per `cache`, a dict the caller
    keeps for one table) and the integer codes are combined."""
    n = t.num_rows if rows is None else rows.size
    if n == 0:
        return np.zeros(0, np.int64), []
    combined = np.zeros(t.num_rows, np.int64)
    per_col = []
    for name in names:
        if cache is None:
            code, values = encode(t, name)
        else:
            if name not in cache:
                cache[name] = encode(t, name)
            code, values = cache[name]
        values = ["" if v is None else v for v in values]
        per_col.append((code, values))
        combined *= max(len(values), 1)  # in place: no temporary a column
        combined += code
    if rows is not None:
        combined = combined[rows]
    dense, first = first_order(combined)
    parts = []
    rest = first
    for _code, values in reversed(per_col):
        k = max(len(values), 1)
        parts.append(rest % k)
        rest = rest // k
    parts.reverse()
    keys = [tuple(per_col[i][1][int(parts[i][j])] for i in range(len(names))) for j in range(first.size)]
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
