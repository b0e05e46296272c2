"""Write a workload out as the formats users have: Bedrock invocation logs, a CUR export, OpenAI-style usage.

For round trips (write, read back, compare) and for generating benchmark data at scale. All of it runs in
DuckDB over the whole table (JSON built with `to_json`, files written with COPY), never a Python loop over
requests. Input is a canonical workload table or a raw one with `model_id` (as `synth.generate()` returns).
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .catalog import Catalog
from .catalog.usage_types import REGION_CODES, usage_type_sql
from .engine import connection
from .errors import ConfigError
from .pricing import price_workload
from .workload import Workload

__all__ = ["write_bedrock_logs", "write_cur", "write_openai_usage", "model_id_expr"]
_n = itertools.count()
DEFAULT_ACCOUNT = "123456789012"


def _register(table: Workload | ibis.Table | pa.Table) -> str:
    """Put the table in DuckDB under a fresh name; canonical tables get a `model_id` as it would be logged."""
    con = connection()
    name = f"_w_{next(_n)}"
    if isinstance(table, Workload):
        table = table.table
    if isinstance(table, pa.Table):
        con.con.register(f"{name}_arrow", table)
        src = f"{name}_arrow"
    else:
        src = f"{name}_view"
        con.create_view(src, table, overwrite=True)
    cols = set(con.sql(f"SELECT * FROM {src} LIMIT 0").columns)
    mid = "model_id" if "model_id" in cols else model_id_expr()
    con.raw_sql(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT *, {mid} AS _mid FROM {src}")
    return name


def _with_texts(table: Workload | ibis.Table | pa.Table) -> pa.Table:
    """The table as Arrow with `_ptext`, the stand-in text of each prefix segment (for `bodies=True`)."""
    if isinstance(table, Workload):
        table = table.table
    if not isinstance(table, pa.Table):
        table = table.to_pyarrow()
    if "prefix" not in table.column_names:
        return table
    return table.append_column("_ptext", segment_texts(table.column("prefix")))


def model_id_expr() -> str:
    """SQL: a canonical row's model as logged (`us.<model>` for a geo profile, the base id in-region)."""
    return "CASE WHEN scope IS NULL OR scope = 'in-region' THEN model ELSE scope || '.' || model END"


# 512 made-up five-letter words: body text drawn from them compresses about as well as real prose (4-5x), not
# 80x like a repeated word.
_VOCAB = np.frombuffer("".join(a + b + c + " " for a in ("ka", "lo", "mi", "ne", "ru", "ta", "vo", "ze")
                               for b in ("b", "d", "g", "l", "m", "n", "r", "s")
                               for c in ("en", "or", "is", "an", "ul", "et", "ox", "ia")).encode(),
                       np.uint8).reshape(512, 6)


def segment_texts(prefix: pa.ChunkedArray | pa.Array, seed: int = 0) -> pa.Array:
    """Stand-in text for every prefix segment (list<string>, parallel to `prefix`): one random text per
    distinct hash (equal segments, equal text), about 0.75 words per token. Built with numpy, no row loop."""
    arr = prefix.combine_chunks() if isinstance(prefix, pa.ChunkedArray) else prefix
    arr = pc.if_else(pc.is_null(arr), pa.scalar([], arr.type), arr)
    flat = pc.list_flatten(arr)
    enc = pc.dictionary_encode(pc.struct_field(flat, "hash")).combine_chunks() if isinstance(
        flat, pa.ChunkedArray) else pc.dictionary_encode(pc.struct_field(flat, "hash"))
    idx = enc.indices.to_numpy(zero_copy_only=False)
    _, first = np.unique(idx, return_index=True)
    toks = pc.struct_field(flat, "tokens").to_numpy(zero_copy_only=False)[first]
    words = np.maximum(1, toks * 3 // 4)
    rng = np.random.default_rng(seed)
    data = _VOCAB[rng.integers(0, 512, int(words.sum()))].ravel()
    offsets = np.concatenate([[0], np.cumsum(words * 6)]).astype(np.int64)
    texts = pa.LargeStringArray.from_buffers(len(words), pa.py_buffer(offsets), pa.py_buffer(data.tobytes()))
    flat_text = pc.take(texts, pa.array(idx))
    return pa.LargeListArray.from_arrays(_offsets(arr), flat_text)


def _offsets(arr: pa.Array) -> pa.Array:
    lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False)
    return pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))


