"""Dictionary codes of string columns: the per-row work stays in arrow/numpy, only distinct values become Python
objects. Shared by the rate card (`pricing.request_rates`) and the levers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def encode(t: pa.Table | pa.Array | pa.ChunkedArray, name: str | None = None) -> tuple[np.ndarray, list[Any]]:
    """A string column as (int64 code per row, distinct values): dictionary encoding, nulls kept as a value
    (None), codes in order of first occurrence. A dictionary-typed column is recoded from its integer indices
    (its strings are never materialised per row)."""
    c = t.column(name) if name is not None else t
    if len(c) == 0:
        return np.zeros(0, np.int64), []
    if isinstance(c, pa.ChunkedArray):
        c = c.combine_chunks()
    if pa.types.is_dictionary(c.type):
        values = [*c.dictionary.to_pylist(), None]
        raw = pc.fill_null(c.indices.cast(pa.int64()), len(values) - 1)
        enc = pc.dictionary_encode(raw)  # first occurrence, on integers
        distinct = [values[i] for i in enc.dictionary.to_pylist()]
        if len(set(distinct)) == len(distinct):
            return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), distinct
        c = c.cast(c.type.value_type)  # a dictionary with repeated values: encode the strings
    enc = pc.dictionary_encode(c, null_encoding="encode")
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), enc.dictionary.to_pylist()
