"""Mooncake conversation trace (kvcache-ai/Mooncake FAST'25; JSON lines `timestamp` ms, `input_length`,
`output_length`, `hash_ids`).

Each `hash_ids` entry is a 512-token prefix block (equal ids = equal prefix): `prefix` lists them as segments
`mc<id>` of 512 tokens, the last one holding what remains of the input. Times are offsets from
`ReadOptions.trace_start`. The trace's timestamps are quantised to 3 seconds, so many requests share one:
the file order is the arrival order, kept in `request_id` (`mooncake-<file line, zero-padded>`), which sorts
in arrival order. The trace has no model: it comes from `--model`. Call type: `conversation`.
"""

from __future__ import annotations

from ._jsonl import collect, json_int, lines_sql
from .base import InputFile, Raw, ReadOptions

NAME = "mooncake"
BLOCK = 512


def sniff(path: InputFile, head: bytes) -> bool:
    return b'"hash_ids"' in head and b'"input_length"' in head and b'"chat_id"' not in head


READ_AS = "a Mooncake trace: hash_ids of 512-token blocks, timestamp in ms, no chat_id"


def read(paths: list[InputFile], options: ReadOptions) -> Raw:
    start = options.trace_start.isoformat()
    query = f"""
    WITH l AS ({lines_sql(paths)}),
    v AS (SELECT *, {json_int("json_extract(j, '$.timestamp')")} AS _t,
      {json_int("json_extract(j, '$.input_length')")} AS _in, {json_int("json_extract(j, '$.output_length')")} AS _out,
      TRY_CAST(json_extract(j, '$.hash_ids') AS BIGINT[]) AS _h FROM l)
    SELECT _file, _line,
      CASE WHEN NOT _valid THEN 'invalid JSON (truncated or malformed record)'
        WHEN _t IS NULL THEN 'timestamp missing or not an integer'
        WHEN _in IS NULL THEN 'input_length missing or not an integer'
        WHEN _out IS NULL THEN 'output_length missing or not an integer'
        WHEN _in < 0 OR _out < 0 OR _t < 0 THEN 'negative value'
        WHEN _h IS NULL THEN 'hash_ids missing or not a list of integers' END AS _reason,
      TIMESTAMPTZ '{start}' + to_milliseconds(_t) AS ts,
      'mooncake-' || lpad(_line::VARCHAR, 9, '0') AS request_id, 'conversation' AS call_type,
      _in AS input_tokens, _out AS output_tokens,
      list_transform(range(1, len(_h) + 1), lambda i: {{'hash': 'mc' || _h[i]::VARCHAR,
        'tokens': greatest(0, least({BLOCK}, _in - {BLOCK} * (i - 1)))::BIGINT}}) AS prefix
    FROM v"""
    cols = ["ts", "request_id", "call_type", "input_tokens", "output_tokens", "prefix"]
    table, skipped = collect(query, cols, options.on_error, "mooncake", read_as=READ_AS)
    return Raw(table=table, skipped=skipped, notes=["mooncake: 512-token prefix blocks from hash_ids; arrival order "
                                                    "is request_id order (timestamps are quantised to 3 s)"])
