"""LiteLLM spend logs (`LiteLLM_SpendLogs` exported as CSV, JSON lines or a JSON array).

Cache buckets come from `metadata.usage_object`, then `metadata.additional_usage_values`, field by
field (`_usage`: each count read once; the 5m/1h split; `prompt_tokens` conventions, noted). LiteLLM's own
`call_type` column is the API method (`acompletion`, `aanthropic_messages`): it only tells the usage
convention apart (`anthropic_messages`: Anthropic's). What the call is for comes from
`metadata.requester_metadata[<key>]` or `metadata[<key>]` (default `call_type`, then `feature`). `startTime`
is the time, `endTime - startTime` the latency. Rows with `status` other than success are not billed, and
LiteLLM cache hits (`cache_hit` true: no provider call) cost nothing: both are counted apart. Team, user, end
user, key and LiteLLM's own spend go into tags. The region is read from a Bedrock `api_base` host.
"""

from __future__ import annotations

from pathlib import Path

from . import _usage as usage
from ._csv import _quote
from ._jsonl import bad_count, collect, is_ndjson, json_count, lines_sql
from ._tags import dropped_note, dropped_tags_sql, safe_tags_sql
from .base import InputFile, Raw, ReadOptions, head_bytes
from .openai_usage import strip_provider

NAME = "litellm"
_KEYS = (b"startTime", b"prompt_tokens", b"completion_tokens")
COLUMNS = ["ts", "request_id", "model_id", "region", "call_type", "input_tokens", "cache_read_tokens",
           "cache_write_5m_tokens", "cache_write_1h_tokens", "output_tokens", "latency_ms", "tags"]
# LiteLLM `call_type`s whose usage follows Anthropic's convention (`/v1/messages`: prompt_tokens may be the
# uncached part only, see `_usage`)
ANTHROPIC_CALLS = "_litellm_call IN ('anthropic_messages', 'aanthropic_messages')"
# The region of a Bedrock call is in LiteLLM's `api_base` (https://bedrock-runtime.<region>.amazonaws.com/...,
# also -fips, bedrock-mantle and PrivateLink `vpce-...` hosts); other hosts, or none, leave it to --region (and
# the defaults note).
REGION_SQL = (r"nullif(regexp_extract(lower(coalesce(json_extract_string(j, '$.api_base'), '')), "
              r"'^https?://([a-z0-9-]+\.)?bedrock[a-z-]*\.([a-z]{2}(-[a-z]+)+-[0-9]+)\.(vpce\.)?"
              r"(amazonaws\.com|api\.aws)', 2), '')")


def sniff(path: InputFile, head: bytes) -> bool:
    return all(k in head for k in _KEYS) and (b"spend" in head or b"model_group" in head)


def _source(p: Path, head: bytes) -> str:
    """`_file, _line, _valid, j` for one export, whatever its layout."""
    if is_ndjson(head):
        return lines_sql([p])
    if head.lstrip().startswith(b"["):
        return (f"SELECT {_quote(str(p))} AS _file, row_number() OVER () AS _line, true AS _valid, to_json(r) AS j "
                f"FROM read_json({_quote(str(p))}, format='array', records=false) t(r)")
    return (f"SELECT {_quote(str(p))} AS _file, row_number() OVER () + 1 AS _line, true AS _valid, to_json(r) AS j "
            f"FROM read_csv({_quote(str(p))}, header=true, all_varchar=true) r")


