"""The levers' working table: only the columns levers read, streamed from the engine in bounded batches.

A canonical workload row carries text the levers never read (request ids, tags, latency) and a `prefix` of
(hash string, tokens) pairs. Pulling it whole to memory cost about 1.7 KB a request. Here the engine streams
only the lever columns, batch by batch: strings as integer codes, the segment hashes already hashed to
64-bit ids in the query (one flat array per workload, shared by every lever and step through `Prefixes`),
and each row keeps `_row`, its index in the workload, to find its prefix.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import ibis
import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import engine
from ..errors import InputError
from ..workload import TOKEN_COLUMNS
from .cache.flat import Prefixes
from .cache.flat import narrow as narrow_ints

STRINGS = ("call_type", "model", "scope", "region", "tier")
COLUMNS = ("ts", *STRINGS, *TOKEN_COLUMNS, "interactive")
BATCH_ROWS = 1 << 20


def in_file_order(table: ibis.Table) -> ibis.Table:
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


def _lists(seg: np.ndarray, lst: pa.Array, tok: pa.Array, lengths: list[np.ndarray], segs: list[np.ndarray],
           toks: list[np.ndarray]) -> None:
    """One batch's segment ids (flat), tokens (`tok`, flat) and its segments per request (`lst`) appended."""
    segs.append(seg)
    vals = (pc.fill_null(tok, 0) if tok.null_count else tok).to_numpy(zero_copy_only=False)
    if vals.size:  # tokens: clamped at 0, 32 bits where this batch's fit (one concatenation widens)
        toks.append(narrow_ints(np.maximum(vals, 0).astype(np.int64, copy=False)))
    lengths.append(pc.fill_null(pc.list_value_length(lst), 0).to_numpy(zero_copy_only=False)
                   .astype(np.int32))  # segments per request


_NULL_ID = np.uint64(0x6A09E667F3BCC909)  # the id of a null hash string (all nulls equal, as the engine's hash)


@numba.njit(cache=True, nogil=True)  # nogil: the engine's stream runs beside it (`lever_table`)
def _hash_strings(offsets: np.ndarray, data: np.ndarray, valid: np.ndarray, out: np.ndarray) -> None:
    """A 64-bit id per string (equal text, equal id): its bytes eight at a time (little-endian words, the last
    one zero-padded; the length seeds the state, so padding cannot make two texts equal), each word xored in,
    rotated and multiplied by an odd constant (for a given state, distinct words give distinct states), then
    splitmix64's finaliser. One multiply per eight bytes: 20 ms against FNV-1a's 33 ms (a multiply per byte)
    for 2.4M 16-character hashes, warm."""
    for i in range(out.size):
        if not valid[i]:
            out[i] = _NULL_ID
            continue
        lo, hi = offsets[i], offsets[i + 1]
        x = np.uint64(0xCBF29CE484222325) ^ (np.uint64(hi - lo) * np.uint64(0x9E3779B97F4A7C15))
        j = lo
        while j < hi:
            if j + 8 <= hi:  # a whole word (the compiler makes the eight byte loads one load)
                w = (np.uint64(data[j]) | (np.uint64(data[j + 1]) << np.uint64(8))
                     | (np.uint64(data[j + 2]) << np.uint64(16)) | (np.uint64(data[j + 3]) << np.uint64(24))
                     | (np.uint64(data[j + 4]) << np.uint64(32)) | (np.uint64(data[j + 5]) << np.uint64(40))
                     | (np.uint64(data[j + 6]) << np.uint64(48)) | (np.uint64(data[j + 7]) << np.uint64(56)))
            else:  # the last bytes, zero-padded
                w = np.uint64(0)
                for k in range(hi - j):
                    w |= np.uint64(data[j + k]) << np.uint64(8 * k)
            x ^= w
            x = ((x << np.uint64(29)) | (x >> np.uint64(35))) * np.uint64(0xD6E8FEB86659FD93)
            j += 8
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        out[i] = x ^ (x >> np.uint64(31))


