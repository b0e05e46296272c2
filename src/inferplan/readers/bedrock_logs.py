"""Amazon Bedrock model invocation logs (JSON, plain or gzipped; one record a line or one a file; the
`AWSLogs/<account>/BedrockModelInvocationLogs/...` tree; `s3://bucket/prefix`).

All four operations (InvokeModel, InvokeModelWithResponseStream, Converse, ConverseStream). Token counts come
from `input.inputTokenCount` (plain input, excluding cache), `cacheReadInputTokenCount`,
`cacheWriteInputTokenCount` and `output.outputTokenCount`; the 1-hour part of the cache writes comes from the
output body where it says so (Anthropic `usage.cache_creation.ephemeral_1h_input_tokens`, Converse
`usage.cacheDetails[ttl=1h]`, in whole or streamed bodies). `region` is the billing region;
`inferenceRegion`, the IAM principal and `requestMetadata` go into tags (less text-like keys and long values,
see `_tags`); the call type is
`requestMetadata[<key>]` (default `call_type`, then `feature`). Records with `errorCode` are not billed and
are counted apart. With an input body (Converse or Anthropic Messages), `prefix` lists the tools, the system
prompt and each message as hashed segments whose token counts are the request's input apportioned by text
length (estimates); the text never leaves DuckDB.

The whole read is one DuckDB pass (`read_json`, streaming, into a temporary Parquet file), so memory stays
bounded whatever the input size. A file DuckDB cannot parse is re-read line by line to name the bad line.
"""

from __future__ import annotations

import atexit
import itertools
import shutil
import tempfile
from pathlib import Path

import duckdb
import ibis

from ..engine import connection
from ..errors import InputError
from ..regions import explain, reason_sql, unknown_sql
from ._csv import _quote
from ._jsonl import bad_count, json_absent, json_count
from ._tags import dropped_note, dropped_tags_sql, safe_tags_sql
from .base import InputFile, Raw, ReadOptions, head_bytes

NAME = "bedrock-logs"
_n = itertools.count()
_TMP: list[str] = []
TOP = {"timestamp": "VARCHAR", "requestId": "VARCHAR", "operation": "VARCHAR", "modelId": "JSON",
       "region": "VARCHAR", "inferenceRegion": "VARCHAR", "identity": "JSON", "input": "JSON", "output": "JSON",
       "requestMetadata": "JSON", "errorCode": "VARCHAR", "schemaType": "VARCHAR"}


def sniff(path: InputFile, head: bytes) -> bool:
    if b"ModelInvocationLog" in head:
        return True
    return b'"modelId"' in head and b'"operation"' in head and b'"input"' in head


def side_object(path: InputFile) -> bool:
    """An object Bedrock writes beside its logs that holds no record: a large body under `data/` (inputs and
    outputs over 100 KB, which the record points to with `inputBodyS3Path`/`outputBodyS3Path`) or the
    `amazon-bedrock-logs-permission-check` marker."""
    if path.name == "amazon-bedrock-logs-permission-check":
        return True
    parts = str(path).split("/")
    return "BedrockModelInvocationLogs" in parts and "data" in parts[parts.index("BedrockModelInvocationLogs"):-1]


def _tmpdir() -> Path:
    if not _TMP:
        d = tempfile.mkdtemp(prefix="inferplan-bedrock-")
        _TMP.append(d)
        atexit.register(shutil.rmtree, d, True)
    return Path(_TMP[0])


def _is_ndjson(head: bytes) -> bool:
    """One record a line, unless the first line opens a pretty-printed object or array."""
    first = head.lstrip().split(b"\n", 1)[0].rstrip()
    return first.startswith(b"{") and not first.endswith((b"{", b"[", b",", b":"))


def _files_sql(files: list[Path]) -> str:
    return "[" + ", ".join(_quote(str(f)) for f in files) + "]"


# what the extraction needs from each record, as the fast path reads it (typed by read_json in one parse)
_FAST = dict(TOP, identity="STRUCT(arn VARCHAR)",
             input="STRUCT(inputTokenCount JSON, cacheReadInputTokenCount JSON, cacheWriteInputTokenCount JSON, "
                   "inputBodyJson JSON)",
             output="STRUCT(outputTokenCount JSON, outputBodyJson JSON)")
_SCALARS = ("timestamp", "requestId", "operation", "modelId", "region", "inferenceRegion", "requestMetadata",
            "errorCode")