def _q(s: str | Path) -> str:
    return "'" + str(s).replace("'", "''") + "'"


def write_bedrock_logs(table: Workload | ibis.Table | pa.Table, out_dir: str | Path, *,
                       account: str = DEFAULT_ACCOUNT, bodies: bool = False, gzip: bool = True) -> list[Path]:
    """Write one gzipped JSON-lines file per hour under `AWSLogs/<account>/BedrockModelInvocationLogs/<region>/
    YYYY/MM/DD/HH/`, records as Bedrock writes them.

    Anthropic models are logged as InvokeModel with a Messages body (1-hour writes in
    `usage.cache_creation`), others as Converse (`cacheDetails`). The call type goes into
    `requestMetadata.call_type` beside the tags. A non-standard tier is in `serviceTier.type` of the input
    body. With `bodies=True`, an input body is written whose system prompt and messages stand for the
    request's `prefix` segments (text of a length proportional to the segment's tokens; no real text).
    Batch requests are not in invocation logs: writing one is an error.
    """
    con = connection()
    if bodies:
        table = _with_texts(table)
    name = _register(table)
    batch = con.raw_sql(f"SELECT count(*) FROM {name} WHERE tier = 'batch'").fetchone()[0]
    if batch:
        raise ConfigError(f"{batch} batch request(s): batch jobs write batch output, not invocation logs")
    out = Path(out_dir)
    cols = set(con.sql(f"SELECT * FROM {name} LIMIT 0").columns)
    tags = "tags" if "tags" in cols else "MAP {}::MAP(VARCHAR, VARCHAR)"
    has_prefix = "_ptext" in cols
    anth = "_mid ILIKE '%anthropic.%'"
    w1h = "coalesce(cache_write_1h_tokens, 0)"
    w5m = "coalesce(cache_write_5m_tokens, 0)"
    tier_body = ("CASE WHEN tier IN ('flex', 'priority') THEN {'type': tier} "
                 "WHEN tier = 'provisioned' THEN {'type': 'reserved'} END")
    sys_text = "_ptext[1]"
    body = "NULL::JSON"
    if has_prefix:
        body = (f"CASE WHEN prefix IS NULL OR len(prefix) = 0 THEN to_json({{'serviceTier': {tier_body}}}) "
                f"WHEN {anth} THEN to_json({{'anthropic_version': 'bedrock-2023-05-31', 'serviceTier': {tier_body}, "
                f"'system': {sys_text}, 'messages': list_transform(_ptext[2:], lambda s: {{'role': 'user', "
                f"'content': s}})}}) "
                f"ELSE to_json({{'serviceTier': {tier_body}, 'system': [{{'text': {sys_text}}}], "
                f"'messages': list_transform(_ptext[2:], lambda s: {{'role': 'user', "
                f"'content': [{{'text': s}}]}})}})"
                " END")
    else:
        body = f"CASE WHEN tier <> 'standard' THEN to_json({{'serviceTier': {tier_body}}}) END"
    out_usage = (f"CASE WHEN {anth} THEN to_json({{'usage': {{'input_tokens': input_tokens, 'output_tokens': "
                 f"output_tokens, 'cache_read_input_tokens': coalesce(cache_read_tokens, 0), "
                 f"'cache_creation_input_tokens': {w5m} + {w1h}, 'cache_creation': {{'ephemeral_5m_input_tokens': "
                 f"{w5m}, 'ephemeral_1h_input_tokens': {w1h}}}}}}}) ELSE to_json({{'usage': {{'inputTokens': "
                 f"input_tokens, 'outputTokens': output_tokens, "
                 f"'cacheReadInputTokens': coalesce(cache_read_tokens, 0), "
                 f"'cacheWriteInputTokens': {w5m} + {w1h}, 'cacheDetails': [{{'ttl': '5m', 'inputTokens': {w5m}}}, "
                 f"{{'ttl': '1h', 'inputTokens': {w1h}}}]}}}}) END")
    principal = (f"coalesce({tags}['iam_principal'], 'arn:aws:sts::{account}:assumed-role/AppRole/app')"
                 if "tags" in cols else f"'arn:aws:sts::{account}:assumed-role/AppRole/app'")
    inf_region = f"{tags}['inference_region']" if "tags" in cols else "NULL"
    meta = (f"map_from_entries(list_concat(list_filter(map_entries({tags}), lambda e: e.key NOT IN "
            "('iam_principal', 'inference_region', 'call_type')), [{'key': 'call_type', 'value': call_type}]))")
    select = f"""
        SELECT 'ModelInvocationLog' AS schemaType, '1.0' AS schemaVersion,
          strftime(timezone('UTC', ts), '%Y-%m-%dT%H:%M:%S.%fZ') AS "timestamp",
          '{account}' AS accountId, {{'arn': {principal}}} AS identity, region,
          coalesce(request_id, uuid()::VARCHAR) AS requestId,
          CASE WHEN {anth} THEN 'InvokeModel' ELSE 'Converse' END AS operation,
          _mid AS modelId, {inf_region} AS inferenceRegion,
          {{'inputContentType': 'application/json', 'inputBodyJson': {body},
            'inputTokenCount': input_tokens, 'cacheReadInputTokenCount': coalesce(cache_read_tokens, 0),
            'cacheWriteInputTokenCount': {w5m} + {w1h}}} AS input,
          {{'outputContentType': 'application/json', 'outputBodyJson': {out_usage},
            'outputTokenCount': output_tokens}} AS output,
          {meta} AS requestMetadata
        FROM {name}"""
    con.raw_sql(f"CREATE OR REPLACE TEMP TABLE {name}_rec AS SELECT date_trunc('hour', timezone('UTC', ts)) AS _h, "
                f"* FROM ({select.replace('FROM ' + name, ', ts FROM ' + name)}) ORDER BY ts")
    hours = con.raw_sql(f"SELECT DISTINCT region, _h FROM {name}_rec ORDER BY 2, 1").fetchall()
    files: list[Path] = []
    for region, hour in hours:
        d = out / "AWSLogs" / account / "BedrockModelInvocationLogs" / region / hour.strftime("%Y/%m/%d/%H")
        d.mkdir(parents=True, exist_ok=True)
        f = d / f"{hour:%Y%m%dT%H%M}Z_{account}_{region}.json{'.gz' if gzip else ''}"
        con.raw_sql(f"COPY (SELECT * EXCLUDE (_h, ts) FROM {name}_rec WHERE _h = TIMESTAMP '{hour}' AND region = "
                    f"{_q(region)}) TO {_q(f)} (FORMAT JSON{', COMPRESSION GZIP' if gzip else ''})")
        files.append(f)
    con.raw_sql(f"DROP TABLE {name}_rec")
    return files