def _ids(hashes: pa.Array) -> np.ndarray:
    """The id of each hash string (`_hash_strings` over the arrow buffers, no string made in Python)."""
    if not (pa.types.is_string(hashes.type) or pa.types.is_large_string(hashes.type)):
        hashes = hashes.cast(pa.string())
    out = np.empty(len(hashes), np.uint64)
    if not len(hashes):
        return out
    width = np.int64 if pa.types.is_large_string(hashes.type) else np.int32
    bufs = hashes.buffers()
    offsets = np.frombuffer(bufs[1], width)[hashes.offset:hashes.offset + len(hashes) + 1]
    data = np.frombuffer(bufs[2], np.uint8) if bufs[2] is not None else np.zeros(1, np.uint8)
    valid = (np.ones(len(hashes), np.bool_) if not hashes.null_count
             else pc.is_valid(hashes).to_numpy(zero_copy_only=False))
    _hash_strings(offsets, data, valid, out)
    return out


def _prefix_batches(path: str, f: pq.ParquetFile, batch_rows: int) -> Iterator[pa.RecordBatch | pa.Table]:
    """The file's `prefix` column in order: row groups of at most 2 batches decoded two at a time (one per core;
    nested lists decode on one thread each), a larger row group batch by batch."""
    meta = f.metadata
    if meta.num_row_groups < 2 or max(meta.row_group(i).num_rows for i in range(meta.num_row_groups)) > 2 * batch_rows:
        yield from f.iter_batches(batch_size=batch_rows, columns=["prefix"])
        return

    def read(i: int) -> pa.Table:
        return pq.ParquetFile(path).read_row_group(i, columns=["prefix"], use_threads=False)

    with ThreadPoolExecutor(2) as pool:
        pending = [pool.submit(read, i) for i in range(min(2, meta.num_row_groups))]
        for i in range(meta.num_row_groups):
            part = pending.pop(0).result()
            if i + 2 < meta.num_row_groups:  # two in flight: memory bounded by three row groups
                pending.append(pool.submit(read, i + 2))
            yield part
            del part


def _file_lists(path: str, batch_rows: int, lengths: list[np.ndarray], segs: list[np.ndarray],
                toks: list[np.ndarray], stop: threading.Event | None = None) -> int:
    """The fast path (`engine.file_rows`): the `prefix` lists of a file whose rows the table is, read by
    pyarrow batch by batch, the hash strings given ids by `_hash_strings` (a struct that is null, or has a null
    hash, is a segment with a null hash, as in the engine's lists). Returns the rows read (the caller checks
    them against the table's); once `stop` is set (the caller failed), it stops at the next part."""
    f = pq.ParquetFile(path)
    if "prefix" not in f.schema_arrow.names:
        lengths.append(np.zeros(f.metadata.num_rows, np.int32))
        return f.metadata.num_rows
    seen = 0
    for b in _prefix_batches(path, f, batch_rows):
        if stop is not None and stop.is_set():
            break
        lst = b.column(0)
        if isinstance(lst, pa.ChunkedArray):
            lst = lst.chunk(0) if lst.num_chunks == 1 else lst.combine_chunks()
        flat = pc.list_flatten(lst)  # the values of valid lists only
        _lists(_ids(pc.struct_field(flat, "hash")), lst, pc.struct_field(flat, "tokens"), lengths, segs, toks)
        seen += b.num_rows
        del b, lst, flat  # before the next row group is asked for: memory bounded by three in flight
    return seen