def _fast_source(files: list[Path], ndjson: bool) -> str:
    """read_json over all files with the fields typed; a record whose `input` or `output` is not an object
    fails the read, and the robust path takes over."""
    cols = "{" + ", ".join(f"{_quote(k)}: {_quote(v)}" for k, v in _FAST.items()) + "}"
    fmt = "newline_delimited" if ndjson else "auto"
    scalars = ", ".join(f'"{k}"' for k in _SCALARS)
    return (f"SELECT filename AS _file, NULL::BIGINT AS _line, {scalars}, identity.arn AS _arn, "
            "[input.inputTokenCount, input.cacheReadInputTokenCount, input.cacheWriteInputTokenCount, "
            "input.inputBodyJson] AS ij, [output.outputTokenCount, output.outputBodyJson] AS oj, "
            "input IS NOT NULL AS _in_ok, output IS NOT NULL AS _out_ok "
            f"FROM read_json({_files_sql(files)}, format='{fmt}', columns={cols}, filename=true, "
            "compression='auto_detect', maximum_object_size=268435456)")


def _line_source(file: InputFile | str, pretty: bool = False) -> str:
    """The robust path: a file read as lines, each parsed on its own, with its line number. `pretty`: records
    are pretty-printed objects, one after another, each opening with `{` at the start of a line; the lines of
    each are joined and parsed on their own, numbered by their first line."""
    lines = (f"SELECT row_number() OVER () AS _line, line FROM read_csv({_quote(str(file))}, columns={{'line': "
             "'VARCHAR'}, header=false, delim='\x1e', quote='', escape='', auto_detect=false, "
             "max_line_size=268435456, compression='auto')")
    if pretty:
        grouped = (f"SELECT *, sum(CASE WHEN starts_with(line, '{{') THEN 1 ELSE 0 END) OVER (ORDER BY _line) AS _g "
                   f"FROM ({lines})")
        lines = (f"SELECT min(_line) AS _line, string_agg(line, chr(10) ORDER BY _line) AS line FROM ({grouped}) "
                 "GROUP BY _g")
    fields = ", ".join(f"json_extract{'_string' if TOP[k] == 'VARCHAR' else ''}(line, '$.{k}') AS \"{k}\""
                       for k in _SCALARS)
    return (f"SELECT {_quote(str(file))} AS _file, _line, json_valid(line) AS _valid, {fields}, "
            "json_extract_string(line, '$.identity.arn') AS _arn, "
            "json_extract(line, ['$.input.inputTokenCount', '$.input.cacheReadInputTokenCount', "
            "'$.input.cacheWriteInputTokenCount', '$.input.inputBodyJson']) AS ij, "
            "json_extract(line, ['$.output.outputTokenCount', '$.output.outputBodyJson']) AS oj, "
            "json_type(line, '$.input') = 'OBJECT' AS _in_ok, json_type(line, '$.output') = 'OBJECT' AS _out_ok "
            f"FROM ({lines}) WHERE line IS NOT NULL AND trim(line) <> ''")


def _int(expr: str) -> str:
    """A JSON token count as BIGINT when it is an integer in range (int64, and within +-TOKEN_MAX), else NULL;
    never an error, whatever the value."""
    return json_count(expr)


def _bad_int(expr: str) -> str:
    """An optional JSON token count that is there but not an integer in range."""
    return bad_count(expr)


# Bedrock `serviceTier.type` (priority|default|flex|reserved; the canonical names too) -> the canonical tier;
# anything else is a bad record rather than a silent standard
_TIER = ("(CASE {x} WHEN 'default' THEN 'standard' WHEN 'standard' THEN 'standard' WHEN 'flex' THEN 'flex' "
         "WHEN 'priority' THEN 'priority' WHEN 'reserved' THEN 'provisioned' WHEN 'provisioned' THEN 'provisioned' "
         "WHEN 'batch' THEN 'batch' END)")


def _body_count(whole_anthropic: str, whole_converse: str, stream_paths: tuple[str, ...]) -> str:
    """SQL: a cache count from the output body's usage (whole body: Anthropic or Converse field; streamed body:
    the chunks that carry it, summed), NULL when the body has none."""
    streams = ", ".join(f"list_sum(list_transform(json_extract(_stream, '$[*].{p}'), lambda d: {_int('d')}))"
                        for p in stream_paths)
    return f"coalesce({_int(whole_anthropic)}, {_int(whole_converse)}, {streams})"


