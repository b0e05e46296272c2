"""The levers' working table: only the columns levers read, streamed from the engine in bounded batches.

A canonical workload row carries text the levers never read (request ids, tags, latency) and a `prefix` of
(hash string, tokens) pairs. Pulling it whole to memory cost about 1.7 KB a request. Here the engine streams
only the lever columns, with the segment hashes already hashed to 64-bit integers in the query, batch by
batch; strings become dictionary codes per batch, the segments one flat array of dense ids (encoded once
per workload and shared by every lever and step through `Prefixes`), and each row keeps `_row`, its index
in the workload, to find its prefix.
"""

from __future__ import annotations

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import engine
from ..workload import TOKEN_COLUMNS
from .cache.flat import Prefixes

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


def lever_table(table: ibis.Table, *, batch_rows: int = BATCH_ROWS) -> tuple[pa.Table, Prefixes]:
    """The lever columns of a canonical Ibis table (plus `_row`) and its prefixes, streamed in batches.

    Each batch is copied out of the engine's memory at once (a kept column would keep its whole batch, the
    segment lists and all, alive) and each column ends as one chunk, so every lever reads it without a copy."""
    table = _in_file_order(table)
    prefix = table.prefix
    expr = table.select(*COLUMNS, _seg=prefix.map(lambda s: s["hash"].hash()),
                        _tok=prefix.map(lambda s: s["tokens"]))
    cols: dict[str, list[pa.Array]] = {c: [] for c in COLUMNS}
    lengths: list[np.ndarray] = []
    segs: list[np.ndarray] = []
    toks: list[np.ndarray] = []
    schema = expr.schema().to_pyarrow()
    for b in expr.to_pyarrow_batches(chunk_size=batch_rows):
        for c in COLUMNS:
            arr = b.column(c)
            if c in STRINGS:
                arr = pc.dictionary_encode(arr.cast(pa.string()))
            else:
                arr = arr.cast(schema.field(c).type) if arr.type != schema.field(c).type else arr
                arr = pa.concat_arrays([arr])  # a copy: the batch's memory is freed with the batch
            cols[c].append(arr)
        seg = b.column("_seg")
        lengths.append(pc.fill_null(pc.list_value_length(seg), 0).to_numpy(zero_copy_only=False).astype(np.int64))
        segs.append(np.array(pc.fill_null(pc.list_flatten(seg), 0).to_numpy(zero_copy_only=False).view(np.uint64)))
        toks.append(pc.fill_null(pc.list_flatten(b.column("_tok")), 0).to_numpy(zero_copy_only=False)
                    .astype(np.int64))
        del b, seg
    arrays = {}
    for c in COLUMNS:
        typ = pa.dictionary(pa.int32(), pa.string()) if c in STRINGS else schema.field(c).type
        chunks = cols.pop(c)
        if not chunks:
            arrays[c] = pa.chunked_array([], type=typ)
        elif c in STRINGS:  # one dictionary, one chunk
            arrays[c] = pa.chunked_array([pa.chunked_array(chunks, type=typ).unify_dictionaries().combine_chunks()])
        else:
            arrays[c] = pa.chunked_array([pa.concat_arrays(chunks) if len(chunks) > 1 else chunks[0]])
        del chunks
    n = sum(len(x) for x in lengths)
    arrays["_row"] = pa.chunked_array([pa.array(np.arange(n, dtype=np.int64))])
    out = pa.table(arrays)
    length = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
    del lengths
    hashed = np.concatenate(segs) if segs else np.zeros(0, np.uint64)
    del segs
    # dense ids (1..k, first occurrence): equal hash, equal id, as `segment_ids` gives for hash strings
    dense = (pc.dictionary_encode(pa.array(hashed.view(np.int64))).indices.to_numpy(zero_copy_only=False)
             .astype(np.int64) + 1).astype(np.uint64) if hashed.size else np.zeros(0, np.uint64)
    del hashed
    starts = (np.cumsum(length) - length).astype(np.int64)
    tokens = np.maximum(np.concatenate(toks) if toks else np.zeros(0, np.int64), 0)
    return out, Prefixes(length, starts, dense, tokens)