def _file_lists_retried(path: str, batch_rows: int, lengths: list[np.ndarray], segs: list[np.ndarray],
                        toks: list[np.ndarray], stop: threading.Event | None = None) -> int:
    """`_file_lists`, read again in batches of an eighth the rows while arrow cannot decode a part whole (a
    nested column past 2 GiB of text in one row group or batch: "nested data conversions not implemented for
    chunked array outputs"), down to 1,024 rows a batch; then the error, naming the file."""
    while True:
        try:
            return _file_lists(path, batch_rows, lengths, segs, toks, stop)
        except (pa.ArrowNotImplementedError, pa.ArrowCapacityError) as e:
            for part in (lengths, segs, toks):
                part.clear()
            if batch_rows <= 1024:
                raise InputError(f"{path}: its `prefix` lists cannot be decoded even 1,024 rows at a time ({e}); "
                                  "rewrite the file with smaller row groups") from e
            batch_rows = max(1024, batch_rows // 8)


def lever_table(table: ibis.Table, *, batch_rows: int = BATCH_ROWS) -> tuple[pa.Table, Prefixes]:
    """The lever columns of a canonical Ibis table (plus `_row`) and its prefixes, streamed in batches.

    String columns arrive as integer codes (the dictionaries from one distinct query), the prefix lists as
    64-bit hashes and tokens read straight from each batch's list buffers; every batch is copied to numpy at
    once (a kept arrow column would keep its whole batch, the segment lists and all, alive) and each column
    ends as one chunk, so every lever reads it without a copy."""
    path = engine.file_rows(table)
    table = in_file_order(table)
    values, narrow = _scan(table)
    prefix = table.prefix
    nums = [c for c in COLUMNS if c not in STRINGS]
    lists = {} if path else {"_seg": prefix.map(lambda s: s["hash"].hash()), "_tok": prefix.map(lambda s: s["tokens"])}
    expr = table.select(*nums, **{c: _code(table[c], values[c]) for c in STRINGS}, **lists)
    schema = expr.schema().to_pyarrow()
    cols: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    lengths: list[np.ndarray] = []
    segs: list[np.ndarray] = []
    toks: list[np.ndarray] = []
    rows = 0
    # the fast path: the same lists read from the file by pyarrow (and hashed) while the engine streams the rest
    stop = threading.Event()  # set if the stream fails: the file's thread stops at its next part
    with ThreadPoolExecutor(1) as pool:
        from_file = pool.submit(_file_lists_retried, path, batch_rows, lengths, segs, toks, stop) if path else None
        try:
            for b in expr.to_pyarrow_batches(chunk_size=batch_rows):
                for c in nums:  # a copy: the batch's memory is freed with the batch
                    arr = b.column(c)
                    typ = pa.int32() if c in narrow else schema.field(c).type
                    cols[c].append(pa.concat_arrays([arr.cast(typ) if arr.type != typ else arr]))
                for c in STRINGS:
                    cols[c].append(b.column(c).to_numpy(zero_copy_only=False).astype(np.int32))
                if not path:  # the values of valid lists only
                    seg = pc.list_flatten(b.column("_seg"))
                    ids = np.array((pc.fill_null(seg, 0) if seg.null_count else seg).to_numpy(zero_copy_only=False)
                                   .view(np.uint64), np.uint64)
                    _lists(ids, b.column("_seg"), pc.list_flatten(b.column("_tok")), lengths, segs, toks)
                rows += b.num_rows
                del b
                if from_file is not None and from_file.done() and from_file.exception() is not None:
                    break  # the file's error, raised below, without streaming the rest first
        except BaseException:
            stop.set()
            raise
        seen = from_file.result() if from_file is not None else rows
    if seen != rows:  # the readers said the table is the file's rows: a bug if not, never silently wrong ids
        raise RuntimeError(f"{path}: {seen} rows, but the table read from it has {rows}")
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
    n = rows
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


@dataclass
class LeverTable:
    """A workload's lever table and its prefixes (`lever_table`), read once and shared by the levers and the
    plan's other readers of the traffic (`with_prefix`): never the canonical table pulled whole to memory."""

    table: pa.Table
    prefixes: Prefixes

    @classmethod
    def read(cls, table: ibis.Table, *, batch_rows: int = BATCH_ROWS) -> LeverTable:
        return cls(*lever_table(table, batch_rows=batch_rows))

    def with_prefix(self) -> pa.Table:
        """The lever table with a canonical-shaped `prefix` column (a list of (hash, tokens) per request) made
        from the shared arrays without a copy: each segment's 64-bit id stands for its hash string (equal text,
        equal id, as every lever compares them) and its tokens as the levers read them (at least 0); a request
        without segments has an empty list. What the advisor, the cache curve and the model levers read, at
        about 60 bytes a request instead of the canonical table's 1.7 KB."""
        p = self.prefixes
        n = self.table.num_rows
        if n and not np.array_equal(self.table.column("_row").to_numpy(), np.arange(n)):
            raise ValueError("with_prefix needs the lever table in workload order (its `_row` 0, 1, 2, ...)")
        lengths = np.asarray(p.lengths)
        total = int(lengths.sum(dtype=np.int64))
        wide = total >= 2**31
        offsets = np.empty(n + 1, np.int64 if wide else np.int32)
        offsets[:n] = p.starts
        offsets[n] = total
        values = pa.StructArray.from_arrays([pa.array(p.seg[:total]), pa.array(p.tokens[:total])],
                                            names=["hash", "tokens"])
        make = pa.LargeListArray if wide else pa.ListArray
        lists = make.from_arrays(pa.array(offsets), values)
        return self.table.append_column("prefix", lists)