def _extract(src: str, call_type_key: str | None) -> str:
    """Canonical raw columns (plus `_reason` for bad records and `_error` for error records) from `src`."""
    ct_keys = [call_type_key] if call_type_key else ["call_type", "feature"]
    ct = "coalesce(" + ", ".join(f"_meta[{_quote(k)}]" for k in ct_keys) + ", NULL)"
    tok = _int("json_extract(d, '$.inputTokens')")
    tok_absent = json_absent("json_extract(d, '$.inputTokens')")
    usage_1h = (
        "coalesce("
        f"{_int('ob[1]')}, "
        "list_sum(list_transform(list_filter(coalesce(json_extract(ob[2], '$[*]'), []), "
        f"lambda d: json_extract_string(d, '$.ttl') = '1h'), lambda d: {tok})), "
        "list_sum(list_transform(coalesce(json_extract(_stream, '$[*].message.usage.cache_creation."
        f"ephemeral_1h_input_tokens'), []), lambda d: {_int('d')})), "
        "list_sum(list_transform(list_filter(coalesce(json_extract(_stream, '$[*].metadata.usage.cacheDetails[*]'), "
        "[]), "
        f"lambda d: json_extract_string(d, '$.ttl') = '1h'), lambda d: {tok})), 0)")
    body_read, body_write = (_body_count(w, c, f) for w, c, f in (
        ("ob[5]", "ob[7]", ("message.usage.cache_read_input_tokens", "metadata.usage.cacheReadInputTokens",
                            '"amazon-bedrock-invocationMetrics".cacheReadInputTokenCount')),
        ("ob[6]", "ob[8]", ("message.usage.cache_creation_input_tokens", "metadata.usage.cacheWriteInputTokens",
                            '"amazon-bedrock-invocationMetrics".cacheWriteInputTokenCount'))))
    return f"""
    WITH s AS ({src}),
    a AS (
      SELECT *, TRY_CAST(requestMetadata AS MAP(VARCHAR, VARCHAR)) AS _meta,
        TRY_CAST("timestamp" AS TIMESTAMPTZ) AS _ts, json_extract_string(modelId, '$') AS _model
      FROM s),
    b AS (
      SELECT *, {_int('ij[1]')} AS _in, {_int('ij[2]')} AS _cr_log, {_int('ij[3]')} AS _cw_log,
        {_int('oj[1]')} AS _out,
        json_extract(ij[4], ['$.system', '$.messages', '$.tools', '$.toolConfig.tools', '$.serviceTier.type',
                             '$.serviceTier']) AS bj,
        json_extract(oj[2], ['$.usage.cache_creation.ephemeral_1h_input_tokens', '$.usage.cacheDetails',
                             '$.metrics.latencyMs', '$.serviceTier.type', '$.usage.cache_read_input_tokens',
                             '$.usage.cache_creation_input_tokens', '$.usage.cacheReadInputTokens',
                             '$.usage.cacheWriteInputTokens']) AS ob,
        CASE WHEN json_type(oj[2]) = 'ARRAY' THEN oj[2] END AS _stream
      FROM a),
    b1 AS (
      SELECT *, {body_read} AS _cr_body, {body_write} AS _cw_body FROM b),
    b2 AS (
      SELECT *, coalesce(_cr_log, _cr_body, 0) AS _cr, coalesce(_cw_log, _cw_body, 0) AS _cw,
        (_cr_log IS NOT NULL AND _cr_body IS NOT NULL AND _cr_log <> _cr_body)
          OR (_cw_log IS NOT NULL AND _cw_body IS NOT NULL AND _cw_log <> _cw_body) AS _disagree,
        coalesce(json_extract_string(bj[5], '$'),
                         CASE WHEN json_type(bj[6]) = 'VARCHAR' THEN json_extract_string(bj[6], '$') END,
                         json_extract_string(ob[4], '$')) AS _st_raw
      FROM b1),
    b3 AS (SELECT *, {_TIER.format(x='lower(_st_raw)')} AS _tier FROM b2),
    c AS (
      SELECT *,
        CASE WHEN errorCode IS NOT NULL AND errorCode <> '' THEN NULL
          WHEN _ts IS NULL THEN 'timestamp missing or invalid'
          WHEN coalesce(json_type(modelId), 'NULL') = 'NULL' OR _model = '' THEN 'modelId missing'
          WHEN json_type(modelId) <> 'VARCHAR' THEN 'modelId not a string'
          WHEN NOT coalesce(_in_ok, false) THEN 'input missing or not an object'
          WHEN NOT coalesce(_out_ok, false) THEN 'output missing or not an object'
          WHEN ij[1] IS NULL THEN 'inputTokenCount missing'
          WHEN _in IS NULL THEN 'inputTokenCount not an integer in range'
          WHEN oj[1] IS NULL THEN 'outputTokenCount missing'
          WHEN _out IS NULL THEN 'outputTokenCount not an integer in range'
          WHEN {_bad_int('ij[2]')} OR {_bad_int('ij[3]')} THEN 'cache token count not an integer in range'
          WHEN {_bad_int('ob[1]')} OR {_bad_int('ob[5]')} OR {_bad_int('ob[6]')} OR {_bad_int('ob[7]')}
              OR {_bad_int('ob[8]')} OR len(list_filter(coalesce(json_extract(ob[2], '$[*]'), []),
                 lambda d: NOT {tok_absent} AND {tok} IS NULL)) > 0
            THEN 'token count not an integer in range'
          WHEN _in < 0 OR _out < 0 OR _cr < 0 OR _cw < 0 THEN 'negative token count'
          WHEN _st_raw IS NOT NULL AND _tier IS NULL THEN 'unknown service tier ''' || _st_raw || ''''
          WHEN {unknown_sql('region')} THEN {reason_sql('region')}
        END AS _reason,
        least(greatest({usage_1h}, 0), _cw) AS _w1h,
        list_concat(
          CASE WHEN json_type(coalesce(bj[3], bj[4])) NOT IN ('NULL') THEN [coalesce(bj[3], bj[4])::VARCHAR]
               ELSE [] END,
          CASE WHEN json_type(bj[1]) NOT IN ('NULL') THEN [bj[1]::VARCHAR] ELSE [] END,
          coalesce(json_extract(bj[2], '$[*]')::VARCHAR[], [])) AS _segs
      FROM b3),
    d AS (
      SELECT *, list_transform(_segs, lambda x: strlen(x)) AS _lens,
        coalesce(list_sum(list_transform(_segs, lambda x: strlen(x))), 0) AS _tot,
        coalesce(_in, 0) + _cr + _cw AS _tin
      FROM c)
    SELECT _file, _line, _reason, errorCode AS _error, _disagree,
      _ts AS ts, requestId AS request_id, _model AS model_id, region,
      _tier AS tier,
      coalesce({ct}, NULL) AS call_type,
      _in AS input_tokens, _cr AS cache_read_tokens, _cw - _w1h AS cache_write_5m_tokens,
      _w1h AS cache_write_1h_tokens, _out AS output_tokens,
      CASE WHEN len(_segs) > 0 AND _tot > 0 THEN list_transform(range(1, len(_segs) + 1), lambda i: {{
        'hash': md5(_segs[i])[1:16],
        'tokens': (round(_tin * coalesce(list_sum(_lens[1:i]), 0) / _tot)
                   - round(_tin * coalesce(list_sum(_lens[1:i - 1]), 0) / _tot))::BIGINT}}) END AS prefix,
      coalesce(TRY_CAST(json_extract(ob[3], '$') AS DOUBLE),
               list_max(TRY_CAST(json_extract(_stream, '$[*].metadata.metrics.latencyMs') AS DOUBLE[]))) AS latency_ms,
      {dropped_tags_sql('_meta')} AS _dropped,
      map_from_entries(list_filter(list_concat(coalesce(map_entries({safe_tags_sql('_meta')}), []), [
        {{'key': 'iam_principal', 'value': _arn}},
        {{'key': 'inference_region', 'value': inferenceRegion}}]), lambda e: e.value IS NOT NULL)) AS tags
    FROM d"""


