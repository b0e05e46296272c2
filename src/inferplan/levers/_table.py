"""The levers' working table: only the columns levers read, streamed from the engine in bounded batches.

A canonical workload row carries text the levers never read (request ids, tags, latency) and a `prefix` of
(hash string, tokens) pairs. Pulling it whole to memory cost about 1.7 KB a request. Here the engine streams
only the lever columns, batch by batch: strings as integer codes, the segment hashes already hashed to
64-bit ids in the query (one flat array per workload, shared by every lever and step through `Prefixes`),
and each row keeps `_row`, its index in the workload, to find its prefix.
"""

from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import engine
from ..workload import TOKEN_COLUMNS
from .cache.flat import Prefixes
from .cache.flat import narrow as narrow_ints

STRINGS = ("call_type", "model", "scope", "region", "tier")
COLUMNS = ("ts", *STRINGS, *TOKEN_COLUMNS, "interactive")
BATCH_ROWS = 1 << 20


def _in_file_order(table: ibis.Table) -> ibis.Table:
    """A table the readers resolved (a join of the logged model ids to catalog models: a parallel join does
    not keep the rows' order), as the table before resolution with the ids mapped in place: the same rows in
    the input's order, so position-seeded levers (routing) give the same answer on every run. Other tables
    as they are."""
    found = engine.rewrites.find(("resolved", table.op()))
    if found is None:
        return table
    pre, resolved, _ = found
    ids = dict(resolved)
    model = pre.model.substitute({i: r.model for i, r in ids.items()}, else_=ibis.null("string"))
    scope = pre.scope.fill_null(pre.model.substitute({i: r.scope for i, r in ids.items()}, else_=ibis.null("string")))
    return pre.mutate(model=model, scope=scope).select(*table.columns)


def _scan(table: ibis.Table) -> tuple[dict[str, list[str]], set[str]]:
    """One aggregate in the engine, grouped by the string lever columns: their distinct non-null values, sorted
    (the dictionaries of the lever table), and the token columns whose every value fits 32 bits (held as int32,
    half the memory of the canonical int64: a request's tokens are far below 2^31; a column that does not fit
    stays int64, and a lever's result that would not fit is an arrow cast error, never a wrapped count)."""
    agg = table.group_by(list(STRINGS)).aggregate(
        **{f"{c}_{f}": getattr(table[c], f)() for c in TOKEN_COLUMNS for f in ("min", "max")}).to_pyarrow()
    values = {c: sorted(v for v in set(agg.column(c).to_pylist()) if v is not None) for c in STRINGS}
    lo, hi = -(2**31), 2**31 - 1
    narrow = set()
    for c in TOKEN_COLUMNS:
        mins = [v for v in agg.column(f"{c}_min").to_pylist() if v is not None]
        maxes = [v for v in agg.column(f"{c}_max").to_pylist() if v is not None]
        if min(mins, default=0) >= lo and max(maxes, default=0) <= hi:
            narrow.add(c)
    return values, narrow


def _code(column: ibis.Value, values: list[str]) -> ibis.Value:
    """A string column as its index in `values` (null: `len(values)`), computed in the engine by a CASE over
    the few values (portable): integers cross to Python, not a string per row."""
    if not values:
        return ibis.literal(0, "int32")
    return column.substitute({v: i for i, v in enumerate(values)}, else_=ibis.literal(len(values), "int32")
                             ).cast("int32")


def lever_table(table: ibis.Table, *, batch_rows: int = BATCH_ROWS) -> tuple[pa.Table, Prefixes]:
    """The lever columns of a canonical Ibis table (plus `_row`) and its prefixes, streamed in batches.

    String columns arrive as integer codes (the dictionaries from one distinct query), the prefix lists as
    64-bit hashes and tokens read straight from each batch's list buffers; every batch is copied to numpy at
    once (a kept arrow column would keep its whole batch, the segment lists and all, alive) and each column
    ends as one chunk, so every lever reads it without a copy."""
    table = _in_file_order(table)
    values, narrow = _scan(table)
    prefix = table.prefix
    nums = [c for c in COLUMNS if c not in STRINGS]
    expr = table.select(*nums, **{c: _code(table[c], values[c]) for c in STRINGS},
                        _seg=prefix.map(lambda s: s["hash"].hash()), _tok=prefix.map(lambda s: s["tokens"]))
    schema = expr.schema().to_pyarrow()
    cols: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    lengths: list[np.ndarray] = []
    segs: list[np.ndarray] = []
    toks: list[np.ndarray] = []
    for b in expr.to_pyarrow_batches(chunk_size=batch_rows):
        for c in nums:  # a copy: the batch's memory is freed with the batch
            arr = b.column(c)
            typ = pa.int32() if c in narrow else schema.field(c).type
            cols[c].append(pa.concat_arrays([arr.cast(typ) if arr.type != typ else arr]))
        for c in STRINGS:
            cols[c].append(b.column(c).to_numpy(zero_copy_only=False).astype(np.int32))
        for name, out, dtype in (("_seg", segs, np.uint64), ("_tok", toks, np.int64)):
            lst = b.column(name)
            flat = pc.list_flatten(lst)  # the values of valid lists only
            vals = (pc.fill_null(flat, 0) if flat.null_count else flat).to_numpy(zero_copy_only=False)
            if dtype is np.uint64:
                out.append(np.array(vals.view(np.uint64), np.uint64))
            elif vals.size:  # tokens: clamped at 0, 32 bits where this batch's fit (one concatenation widens)
                out.append(narrow_ints(np.maximum(vals, 0).astype(np.int64, copy=False)))
            if name == "_seg":
                lengths.append(pc.fill_null(pc.list_value_length(lst), 0).to_numpy(zero_copy_only=False)
                               .astype(np.int32))  # segments per request
        del b
    arrays: dict[str, pa.ChunkedArray] = {}
    for c in COLUMNS:
        chunks = cols.pop(c)
        if c in STRINGS:
            code = np.concatenate(chunks) if chunks else np.zeros(0, np.int32)
            dictionary = pa.array(values[c], pa.string())
            null = code >= len(dictionary)  # the CASE's else: a null value
            indices = pa.array(code, pa.int32(), mask=null if null.any() else None)
            arrays[c] = pa.chunked_array([pa.DictionaryArray.from_arrays(indices, dictionary)])
        elif not chunks:
            arrays[c] = pa.chunked_array([], type=pa.int32() if c in narrow else schema.field(c).type)
        else:
            arrays[c] = pa.chunked_array([pa.concat_arrays(chunks) if len(chunks) > 1 else chunks[0]])
        del chunks
    n = sum(len(x) for x in lengths)
    arrays["_row"] = pa.chunked_array([pa.array(np.arange(n, dtype=np.int32 if n < 2**31 else np.int64))])
    out = pa.table(arrays)
    length = np.concatenate(lengths) if lengths else np.zeros(0, np.int32)
    del lengths
    # the engine's 64-bit hash of each segment's hash string is its id (equal text, equal id; two texts share
    # one with probability about n^2 / 2^65, as chain keys do): no pass over the elements to renumber them
    seg = np.concatenate(segs) if segs else np.zeros(0, np.uint64)
    del segs
    # every element position fits 32 bits (not only every start): starts in 32 bits, summed in place
    starts = np.cumsum(length, dtype=np.int32 if int(length.sum(dtype=np.int64)) < 2**31 else np.int64)
    starts -= length
    tokens = np.concatenate(toks) if toks else np.zeros(0, np.int64)
    return out, Prefixes(length, starts, seg, tokens)
