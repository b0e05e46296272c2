"""Amazon Bedrock batch inference output: `<input>.jsonl.out` records (`recordId`, `modelInput`,
`modelOutput` or `error`), the job's `manifest.json.out`, and optionally the job's description (what
`aws bedrock get-model-invocation-job` or `list-model-invocation-jobs` print: `jobArn`, `modelId`,
`submitTime`, `endTime`).

Every record is tier `batch`. Tokens come from `modelOutput.usage` (Anthropic `input_tokens`,
`cache_read_input_tokens`, `cache_creation_input_tokens`, `output_tokens`; Nova `inputTokens`,
`outputTokens`; Llama `prompt_token_count`, `generation_token_count`; Titan `inputTextTokenCount`).
The model comes, first present wins, from the record (`modelOutput.model`: Anthropic bodies carry the
Anthropic model name, mapped to the Bedrock id `anthropic.<name>-v1:0`, `-v2:0` for Claude 3.5 Sonnet v2,
undated names as `anthropic.<name>`), the job description's `modelId` (the job whose id, the last part of
`jobArn`, names a folder above the record file, or the only job given), the manifest's `modelId` if it has
one, then `--model`. Records carry no times: rows are dated at the job's `endTime` (else `lastModifiedTime`,
`submitTime`), else at the output file's modification time, and the notes say which. Error records are
counted apart. The manifest's token totals are checked against the records read, and any difference is
reported.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import ibis

from ..errors import InputError
from ._csv import _quote
from ._jsonl import collect, json_int, lines_sql
from .base import InputFile, Raw, ReadOptions, head_bytes

NAME = "bedrock-batch"
MANIFEST = "manifest.json.out"


def sniff(path: InputFile, head: bytes) -> bool:
    if path.name == MANIFEST or _is_job(head):
        return True
    return b'"recordId"' in head and (b'"modelOutput"' in head or b'"modelInput"' in head)


def _is_job(head: bytes) -> bool:
    return b'"jobArn"' in head and b"model-invocation-job" in head


# Anthropic model name (`modelOutput.model`) -> Bedrock model id: dated names are `-v1:0` except these
_V2 = ("claude-3-5-sonnet-20241022",)


def _bedrock_id(expr: str) -> str:
    """SQL: a record's `modelOutput.model` as a Bedrock model id (Bedrock ids and other names unchanged)."""
    v2 = ", ".join(f"'{m}'" for m in _V2)
    return (f"(CASE WHEN NOT regexp_matches({expr}, '^claude-') THEN {expr} "
            f"WHEN {expr} IN ({v2}) THEN 'anthropic.' || {expr} || '-v2:0' "
            f"WHEN regexp_matches({expr}, '-[0-9]{{8}}$') THEN 'anthropic.' || {expr} || '-v1:0' "
            f"ELSE 'anthropic.' || {expr} END)")


def _jobs(paths: list[Path]) -> list[dict]:
    """Job descriptions (one job, or a list-model-invocation-jobs answer), each with its `_id`."""
    out = []
    for p in paths:
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{p}: not a valid batch job description ({exc})") from None
        for job in doc.get("invocationJobSummaries", [doc]) if isinstance(doc, dict) else []:
            if isinstance(job, dict) and isinstance(job.get("jobArn"), str):
                out.append({**job, "_id": job["jobArn"].rsplit("/", 1)[-1], "_file": p})
    return out


def _job_for(f: Path, jobs: list[dict]) -> dict | None:
    by_id = [j for j in jobs if j["_id"] in {q.name for q in f.parents}]
    return by_id[0] if by_id else (jobs[0] if len(jobs) == 1 else None)


def _job_time(job: dict | None) -> tuple[str | None, str | None]:
    """(ISO time, which field) from a job description."""
    for key in ("endTime", "lastModifiedTime", "submitTime"):
        if job and isinstance(job.get(key), str):
            try:
                return datetime.fromisoformat(job[key].replace("Z", "+00:00")).astimezone(UTC).isoformat(), key
            except ValueError:
                raise InputError(f"{job['_file']}: {key} {job[key]!r} is not an ISO time") from None
    return None, None


def _manifest_model(manifests: list[Path], f: Path) -> str | None:
    for m in manifests:
        if m.parent == f.parent:
            try:
                model = json.loads(m.read_text(encoding="utf-8")).get("modelId")
            except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
                return None
            return model if isinstance(model, str) and model else None
    return None