RAW_COLUMNS = ("ts", "request_id", "model_id", "region", "tier", "call_type", "input_tokens", "cache_read_tokens",
               "cache_write_5m_tokens", "cache_write_1h_tokens", "output_tokens", "prefix", "latency_ms", "tags")
NULL_COLUMNS = (*RAW_COLUMNS, "_dropped", "_disagree")


def read(paths: list[InputFile], options: ReadOptions) -> Raw:
    con = connection()
    con.raw_sql("SET TimeZone = 'UTC'")
    groups: dict[bool, list[Path]] = {}
    for p in paths:
        groups.setdefault(_is_ndjson(head_bytes(p)), []).append(p)
    outs: list[str] = []
    skipped: dict[str, int] = {}
    notes: list[str] = []
    errors: dict[str, int] = {}
    for ndjson, files in groups.items():
        out = str(_tmpdir() / f"bedrock_{next(_n)}.parquet")
        query = _extract(_fast_source(files, ndjson), options.call_type_key)
        try:
            con.raw_sql(f"COPY ({query}) TO {_quote(out)} (FORMAT PARQUET)")
        except (duckdb.InvalidInputException, duckdb.ConversionException):
            # some file is not valid JSON: re-read each file line by line to find and count the bad records
            parts = []
            for f in files:
                part = str(_tmpdir() / f"bedrock_{next(_n)}.parquet")
                _copy_robust(con, f, ndjson, options, part)
                parts.append(part)
            con.raw_sql(f"COPY (SELECT * FROM read_parquet({_files_sql(parts)})) TO {_quote(out)} (FORMAT PARQUET)")
        rel = f"read_parquet({_quote(out)})"
        for reason, file, line, n in con.raw_sql(
                f"SELECT _reason, min(_file), min(_line), count(*) FROM {rel} WHERE _reason IS NOT NULL "
                "GROUP BY 1 ORDER BY 1").fetchall():
            if options.on_error != "skip":
                raise InputError(_where(con, file, line, reason, ndjson, options) + f": {explain(reason)} ({n} "
                                 "record(s) in all); fix the record or pass --on-error skip to skip bad records")
            skipped[f"bedrock log: {reason}"] = skipped.get(f"bedrock log: {reason}", 0) + int(n)
        for code, n in con.raw_sql(f"SELECT _error, count(*) FROM {rel} WHERE _error IS NOT NULL AND _error <> '' "
                                   "GROUP BY 1").fetchall():
            errors[code] = errors.get(code, 0) + int(n)
        outs.append(out)
    n_dropped, n_disagree = con.raw_sql(
        f"SELECT sum(_dropped), count(*) FILTER (WHERE _disagree) FROM read_parquet("
        f"{_files_sql([Path(o) for o in outs])}) WHERE _reason IS NULL AND (_error IS NULL OR _error = '')").fetchone()
    notes += dropped_note(int(n_dropped or 0))
    if n_disagree:
        notes.append(f"bedrock logs: {int(n_disagree):,} record(s) whose cache counts in the log "
                     "(cacheRead/WriteInputTokenCount) and in the output body's usage disagree; the log's were used")
    if errors:
        notes.append(f"{sum(errors.values()):,} error record(s) not billed, left out: " +
                     ", ".join(f"{k} x{v:,}" for k, v in sorted(errors.items())))
    table = con.sql(f"SELECT {', '.join(RAW_COLUMNS)} FROM read_parquet({_files_sql([Path(o) for o in outs])}) "
                    "WHERE _reason IS NULL AND (_error IS NULL OR _error = '')")
    return Raw(table=table, skipped=skipped, notes=notes)


