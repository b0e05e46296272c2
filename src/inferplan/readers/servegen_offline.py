"""Alibaba's offline JSON-lines traces with block hashes (`qwen_traceA_blksz_16.jsonl`, ... from
github.com/alibaba-edu/qwen-bailian-usagetraces-anon, the Qwen/Bailian release that goes with ServeGen and
"KVCache in the wild"; ServeGen's own repository ships only rate and dataset files, see `servegen`).

One request a line: `chat_id`, `parent_chat_id` (-1 for a conversation's first turn), `timestamp` (seconds since
the trace start, a float), `input_length`, `output_length`, `type` (text/search/image/file), `turn`,
`hash_ids` (salted hashes of 16-token prefix blocks; equal ids = equal prefix; the block size is in the file
name, `blksz_16`). Told from Mooncake (512-token blocks, milliseconds, no `chat_id`) by `chat_id`.

`prefix` lists the blocks as segments `sg<id>` of the block size, the last one holding what remains of the
input. Times are offsets from `ReadOptions.trace_start`; `request_id` is `sg-<chat_id>`; the call type is
`type`; `turn`, `chat_id` and `parent_chat_id` go into tags. The trace has no model: `--model`.
"""

from __future__ import annotations

import re
from pathlib import Path

import ibis

from ._jsonl import collect, json_int, lines_sql
from .base import InputFile, Raw, ReadOptions

NAME = "servegen-offline"
BLOCK = 16
READ_AS = "an Alibaba/ServeGen offline trace: chat_id, timestamp in seconds, hash_ids of {} -token blocks"


def sniff(path: InputFile, head: bytes) -> bool:
    return b'"hash_ids"' in head and b'"chat_id"' in head and b'"input_length"' in head


def _int(field: str) -> str:
    return json_int(f"json_extract(j, '$.{field}')")


def block_size(path: Path) -> int:
    m = re.search(r"blksz_([0-9]+)", path.name)
    return int(m.group(1)) if m and int(m.group(1)) > 0 else BLOCK


def read(paths: list[InputFile], options: ReadOptions) -> Raw:
    start = options.trace_start.isoformat()
    parts, skipped, sizes = [], {}, set()
    for f in paths:
        block = block_size(f)
        sizes.add(block)
        query = f"""
        WITH l AS ({lines_sql([f])}),
        v AS (SELECT *, TRY_CAST(json_extract_string(j, '$.timestamp') AS DOUBLE) AS _t,
          {_int('input_length')} AS _in, {_int('output_length')} AS _out, {_int('chat_id')} AS _chat,
          {_int('parent_chat_id')} AS _parent, {_int('turn')} AS _turn,
          TRY_CAST(json_extract(j, '$.hash_ids') AS BIGINT[]) AS _h FROM l)
        SELECT _file, _line,
          CASE WHEN NOT _valid THEN 'invalid JSON (truncated or malformed record)'
            WHEN json_type(j, '$.timestamp') NOT IN ('BIGINT', 'UBIGINT', 'DOUBLE') OR _t IS NULL
              THEN 'timestamp missing or not a number'
            WHEN _t < 0 OR _t > 3.15e9 THEN 'timestamp not seconds in range (0 to 100 years)'
            WHEN _in IS NULL THEN 'input_length missing or not an integer'
            WHEN _out IS NULL THEN 'output_length missing or not an integer'
            WHEN _in < 0 OR _out < 0 THEN 'negative value'
            WHEN _chat IS NULL THEN 'chat_id missing or not an integer'
            WHEN _h IS NULL THEN 'hash_ids missing or not a list of integers' END AS _reason,
          TIMESTAMPTZ '{start}' + to_microseconds(CAST(round(_t * 1e6) AS BIGINT)) AS ts,
          'sg-' || _chat::VARCHAR AS request_id, coalesce(json_extract_string(j, '$.type'), 'untagged') AS call_type,
          _in AS input_tokens, _out AS output_tokens,
          list_transform(range(1, len(_h) + 1), lambda i: {{'hash': 'sg' || _h[i]::VARCHAR,
            'tokens': greatest(0, least({block}, _in - {block} * (i - 1)))::BIGINT}}) AS prefix,
          map_from_entries(list_filter([{{'key': 'turn', 'value': _turn::VARCHAR}},
            {{'key': 'chat_id', 'value': _chat::VARCHAR}}, {{'key': 'parent_chat_id', 'value': _parent::VARCHAR}}],
            lambda e: e.value IS NOT NULL)) AS tags
        FROM v"""
        cols = ["ts", "request_id", "call_type", "input_tokens", "output_tokens", "prefix", "tags"]
        t, bad = collect(query, cols, options.on_error, "servegen offline", read_as=READ_AS.format(block))
        parts.append(t)
        for k, v in bad.items():
            skipped[k] = skipped.get(k, 0) + v
    table = parts[0] if len(parts) == 1 else ibis.union(*parts)
    return Raw(table=table, skipped=skipped,
               notes=[f"servegen offline: {', '.join(map(str, sorted(sizes)))}-token prefix blocks from hash_ids "
                      "(block size from the file name, blksz_N, else 16)"])