def write_cur(table: Workload | ibis.Table, catalog: Catalog, path: str | Path, *, unit: str = "1K tokens",
              account: str = DEFAULT_ACCOUNT) -> Path:
    """A CUR 2.0 export (CSV or Parquet by extension) of what the workload costs at catalog prices: one line
    per day, region, model, scope, tier and token kind, with usage types as Bedrock bills them.

    `unit` is `1K tokens` or `1M tokens` (usage amounts in that unit). Models need a billing name in the
    catalog (`billing_names`).
    """
    if unit not in ("1K tokens", "1M tokens"):
        raise ConfigError("unit must be '1K tokens' or '1M tokens'")
    wl = table if isinstance(table, Workload) else Workload(table=table)
    bill = price_workload(wl, catalog).table
    t = bill.mutate(day=bill.ts.truncate("D"))
    parts = []
    for kind, col in (("input", "input_tokens"), ("output", "output_tokens"), ("cache_read", "cache_read_tokens"),
                      ("cache_write_5m", "cache_write_5m_tokens"), ("cache_write_1h", "cache_write_1h_tokens")):
        g = t.group_by(["day", "model", "scope", "region", "tier"]).aggregate(
            tokens=t[col].sum(), cost=t[f"{kind}_usd"].sum())
        parts.append(g.filter(g.tokens > 0).mutate(kind=ibis.literal(kind)))
    agg = ibis.union(*parts).to_pyarrow()
    models = sorted(set(agg.column("model").to_pylist()))
    names = {m: (catalog.bedrock_models[m].billing_names or [None])[0] for m in models}
    missing = [m for m, b in names.items() if not b]
    if missing:
        raise ConfigError(f"no billing name for {missing}; add `billing_names` to their bedrock_models rows")
    con = connection()
    n = next(_n)
    con.con.register(f"_wcur_{n}", agg)
    con.con.register(f"_wbn_{n}", pa.table({"model": list(names), "billing": list(names.values())}))
    con.con.register(f"_wrc_{n}", pa.table({"region": list(REGION_CODES), "code": list(REGION_CODES.values())}))
    div = 1_000 if unit == "1K tokens" else 1_000_000
    path = Path(path)
    query = f"""
        SELECT 'Usage' AS line_item_line_item_type, '{account}' AS line_item_usage_account_id,
          c.day AS line_item_usage_start_date, c.day + INTERVAL 1 DAY AS line_item_usage_end_date,
          'AmazonBedrock' AS line_item_product_code, {{'product_name': 'Amazon Bedrock'}} AS product,
          {usage_type_sql('rc.code', 'bn.billing', 'c.kind', 'c.tier', 'c.scope')} AS line_item_usage_type,
          'InvokeModelInference' AS line_item_operation, c.region AS product_region_code,
          c.tokens / {div} AS line_item_usage_amount, '{unit}' AS pricing_unit,
          c.cost AS line_item_unblended_cost, c.cost AS line_item_net_unblended_cost,
          CASE WHEN c.tokens > 0 THEN c.cost / (c.tokens / {div}) END AS line_item_unblended_rate
        FROM _wcur_{n} c JOIN _wbn_{n} bn USING (model) LEFT JOIN _wrc_{n} rc USING (region)
        ORDER BY 3, 7"""
    missing_rc = con.raw_sql(f"SELECT DISTINCT region FROM _wcur_{n} WHERE region NOT IN (SELECT region FROM "
                             f"_wrc_{n})").fetchall()
    if missing_rc:
        raise ConfigError(f"no CUR region code for {[r[0] for r in missing_rc]}")
    if path.suffix.lower() == ".parquet":
        con.raw_sql(f"COPY ({query}) TO {_q(path)} (FORMAT PARQUET)")
    elif path.suffix.lower() == ".csv":
        q = query.replace("{'product_name': 'Amazon Bedrock'} AS product",
                          "'{\"product_name\": \"Amazon Bedrock\"}' AS product")
        con.raw_sql(f"COPY ({q}) TO {_q(path)} (FORMAT CSV, HEADER)")
    else:
        raise ConfigError(f"{path}: write a CUR as .csv or .parquet")
    return path