def _copy_robust(con: ibis.BaseBackend, f: Path, ndjson: bool, options: ReadOptions, out: str) -> None:
    """One file, record by record: invalid JSON becomes a `_reason`, not a failed read."""
    if ndjson:
        _copy_records(con, f, options, out, pretty=False)
        return
    try:
        con.raw_sql(f"COPY ({_extract(_fast_source([f], False), options.call_type_key)}) TO {_quote(out)} "
                    "(FORMAT PARQUET)")
    except (duckdb.InvalidInputException, duckdb.ConversionException):
        _copy_records(con, f, options, out, pretty=True)


def _copy_records(con: ibis.BaseBackend, f: Path, options: ReadOptions, out: str, pretty: bool) -> None:
    """One file record by record (lines, or pretty-printed objects): invalid JSON is a `_reason` with its line."""
    src = _line_source(f, pretty)
    query = _extract(f"SELECT * EXCLUDE (_valid) FROM ({src}) WHERE _valid", options.call_type_key)
    invalid = (f"SELECT _file, _line, 'invalid JSON (truncated or malformed record)' AS _reason, "
               f"NULL AS _error, {', '.join(f'NULL AS {c}' for c in NULL_COLUMNS)} FROM ({src}) WHERE NOT _valid")
    query = f"SELECT * FROM ({query}) UNION ALL BY NAME SELECT * FROM ({invalid})"
    con.raw_sql(f"COPY ({query}) TO {_quote(out)} (FORMAT PARQUET)")


def _where(con: ibis.BaseBackend, file: str, line: int | None, reason: str, ndjson: bool,
           options: ReadOptions) -> str:
    """`file: line N` of the first record with `reason` (re-reading that one file by lines if needed)."""
    if line is None and ndjson:
        q = _extract(f"SELECT * EXCLUDE (_valid) FROM ({_line_source(file)}) WHERE _valid",
                     options.call_type_key)
        row = con.raw_sql(f"SELECT min(_line) FROM ({q}) WHERE _reason = {_quote(reason)}").fetchone()
        line = row[0] if row else None
    return f"{file}: line {line}" if line is not None else f"{file}: a record"
