"""OpenAI-compatible usage as JSON lines (vLLM, OpenAI, LiteLLM proxies): chat completion objects with
`usage`, or OpenAI Batch API output lines (`{custom_id, response: {body: ...}}`, tier batch).

Cache buckets: `_usage` (reads, writes and their 5m/1h split from whichever fields carry them, each count
read once; `prompt_tokens` read as OpenAI's inclusive count unless `total_tokens` or the counts show another
convention, noted). `created` (Unix seconds) is the time; `service_tier` (default/auto/flex/priority/batch)
the tier, an unknown `service_tier` a bad record; the call type comes from `metadata[<key>]` (default
`call_type`, then `feature`), the rest of `metadata` goes into tags (less text-like keys and long values, see
`_tags`); `bedrock/` and `converse/` prefixes of the model are dropped. A record with `error` set is not
billed and is counted apart.
"""

from __future__ import annotations

import json
from pathlib import Path

import ibis

from ..engine import connection
from ..errors import InputError
from ..regions import reason_sql, unknown_sql
from . import _usage as usage
from ._csv import _quote
from ._jsonl import bad_count, collect, is_ndjson, json_absent, json_count, lines_sql
from ._tags import dropped_note, dropped_tags_sql, safe_tags_sql
from .base import InputFile, Raw, ReadOptions, head_bytes

NAME = "openai-usage"
_REGION = "json_extract_string(b, '$.region')"
COLUMNS = ["ts", "request_id", "model_id", "region", "tier", "call_type", "input_tokens", "cache_read_tokens",
           "cache_write_5m_tokens", "cache_write_1h_tokens", "output_tokens", "tags"]


# `service_tier` as OpenAI, gateways and our own writer spell it -> the canonical tier; anything else is a bad
# record (a silent NULL would price it as standard: a batch record would cost double)
TIER_SQL = ("(CASE {x} WHEN 'default' THEN 'standard' WHEN 'auto' THEN 'standard' WHEN 'standard' THEN 'standard' "
            "WHEN 'flex' THEN 'flex' WHEN 'priority' THEN 'priority' WHEN 'batch' THEN 'batch' "
            "WHEN 'provisioned' THEN 'provisioned' WHEN 'reserved' THEN 'provisioned' END)")


# Unix seconds DuckDB can turn into a timestamp (1970 to 9999); outside, to_timestamp would fail the whole read
CREATED_OK = "(_cs BETWEEN 0 AND 253402300799)"


def sniff(path: InputFile, head: bytes) -> bool:
    """JSON lines, or one response / an array of them (as the API reference prints them)."""
    doc = head.lstrip().startswith((b"{", b"[")) and b'"startTime"' not in head
    return (is_ndjson(head) or doc) and b'"prompt_tokens"' in head and b'"usage"' in head


def _document_sql(f: Path) -> str:
    """`_file, _line, _valid, j` for a file that is one JSON document: one response, or an array of them
    (`_line` is then the record's place in the array)."""
    return (f"SELECT {_quote(str(f))} AS _file, _line, true AS _valid, j FROM (SELECT unnest(arr) AS j, "
            "generate_subscripts(arr, 1) AS _line FROM (SELECT CASE WHEN json_type(d) = 'ARRAY' THEN "
            f"json_extract(d, '$[*]') ELSE [d] END AS arr FROM (SELECT content::JSON AS d FROM read_text("
            f"{_quote(str(f))}))))")


def _check_document(f: Path, head: bytes) -> None:
    """A file that is neither JSON lines nor one valid JSON document: say what is wrong, and where."""
    if head[:2] == b"\x1f\x8b":
        raise InputError(f"{f}: a gzipped JSON document; gunzip it, or write one response a line (JSON lines, "
                         "which may be gzipped)")
    con = connection()
    if con.raw_sql(f"SELECT json_valid(content) FROM read_text({_quote(str(f))})").fetchone()[0]:
        return
    try:  # only on this error path: where the document breaks
        json.loads(f.read_text(encoding="utf-8"))
        where = "not valid JSON"
    except UnicodeDecodeError:
        where = "not UTF-8 text"
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}: {exc.msg}"
    raise InputError(f"{f}: not JSON lines, and not one JSON document either ({where}); openai-usage reads one "
                     "response object a line, one response object, or a JSON array of them")


def strip_provider(expr: str) -> str:
    """SQL: a gateway's model name without its provider route (`bedrock/converse/us.anthropic...`)."""
    return f"regexp_replace({expr}, '^(bedrock/)?((converse|invoke)/)?', '')"