def _first(*paths: str) -> str:
    return "coalesce(" + ", ".join(json_int(f"json_extract(j, '$.modelOutput.{p}')") for p in paths) + ")"


def read(paths: list[InputFile], options: ReadOptions) -> Raw:
    manifests = [p for p in paths if p.name == MANIFEST]
    job_files = [p for p in paths if p.name != MANIFEST and _is_job(head_bytes(p))]
    records = [p for p in paths if p.name != MANIFEST and p not in job_files]
    jobs = _jobs(job_files)
    notes: list[str] = []
    if not records:
        raise InputError(f"{manifests[0]}: a batch manifest without its .jsonl.out record files; pass the job's "
                         "output folder")
    parts = []
    folders: list[Path] = []
    skipped: dict[str, int] = {}
    n_err = 0
    dated: dict[str, int] = {}
    for f in records:
        job = _job_for(f, jobs)
        when, field = _job_time(job)
        if when is None:
            when, field = datetime.fromtimestamp(f.stat().st_mtime, tz=UTC).isoformat(), "mtime"
        dated[field] = dated.get(field, 0) + 1
        fallback = (job or {}).get("modelId") or _manifest_model(manifests, f)
        fallback_sql = "NULL" if not isinstance(fallback, str) else _quote(fallback)
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
          TIMESTAMPTZ '{when}' AS ts, json_extract_string(j, '$.recordId') AS request_id, 'batch' AS tier,
          coalesce({_bedrock_id("nullif(json_extract_string(j, '$.modelOutput.model'), '')")}, {fallback_sql})
            AS model_id,
          _in AS input_tokens, _cr AS cache_read_tokens, _cw AS cache_write_5m_tokens, _out AS output_tokens,
          false AS interactive FROM v"""
        cols = ["ts", "request_id", "model_id", "tier", "input_tokens", "cache_read_tokens", "cache_write_5m_tokens",
                "output_tokens", "interactive", "_error"]
        t, bad = collect(query, cols, options.on_error, "bedrock batch")
        for k, v in bad.items():
            skipped[k] = skipped.get(k, 0) + v
        n_err += int(t.filter(t._error.fill_null(False)).count().execute())
        parts.append(t.filter(~t._error.fill_null(False)).drop("_error"))
        folders.append(f.parent)
    table = parts[0] if len(parts) == 1 else ibis.union(*parts)
    if not int(table.model_id.notnull().sum().execute() or 0):
        table = table.drop("model_id")  # no model anywhere: `--model` is asked for
    if n_err:
        notes.append(f"bedrock batch: {n_err:,} error record(s) not billed, left out")
    how = {"endTime": "the job's endTime", "lastModifiedTime": "the job's lastModifiedTime",
           "submitTime": "the job's submitTime", "mtime": "the output file's modification time"}
    notes.append("bedrock batch: records have no timestamps; rows are dated at " +
                 ", ".join(f"{how[k]} ({n} file(s))" for k, n in dated.items()))
    for m in manifests:  # a manifest sums the record files of its own folder (the job's output folder)
        mine = [t for t, d in zip(parts, folders, strict=True) if d == m.parent]
        notes += _check_manifest(m, mine[0] if len(mine) == 1 else ibis.union(*mine)) if mine else [
            f"batch manifest {m}: no record files beside it (record files missing?)"]
    return Raw(table=table, skipped=skipped, notes=notes)


def _check_manifest(path: Path, table: ibis.Table) -> list[str]:
    """Compare the manifest's totals with what was read (a small JSON file)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a valid batch manifest ({exc})") from None
    got = table.aggregate(i=(table.input_tokens + table.cache_read_tokens + table.cache_write_5m_tokens).sum(),
                          o=table.output_tokens.sum(), n=table.count()).to_pyarrow().to_pylist()[0]
    out = [f"batch manifest {path.parent.name}: {doc.get('successRecordCount', '?')} succeeded, "
           f"{doc.get('errorRecordCount', '?')} failed of {doc.get('totalRecordCount', '?')}"]
    for key, mine in (("inputTokenCount", got["i"]), ("outputTokenCount", got["o"])):
        if key in doc and int(doc[key]) != int(mine or 0):
            out.append(f"batch manifest {path}: {key} {int(doc[key]):,} but records sum to {int(mine or 0):,} "
                       "(record files missing?)")
    return out
