"""Build canonical workload tables from plain arrays (tests, the case study, benchmarks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from ..workload import PREFIX_TYPE, SCHEMA


def prefix_array(segments: Sequence[Sequence[tuple[str, int]] | None]) -> pa.Array:
    """A `prefix` column from Python lists of (hash, tokens) (None: no prefix)."""
    return pa.array([None if s is None else [{"hash": h, "tokens": int(k)} for h, k in s] for s in segments],
                    PREFIX_TYPE)


def prefix_from_csr(offsets: np.ndarray, hashes: pa.Array, tokens: np.ndarray) -> pa.Array:
    values = pa.StructArray.from_arrays([hashes, pa.array(tokens, pa.int64())], names=["hash", "tokens"])
    return pa.ListArray.from_arrays(pa.array(np.asarray(offsets, np.int32)), values, type=PREFIX_TYPE)


def canonical_table(n: int, **cols: Any) -> pa.Table:
    """A canonical table of n rows: given columns (arrays, lists or scalars), defaults for the rest."""
    defaults: dict[str, Any] = {
        "ts": np.arange(n, dtype=np.int64) * 1_000_000, "request_id": None, "call_type": "untagged",
        "model": None, "scope": "in-region", "region": "us-east-1", "tier": "standard",
        "input_tokens": 0, "cache_read_tokens": 0, "cache_write_5m_tokens": 0, "cache_write_1h_tokens": 0,
        "output_tokens": 0, "prefix": None, "latency_ms": None, "interactive": None, "tags": None,
    }
    unknown = set(cols) - set(defaults)
    if unknown:
        raise ValueError(f"unknown columns {sorted(unknown)}")
    arrays = []
    for f in SCHEMA:
        v = cols.get(f.name, defaults[f.name])
        if isinstance(v, pa.Array | pa.ChunkedArray):
            arr = v
        elif f.name == "ts":
            arr = pa.array(np.asarray(v, np.int64) if not np.isscalar(v) else np.full(n, v, np.int64),
                           pa.int64()).cast(f.type)
        elif f.name == "tags" and v is None:
            arr = pa.array([[] for _ in range(n)], f.type)
        elif f.name == "prefix" and v is not None and not isinstance(v, pa.Array):
            arr = prefix_array(v)
        elif isinstance(v, np.ndarray | list | tuple):
            arr = pa.array(list(v) if isinstance(v, tuple) else v, f.type)
        else:
            arr = pa.array([v] * n, f.type)
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=SCHEMA)