def read(paths: list[InputFile], options: ReadOptions) -> Raw:
    keys = [options.call_type_key] if options.call_type_key else ["call_type", "feature"]
    ct = "coalesce(" + ", ".join(f"json_extract_string(b, '$.metadata.{k}')" for k in keys) + ", NULL)"

    heads = {p: head_bytes(p) for p in paths}
    lines = [p for p in paths if is_ndjson(heads[p])]
    docs = [p for p in paths if p not in lines]
    for p in docs:
        _check_document(p, heads[p])
    parts = []
    skipped: dict[str, int] = {}
    for src, unit in ((lines_sql(lines) if lines else None, "line"),
                      (" UNION ALL ".join(_document_sql(p) for p in docs) if docs else None, "record")):
        if src is not None:
            t, bad = collect(_query(src, ct), [*COLUMNS, "_error", "_dropped", "_conv", "_cr_n", "_wt_n"],
                             options.on_error, "openai usage", unit=unit)
            parts.append(t)
            for k, v in bad.items():
                skipped[k] = skipped.get(k, 0) + v
    table = parts[0] if len(parts) == 1 else ibis.union(*parts)
    billed = table.filter(~table._error.fill_null(False))
    n_err = int(table.filter(table._error.fill_null(False)).count().execute())
    notes = [f"{n_err:,} error record(s) not billed, left out"] if n_err else []
    notes += dropped_note(int(billed._dropped.sum().execute() or 0))
    notes += usage.notes("openai usage", usage.counts(billed))
    return Raw(table=billed.drop("_error", "_dropped", "_conv", "_cr_n", "_wt_n"), skipped=skipped, notes=notes)


def _query(src: str, ct: str) -> str:
    """The raw columns, `_reason` and `_error` of every record `src` yields."""
    u = "json_extract(b, '$.usage')"
    return f"""
    WITH l AS ({src}),
    r AS (SELECT *, CASE WHEN json_type(j, '$.response.body') = 'OBJECT' THEN json_extract(j, '$.response.body')
                    ELSE j END AS b, coalesce(json_type(j, '$.response.body') = 'OBJECT', false) AS _batch FROM l),
    t AS (SELECT *, json_extract(b, ['$.usage.prompt_tokens', '$.usage.completion_tokens',
        '$.usage.total_tokens']) AS k, json_extract(b, '$.usage') AS _u,
        coalesce(json_extract(b, '$.created'), json_extract(j, '$.created')) AS _created,
        TRY_CAST(json_extract_string(coalesce(json_extract(b, '$.created'), json_extract(j, '$.created')), '$')
                 AS DOUBLE) AS _cs,
        lower(json_extract_string(b, '$.service_tier')) AS _st,
        TRY_CAST(json_extract(b, '$.metadata') AS MAP(VARCHAR, VARCHAR)) AS _meta FROM r),
    v0 AS (SELECT *, {json_count('k[1]')} AS _p, {json_count('k[2]')} AS _c, {json_count('k[3]')} AS _t,
        {usage.raw_columns(['_u'])} FROM t),
    v AS (SELECT *, {usage.bucket_columns()} FROM v0)
    SELECT _file, _line,
      CASE WHEN NOT _valid THEN 'invalid JSON (truncated or malformed record)'
        WHEN json_type(j) <> 'OBJECT' THEN 'record is not a JSON object'
        WHEN json_type(j, '$.error') NOT IN ('NULL') AND json_type(j, '$.error') IS NOT NULL THEN NULL
        WHEN {u} IS NULL THEN 'usage missing'
        WHEN {json_absent('k[1]')} THEN 'usage.prompt_tokens missing'
        WHEN _p IS NULL THEN 'usage.prompt_tokens not an integer in range'
        WHEN {json_absent('k[2]')} THEN 'usage.completion_tokens missing'
        WHEN _c IS NULL THEN 'usage.completion_tokens not an integer in range'
        WHEN {bad_count('k[3]')} OR {usage.bad_sql(['_u'])} THEN 'token count not an integer in range'
        WHEN _p < 0 OR _c < 0 OR _cr < 0 OR _wt < 0 OR _d5 < 0 OR _d1 < 0 THEN 'negative token count'
        WHEN json_extract_string(b, '$.model') IS NULL THEN 'model missing'
        WHEN json_type(b, '$.model') <> 'VARCHAR' THEN 'model not a string'
        WHEN _cs IS NULL THEN 'created missing or not a number'
        WHEN NOT {CREATED_OK} THEN 'created not a time in range (Unix seconds, 1970 to 9999)'
        WHEN NOT _batch AND _st IS NOT NULL AND {TIER_SQL.format(x='_st')} IS NULL
          THEN 'unknown service tier ''' || json_extract_string(b, '$.service_tier') || ''''
        WHEN {unknown_sql(_REGION)} THEN {reason_sql(_REGION)}
      END AS _reason,
      json_type(j, '$.error') NOT IN ('NULL') AND json_type(j, '$.error') IS NOT NULL AS _error,
      CASE WHEN {CREATED_OK} THEN to_timestamp(_cs) END AS ts,
      coalesce(json_extract_string(b, '$.id'), json_extract_string(j, '$.custom_id')) AS request_id,
      {strip_provider("json_extract_string(b, '$.model')")} AS model_id,
      {_REGION} AS region,
      CASE WHEN _batch THEN 'batch' ELSE {TIER_SQL.format(x='_st')} END AS tier,
      {ct} AS call_type,
      _input AS input_tokens, _cr AS cache_read_tokens, _w - _w1h AS cache_write_5m_tokens,
      _w1h AS cache_write_1h_tokens, _c AS output_tokens, _conv, _cr_n, _wt_n,
      {safe_tags_sql('_meta')} AS tags, {dropped_tags_sql('_meta')} AS _dropped
    FROM v"""