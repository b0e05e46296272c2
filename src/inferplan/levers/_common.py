"""Helpers shared by the levers: columns as numpy, per-row prices from the catalog, tiny group-bys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..catalog import Catalog
from ..errors import MissingPriceError

TOKEN_COLS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens", "output_tokens")
PRICE_FIELDS = {"input": "input_usd_per_mtok", "output": "output_usd_per_mtok",
                "read": "cache_read_usd_per_mtok", "w5": "cache_write_5m_usd_per_mtok",
                "w1h": "cache_write_1h_usd_per_mtok"}


def col(t: pa.Table, name: str) -> np.ndarray:
    """A numeric column as numpy (nulls as 0)."""
    c = t.column(name)
    if pa.types.is_timestamp(c.type):
        c = c.cast(pa.int64())
    return pc.fill_null(c, 0).to_numpy(zero_copy_only=False)


def codes(t: pa.Table, *names: str) -> tuple[np.ndarray, list[tuple]]:
    """Dense integer code per row of the combination of string columns, with the distinct values."""
    if t.num_rows == 0:
        return np.zeros(0, np.int64), []
    parts = [pc.fill_null(t.column(n).cast(pa.string()), "") for n in names]
    joined = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "\x1f")
    enc = pc.dictionary_encode(joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined)
    values = [tuple(v.split("\x1f")) if len(names) > 1 else (v,) for v in enc.dictionary.to_pylist()]
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), values


def total_input(t: pa.Table) -> np.ndarray:
    return sum(col(t, c).astype(np.int64) for c in TOKEN_COLS[:4])


@dataclass
class RowPrices:
    """USD per token for each row (NaN where the catalog has no such price)."""

    input: np.ndarray
    output: np.ndarray
    read: np.ndarray
    w5: np.ndarray
    w1h: np.ndarray


def row_prices(t: pa.Table, catalog: Catalog, *, model: np.ndarray | None = None,
               tier: str | None = None) -> RowPrices:
    """Price rows per (model, scope, region, tier), looked up once per distinct key."""
    code, keys = codes(t, "model", "scope", "region", "tier")
    out = {k: np.full(len(keys), np.nan) for k in PRICE_FIELDS}
    for i, (m, s, r, tr) in enumerate(keys):
        if tr == "provisioned":
            continue
        try:
            p = catalog.price(m, s, r, tier or tr)
        except MissingPriceError:
            continue
        for k, f in PRICE_FIELDS.items():
            v = getattr(p, f)
            out[k][i] = np.nan if v is None else v / 1e6
    return RowPrices(**{k: v[code] for k, v in out.items()})


def input_cost(t: pa.Table, p: RowPrices) -> np.ndarray:
    """USD of the input side of each row as it is (nan-safe: a zero bucket costs 0 whatever its price)."""
    def term(c: str, rate: np.ndarray) -> np.ndarray:
        n = col(t, c).astype(np.float64)
        with np.errstate(invalid="ignore"):
            return np.where(n > 0, n * np.nan_to_num(rate, nan=np.inf), 0.0)

    return (term("input_tokens", p.input) + term("cache_read_tokens", p.read) + term("cache_write_tokens", p.w5)
            + term("cache_write_1h_tokens", p.w1h))


def replace_columns(t: pa.Table, cols: dict[str, Any]) -> pa.Table:
    """A copy of `t` with some columns replaced (same types)."""
    for name, values in cols.items():
        i = t.schema.get_field_index(name)
        typ = t.schema.field(name).type
        arr = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values, typ)
        t = t.set_column(i, name, arr.cast(typ) if arr.type != typ else arr)
    return t