def write_openai_usage(table: Workload | ibis.Table | pa.Table, path: str | Path) -> Path:
    """OpenAI-compatible chat completion records, one JSON line each, with `usage` as OpenAI counts it:
    `prompt_tokens` INCLUDES cached reads (`prompt_tokens_details.cached_tokens`) and cache writes
    (`cache_creation_input_tokens`, LiteLLM's field; the 1-hour part in `cache_creation`). The call type and
    tags are in `metadata`; the model is the Bedrock id as a gateway would log it."""
    con = connection()
    name = _register(table)
    cols = set(con.sql(f"SELECT * FROM {name} LIMIT 0").columns)
    tags = "tags" if "tags" in cols else "MAP {}::MAP(VARCHAR, VARCHAR)"
    path = Path(path)
    w = "coalesce(cache_write_5m_tokens, 0) + coalesce(cache_write_1h_tokens, 0)"
    query = f"""
        SELECT coalesce(request_id, 'chatcmpl-' || uuid()::VARCHAR) AS id, 'chat.completion' AS object,
          epoch(ts)::DOUBLE AS created, 'bedrock/' || _mid AS model,
          CASE tier WHEN 'standard' THEN 'default' ELSE tier END AS service_tier, region,
          {{'prompt_tokens': input_tokens + coalesce(cache_read_tokens, 0) + {w},
            'completion_tokens': output_tokens,
            'total_tokens': input_tokens + coalesce(cache_read_tokens, 0) + {w} + output_tokens,
            'prompt_tokens_details': {{'cached_tokens': coalesce(cache_read_tokens, 0)}},
            'cache_creation_input_tokens': {w},
            'cache_creation': {{'ephemeral_5m_input_tokens': coalesce(cache_write_5m_tokens, 0),
                                'ephemeral_1h_input_tokens': coalesce(cache_write_1h_tokens, 0)}}}} AS usage,
          map_concat({tags}, MAP {{'call_type': call_type}}) AS metadata
        FROM {name} ORDER BY ts"""
    con.raw_sql(f"COPY ({query}) TO {_q(path)} (FORMAT JSON)")
    return path


def clear(path: str | Path) -> None:
    """Remove a folder written earlier (used by the benchmark)."""
    shutil.rmtree(path, ignore_errors=True)