def read(paths: list[InputFile], options: ReadOptions) -> Raw:
    keys = [options.call_type_key] if options.call_type_key else ["call_type", "feature"]
    ct = "coalesce(" + ", ".join(f"json_extract_string(md, '$.requester_metadata.{k}'), "
                                 f"json_extract_string(md, '$.{k}')" for k in keys) + ")"
    src = " UNION ALL ".join(_source(p, head_bytes(p)) for p in paths)
    num = "(CASE WHEN json_type(j, '{p}') = 'VARCHAR' THEN TRY_CAST(json_extract_string(j, '{p}') AS JSON) " \
          "ELSE json_extract(j, '{p}') END)"
    srcs = ["json_extract(md, '$.usage_object')", "json_extract(md, '$.additional_usage_values')"]
    query = f"""
    WITH l AS ({src}),
    m AS (SELECT *, {num.format(p='$.metadata')} AS md, {num.format(p='$.prompt_tokens')} AS pj,
      {num.format(p='$.completion_tokens')} AS cj, {num.format(p='$.total_tokens')} AS tj,
      lower(coalesce(json_extract_string(j, '$.call_type'), '')) AS _litellm_call,
      nullif(trim(json_extract_string(j, '$.prompt_tokens')), '') AS _praw,
      nullif(trim(json_extract_string(j, '$.completion_tokens')), '') AS _craw FROM l),
    v0 AS (SELECT *, {json_count('pj')} AS _p, {json_count('cj')} AS _c, {json_count('tj')} AS _t,
      {usage.raw_columns(srcs)},
      TRY_CAST(json_extract_string(j, '$.startTime') AS TIMESTAMPTZ) AS _ts,
      TRY_CAST(json_extract_string(j, '$.endTime') AS TIMESTAMPTZ) AS _te,
      lower(coalesce(json_extract_string(j, '$.status'), 'success')) AS _status,
      lower(coalesce(json_extract_string(j, '$.cache_hit'), 'false')) IN ('true', '1') AS _hit FROM m),
    v AS (SELECT *, {usage.bucket_columns(anthropic=ANTHROPIC_CALLS)} FROM v0)
    SELECT _file, _line,
      CASE WHEN NOT _valid THEN 'invalid JSON (truncated or malformed record)'
        WHEN _status NOT IN ('success', '') OR _hit THEN NULL
        WHEN _ts IS NULL THEN 'startTime missing or invalid'
        WHEN _praw IS NULL THEN 'prompt_tokens missing'
        WHEN _p IS NULL THEN 'prompt_tokens not an integer in range'
        WHEN _craw IS NULL THEN 'completion_tokens missing'
        WHEN _c IS NULL THEN 'completion_tokens not an integer in range'
        WHEN {usage.bad_sql(srcs)} OR {bad_count('tj')} THEN 'token count not an integer in range'
        WHEN _p < 0 OR _c < 0 OR _cr < 0 OR _wt < 0 OR _d5 < 0 OR _d1 < 0 THEN 'negative token count'
        WHEN coalesce(json_extract_string(j, '$.model'), '') = '' THEN 'model missing'
        WHEN json_type(j, '$.model') <> 'VARCHAR' THEN 'model not a string' END AS _reason,
      _status NOT IN ('success', '') AS _failed, _hit,
      _ts AS ts, json_extract_string(j, '$.request_id') AS request_id,
      {strip_provider("json_extract_string(j, '$.model')")} AS model_id, {REGION_SQL} AS region, {ct} AS call_type,
      _input AS input_tokens, _cr AS cache_read_tokens, _w - _w1h AS cache_write_5m_tokens,
      _w1h AS cache_write_1h_tokens, _c AS output_tokens, _conv, _cr_n, _wt_n,
      epoch_ms(_te) - epoch_ms(_ts) AS latency_ms,
      map_from_entries(list_filter([
        {{'key': 'team', 'value': json_extract_string(j, '$.team_id')}},
        {{'key': 'user', 'value': json_extract_string(j, '$.user')}},
        {{'key': 'end_user', 'value': json_extract_string(j, '$.end_user')}},
        {{'key': 'api_key', 'value': json_extract_string(j, '$.api_key')}},
        {{'key': 'model_group', 'value': json_extract_string(j, '$.model_group')}},
        {{'key': 'litellm_spend_usd', 'value': json_extract_string(j, '$.spend')}}],
        lambda e: e.value IS NOT NULL AND e.value <> '')) AS _tags
    FROM v"""
    query = f"SELECT * EXCLUDE (_tags), {safe_tags_sql('_tags')} AS tags, {dropped_tags_sql('_tags')} AS _dropped " \
            f"FROM ({query})"
    table, skipped = collect(query, [*COLUMNS, "_failed", "_hit", "_dropped", "_conv", "_cr_n", "_wt_n"],
                             options.on_error, "litellm")
    counts = table.aggregate(failed=table._failed.sum(), hits=table._hit.sum()).to_pyarrow().to_pylist()[0]
    notes = []
    if counts["failed"]:
        notes.append(f"litellm: {int(counts['failed']):,} failed request(s) not billed, left out")
    if counts["hits"]:
        notes.append(f"litellm: {int(counts['hits']):,} LiteLLM cache hit(s) (no provider call), left out")
    good = table.filter(~table._failed & ~table._hit)
    notes += dropped_note(int(good._dropped.sum().execute() or 0))
    notes += usage.notes("litellm", usage.counts(good))
    good = good.drop("_failed", "_hit", "_dropped", "_conv", "_cr_n", "_wt_n")
    return Raw(table=good, skipped=skipped, notes=notes)
