"""Arrow assembly of drawn columns: the canonical raw table, its strings per call type or per distinct segment.

Strings (ids, prefixes, tags) are built in bulk into Arrow buffers in chunks of rows, never per request in
Python; `to_workload` turns the raw table into a canonical `Workload`.
"""

from __future__ import annotations

import hashlib
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..workload import PREFIX_TYPE, Defaults, Workload, finalize, validate
from .spec import TrafficSpec

_DICT = pa.dictionary(pa.int32(), pa.string())
RAW_SCHEMA = pa.schema([
    ("ts", pa.timestamp("us", tz="UTC")), ("request_id", pa.string()), ("call_type", _DICT),
    ("model_id", _DICT), ("region", _DICT), ("tier", _DICT), ("input_tokens", pa.int64()),
    ("cache_read_tokens", pa.int64()), ("cache_write_5m_tokens", pa.int64()), ("cache_write_1h_tokens", pa.int64()),
    ("output_tokens", pa.int64()), ("prefix", PREFIX_TYPE), ("latency_ms", pa.float64()),
    ("interactive", pa.bool_()), ("tags", pa.map_(pa.string(), pa.string())),
])
_CHUNK = 1 << 22  # rows per chunk of the string and list columns (keeps 32-bit offsets small)


def _dictionary(values: list[Any], cti: np.ndarray) -> pa.DictionaryArray:
    """A dictionary array: call type i's value, for int32 codes `cti` (values deduplicated; the codes array is
    shared when the values are distinct)."""
    uniq = list(dict.fromkeys(values))
    if len(uniq) == len(values):
        idx = cti
    elif len(uniq) == 1:
        idx = np.zeros(cti.size, np.int32)
    else:
        idx = np.array([uniq.index(v) for v in values], np.int32)[cti]
    return pa.DictionaryArray.from_arrays(pa.array(idx), pa.array(uniq, pa.string()))


def assemble(spec: TrafficSpec, names: list[str], ts: np.ndarray, cti: np.ndarray, c: dict[str, Any],
              seed: int, with_prefix: bool) -> pa.Table:
    """Arrow columns from the numeric ones; strings only per call type or per distinct prefix segment."""
    n = ts.size
    ct_of = [spec.call_types[nm] for nm in names]
    write = c["write"]
    if any(x.cache == "1h" for x in ct_of):
        one_h = np.array([x.cache == "1h" for x in ct_of])[cti]
        write, write_1h = np.where(one_h, 0, write), np.where(one_h, write, 0)
    else:
        write_1h = np.zeros(n, np.int64)
    input_tokens = c["total_in"]
    if any(x.cache != "none" for x in ct_of):
        input_tokens -= c["read"]
        input_tokens -= c["write"]
    chunks = [(a, min(a + _CHUNK, n)) for a in range(0, n, _CHUNK)] or [(0, 0)]
    codes = cti.astype(np.int32)
    if with_prefix:
        own_tag = np.frombuffer(hashlib.blake2b(f"syn-own/{seed}".encode(), digest_size=3).hexdigest().encode(),
                                np.uint8)
        pool16 = np.frombuffer("".join(c["pool"]).encode() or b"\0" * 16, "V16")
        prefix = pa.chunked_array([_prefix_chunk(c, cti, pool16, own_tag, a, b) for a, b in chunks],
                                  PREFIX_TYPE)
    else:
        prefix = pa.nulls(n, PREFIX_TYPE)
    cols = {
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "request_id": pa.chunked_array([_request_ids(f"syn-{seed}-", a, b) for a, b in chunks], pa.string()),
        "call_type": _dictionary(names, codes),
        "model_id": _dictionary([x.model for x in ct_of], codes),
        "region": _dictionary([x.region or spec.region for x in ct_of], codes),
        "tier": _dictionary([x.tier for x in ct_of], codes),
        "input_tokens": pa.array(input_tokens),
        "cache_read_tokens": pa.array(c["read"]),
        "cache_write_5m_tokens": pa.array(write),
        "cache_write_1h_tokens": pa.array(write_1h),
        "output_tokens": pa.array(c["out"]),
        "prefix": prefix,
        "latency_ms": pa.nulls(n, pa.float64()),
        "interactive": pa.array(np.array([x.interactive for x in ct_of])[cti]),
        "tags": pa.chunked_array([_tags_chunk([x.tags for x in ct_of], cti[a:b]) for a, b in chunks],
                                 RAW_SCHEMA.field("tags").type),
    }
    return pa.table(cols, schema=RAW_SCHEMA)


def _prefix_chunk(c: dict[str, Any], cti: np.ndarray, pool16: np.ndarray, own_tag: np.ndarray, a: int,
                  b: int) -> pa.Array:
    """Segments of requests a..b: each applied shared stage (its hash depends on the call type, the stage and
    the chain of variants up to it, so equal hashes mean an equal prefix), then the request's own part, with a
    hash unique to the request (16 characters like the shared ones: 6 hex digits from the seed, then the row
    number in 10 decimal digits). Built from flat arrays: the hash strings
    are 16 bytes each, copied from the distinct segments' hashes, never one Python string per request."""
    napplied = c["napplied"][a:b]
    hid, stage_tok, code = [x[a:b] for x in c["hid"]], c["stage_tok"], cti[a:b]
    m = b - a
    offsets = np.empty(m + 1, np.int32)
    offsets[0] = 0
    np.cumsum(napplied, out=offsets[1:], dtype=np.int32)
    offsets[1:] += np.arange(1, m + 1, dtype=np.int32)
    s = int(offsets[-1])
    h = np.empty(s, "V16")  # 16 bytes a segment: its hash's characters
    tok = np.empty(s, np.int64)
    for j, ids in enumerate(hid):
        r = np.flatnonzero(napplied > j)
        pos = offsets[r]
        pos += j
        h[pos] = pool16[ids[r]]
        tok[pos] = stage_tok[code[r], j]
    last = offsets[1:] - 1
    own = np.empty((m, 16), np.uint8)
    own[:, :6] = own_tag
    _decimal_into(own[:, 6:], a)
    h[last] = own.view("V16").reshape(-1)
    tok[last] = c["own"][a:b]
    hashes = pa.StringArray.from_buffers(s, pa.py_buffer(np.arange(0, 16 * s + 1, 16, dtype=np.int32)),
                                         pa.py_buffer(h))
    values = pa.StructArray.from_arrays([hashes, pa.array(tok)], names=["hash", "tokens"])
    return pa.ListArray.from_arrays(pa.array(offsets), values, type=PREFIX_TYPE)


