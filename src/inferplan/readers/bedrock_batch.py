"""Amazon Bedrock batch inference output: `<input>.jsonl.out` records (`recordId`, `modelInput`,
`modelOutput` or `error`) and the job's `manifest.json.out`.

Every record is tier `batch`. Tokens come from `modelOutput.usage` (Anthropic `input_tokens`,
`cache_read_input_tokens`, `cache_creation_input_tokens`, `output_tokens`; Nova `inputTokens`,
`outputTokens`; Llama `prompt_token_count`, `generation_token_count`; Titan `inputTextTokenCount`). Batch
output has no model id and no timestamps: the model comes from `--model`, and rows are dated at the output
file's modification time. Error records are counted apart. The manifest's token totals are checked against
the records read, and any difference is reported.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import ibis

from ..errors import InputError
from ._jsonl import collect, json_int, lines_sql

if TYPE_CHECKING:
    from . import Raw, ReadOptions

NAME = "bedrock-batch"
MANIFEST = "manifest.json.out"


def sniff(path: Path, head: bytes) -> bool:
    if path.name == MANIFEST:
        return True
    return b'"recordId"' in head and (b'"modelOutput"' in head or b'"modelInput"' in head)


def _first(*paths: str) -> str:
    return "coalesce(" + ", ".join(json_int(f"json_extract(j, '$.modelOutput.{p}')") for p in paths) + ")"


def read(paths: list[Path], options: ReadOptions) -> Raw:
    from . import Raw

    manifests = [p for p in paths if p.name == MANIFEST]
    records = [p for p in paths if p.name != MANIFEST]
    notes: list[str] = []
    if not records:
        raise InputError(f"{manifests[0]}: a batch manifest without its .jsonl.out record files; pass the job's "
                         "output folder")
    parts = []
    skipped: dict[str, int] = {}
    n_err = 0
    for f in records:
        mtime = datetime.fromtimestamp(f.stat().st_mtime, tz=UTC).isoformat()
        query = f"""
        WITH l AS ({lines_sql([f])}),
        v AS (SELECT *, json_type(j, '$.error') NOT IN ('NULL') AND json_type(j, '$.error') IS NOT NULL AS _error,
          {_first('usage.input_tokens', 'usage.inputTokens', 'prompt_token_count', 'inputTextTokenCount')} AS _in,
          {_first('usage.output_tokens', 'usage.outputTokens', 'generation_token_count',
                  'results[0].tokenCount')} AS _out,
          coalesce({_first('usage.cache_read_input_tokens', 'usage.cacheReadInputTokens')}, 0) AS _cr,
          coalesce({_first('usage.cache_creation_input_tokens', 'usage.cacheWriteInputTokens')}, 0) AS _cw FROM l)
        SELECT _file, _line, _error,
          CASE WHEN NOT _valid THEN 'invalid JSON (truncated or malformed record)' WHEN _error THEN NULL
            WHEN json_type(j, '$.modelOutput') IS NULL THEN 'modelOutput missing'
            WHEN _in IS NULL THEN 'input token count missing or not an integer'
            WHEN _out IS NULL THEN 'output token count missing or not an integer'
            WHEN _in < 0 OR _out < 0 OR _cr < 0 OR _cw < 0 THEN 'negative token count' END AS _reason,
          TIMESTAMPTZ '{mtime}' AS ts, json_extract_string(j, '$.recordId') AS request_id, 'batch' AS tier,
          _in AS input_tokens, _cr AS cache_read_tokens, _cw AS cache_write_tokens, _out AS output_tokens,
          false AS interactive FROM v"""
        cols = ["ts", "request_id", "tier", "input_tokens", "cache_read_tokens", "cache_write_tokens",
                "output_tokens", "interactive", "_error"]
        t, bad = collect(query, cols, options.on_error, "bedrock batch")
        for k, v in bad.items():
            skipped[k] = skipped.get(k, 0) + v
        n_err += int(t.filter(t._error.fill_null(False)).count().execute())
        parts.append(t.filter(~t._error.fill_null(False)).drop("_error"))
    table = parts[0] if len(parts) == 1 else ibis.union(*parts)
    if n_err:
        notes.append(f"bedrock batch: {n_err:,} error record(s) not billed, left out")
    notes.append("bedrock batch: output has no timestamps; rows are dated at the output file's modification time")
    for m in manifests:
        notes += _check_manifest(m, table)
    return Raw(table=table, skipped=skipped, notes=notes)


def _check_manifest(path: Path, table: ibis.Table) -> list[str]:
    """Compare the manifest's totals with what was read (a small JSON file)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a valid batch manifest ({exc})") from None
    got = table.aggregate(i=(table.input_tokens + table.cache_read_tokens + table.cache_write_tokens).sum(),
                          o=table.output_tokens.sum(), n=table.count()).to_pyarrow().to_pylist()[0]
    out = [f"batch manifest {path.parent.name}: {doc.get('successRecordCount', '?')} succeeded, "
           f"{doc.get('errorRecordCount', '?')} failed of {doc.get('totalRecordCount', '?')}"]
    for key, mine in (("inputTokenCount", got["i"]), ("outputTokenCount", got["o"])):
        if key in doc and int(doc[key]) != int(mine or 0):
            out.append(f"batch manifest {path}: {key} {int(doc[key]):,} but records sum to {int(mine or 0):,} "
                       "(record files missing?)")
    return out