_DIGITS3 = np.frombuffer("".join(f"{x:03d}" for x in range(1000)).encode(), np.uint8).reshape(1000, 3)


def _decimal_into(out: np.ndarray, lo: int) -> None:
    """Write the d decimal digits of lo, lo+1, ... (all d digits long) into the rows of `out` (n, d)."""
    n, d = out.shape
    if d > 3 and n >= 4000:  # blocks of 1000: the last 3 digits cycle, the others are constant per block
        a0 = -(-lo // 1000) * 1000
        blocks = (lo + n - a0) // 1000
        _decimal_into(out[:a0 - lo], lo)
        mid = out[a0 - lo:a0 - lo + blocks * 1000].reshape(blocks, 1000, d)
        head = np.empty((blocks, d - 3), np.uint8)
        _decimal_into(head, a0 // 1000)
        mid[:, :, :d - 3] = head[:, None, :]
        mid[:, :, d - 3:] = _DIGITS3[None]
        _decimal_into(out[a0 - lo + blocks * 1000:], a0 + blocks * 1000)
        return
    x = np.arange(lo, lo + n, dtype=np.int64)
    for col in range(d - 1, -1, -1):
        out[:, col] = x % 10 + 48
        x //= 10


def _request_ids(prefix: str, a: int, b: int) -> pa.Array:
    """`prefix` + the decimal row number, for rows a..b, built as bytes (rows with d digits are contiguous)."""
    pre = np.frombuffer(prefix.encode(), np.uint8)
    groups = []
    d = 1
    while a < b:
        hi = min(b, 10**d)
        if a < hi:
            groups.append((a, hi, pre.size + d))
            a = hi
        d += 1
    n = sum(hi - lo for lo, hi, _ in groups)
    offsets = np.empty(n + 1, np.int32)
    offsets[0] = 0
    data = np.empty(sum((hi - lo) * w for lo, hi, w in groups), np.uint8)
    row = at = 0
    for lo, hi, w in groups:
        g = hi - lo
        mat = data[at:at + g * w].reshape(g, w)
        mat[:, :pre.size] = pre
        _decimal_into(mat[:, pre.size:], lo)
        offsets[row + 1:row + 1 + g] = np.arange(at + w, at + w * g + 1, w, dtype=np.int32)
        row, at = row + g, at + g * w
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def _strings(values: list[str]) -> tuple[bytes, np.ndarray]:
    raw = [v.encode() for v in values]
    return b"".join(raw), np.array([len(x) for x in raw], np.int32)


def _tags_chunk(per_type: list[dict[str, str]], cti: np.ndarray) -> pa.Array:
    """Each row gets its call type's tags (a map), built without a Python loop over rows."""
    typ = RAW_SCHEMA.field("tags").type
    m = cti.size
    if all(t == per_type[0] for t in per_type):  # the common case: one tag set, a tiled pattern
        t = per_type[0]
        e = len(t)
        children = []
        for strs in (list(t), list(t.values())):
            data, lens = _strings(strs)
            unit = np.zeros(e, np.int32)
            np.cumsum(lens[:-1], out=unit[1:])
            offs = np.empty(m * e + 1, np.int32)
            offs[:-1] = (np.arange(m, dtype=np.int32)[:, None] * len(data) + unit[None, :]).reshape(-1)
            offs[-1] = m * len(data)
            children.append(pa.StringArray.from_buffers(m * e, pa.py_buffer(offs),
                                                        pa.py_buffer(np.tile(np.frombuffer(data, np.uint8), m))))
        offsets = pa.array(np.arange(0, m * e + 1, e, dtype=np.int32) if e else np.zeros(m + 1, np.int32))
        return pa.MapArray.from_arrays(offsets, children[0], children[1], type=typ)
    sizes = np.array([len(t) for t in per_type], np.int64)
    keys = pa.array([k for t in per_type for k in t], pa.string())
    vals = pa.array([v for t in per_type for v in t.values()], pa.string())
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    counts = sizes[cti]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    # index of each flattened entry: start of its type's block + position within it
    pos = np.arange(offsets[-1]) - np.repeat(offsets[:-1], counts)
    idx = pa.array(np.repeat(starts[cti], counts) + pos)
    return pa.MapArray.from_arrays(pa.array(offsets), pc.take(keys, idx), pc.take(vals, idx), type=typ)


def to_workload(table: pa.Table, catalog: Any, *, source: str = "synthetic") -> Workload:
    """A generated table as a canonical, validated Workload (model ids resolved through the catalog)."""
    canon = finalize(ibis.memtable(table), catalog, Defaults(), source=source)
    canon, _ = validate(canon, source=source)
    return Workload(table=canon, sources=[source], notes=[f"synthetic traffic: {table.num_rows:,} requests"])
