"""Cache buckets of an OpenAI-style `usage` object, as OpenAI, LiteLLM and OpenRouter write them, in DuckDB.

One count can be written in several places; each bucket takes the FIRST place that has it, never a sum:

- cache reads: `prompt_tokens_details.cached_tokens` (OpenAI), `cache_read_input_tokens` (LiteLLM copies
  Anthropic's count here AND into `cached_tokens`: `litellm/types/utils.py` `Usage.__init__`),
  `input_tokens_details.cached_tokens` (Responses API), `prompt_cache_hit_tokens` (DeepSeek).
- cache writes, total: `prompt_tokens_details.cache_write_tokens` (OpenRouter, newer LiteLLM),
  `prompt_tokens_details.cache_creation_tokens` (LiteLLM's copy of `cache_creation_input_tokens`),
  `cache_creation_input_tokens` (LiteLLM, Anthropic), `prompt_tokens_details.cache_creation_input_tokens`.
- the 5-minute / 1-hour split: `prompt_tokens_details.cache_creation_token_details.ephemeral_{5m,1h}_input_tokens`
  (LiteLLM) or `cache_creation.ephemeral_{5m,1h}_input_tokens` (Anthropic's own shape, passed through).
  The most detailed wins: writes = max(total, 5m + 1h); 1-hour writes = the 1h count; the rest is 5-minute.

Several sources (LiteLLM's `metadata.usage_object`, then `metadata.additional_usage_values`) are looked up in
order, field by field: the same count in both is read once.

`prompt_tokens` conventions (which part of the input it holds), decided per record:

- `no_writes`: prompt = uncached + reads (LiteLLM's Bedrock Converse `_transform_usage` and some Anthropic
  transforms add `cacheReadInputTokens` but not the writes): `total_tokens = prompt + completion + writes`
  (writes > 0), or, outside Anthropic-convention call types, `reads <= prompt < reads + writes`.
- `uncached`: prompt = the uncached part only (Anthropic's `input_tokens` convention; LiteLLM's
  `anthropic_messages` call types): `total_tokens = prompt + completion + reads + writes` (reads + writes > 0),
  or `prompt < reads + writes` on an Anthropic-convention call type, or `prompt < reads`.
- `inclusive` (OpenAI's convention, the default): prompt = uncached + reads + writes.
"""

from __future__ import annotations

import ibis

from ._jsonl import bad_count, json_count

READS = ("$.prompt_tokens_details.cached_tokens", "$.cache_read_input_tokens", "$.input_tokens_details.cached_tokens",
         "$.prompt_cache_hit_tokens")
WRITES = ("$.prompt_tokens_details.cache_write_tokens", "$.prompt_tokens_details.cache_creation_tokens",
          "$.cache_creation_input_tokens", "$.prompt_tokens_details.cache_creation_input_tokens")
_DETAIL = ("$.prompt_tokens_details.cache_creation_token_details.ephemeral_{}_input_tokens",
           "$.cache_creation.ephemeral_{}_input_tokens")
W5M = tuple(p.format("5m") for p in _DETAIL)
W1H = tuple(p.format("1h") for p in _DETAIL)
ALL = (*READS, *WRITES, *W5M, *W1H)


def _first(sources: list[str], paths: tuple[str, ...]) -> str:
    """SQL: the first of `paths` in the first source that has it, as a count (NULL when none has it)."""
    return "coalesce(" + ", ".join(json_count(f"json_extract({s}, '{p}')") for p in paths for s in sources) + ")"


def _distinct(sources: list[str], paths: tuple[str, ...]) -> str:
    """SQL: how many different counts the present `paths` hold (above 1: two fields disagree)."""
    vals = ", ".join(json_count(f"json_extract({s}, '{p}')") for p in paths for s in sources)
    return f"coalesce(len(list_distinct(list_filter([{vals}], lambda x: x IS NOT NULL))), 0)"


def bad_sql(sources: list[str]) -> str:
    """SQL: some cache field is there but not an integer in range."""
    return "(" + " OR ".join(bad_count(f"json_extract({s}, '{p}')") for p in ALL for s in sources) + ")"


def raw_columns(sources: list[str]) -> str:
    """SQL select items `_cr, _wt, _d5, _d1, _cr_n, _wt_n` (counts read from the usage objects `sources`)."""
    return (f"coalesce({_first(sources, READS)}, 0) AS _cr, {_first(sources, WRITES)} AS _wt, "
            f"{_first(sources, W5M)} AS _d5, {_first(sources, W1H)} AS _d1, "
            f"{_distinct(sources, READS)} AS _cr_n, {_distinct(sources, WRITES)} AS _wt_n")


def bucket_columns(p: str = "_p", c: str = "_c", t: str = "_t", anthropic: str = "false") -> str:
    """SQL select items over `raw_columns` and the prompt/completion/total counts `p`, `c`, `t` (NULL total
    when absent): `_w` (all writes), `_w1h`, `_conv` (the `prompt_tokens` convention), `_input` (plain
    input). `anthropic`: SQL, true on records whose call type follows Anthropic's convention."""
    w = "greatest(coalesce(_wt, 0), coalesce(_d5, 0) + coalesce(_d1, 0))"
    conv = (f"CASE WHEN {t} IS NOT NULL AND {w} > 0 AND {p} >= _cr AND {t} = {p} + {c} + {w} THEN 'no_writes' "
            f"WHEN {t} IS NOT NULL AND _cr + {w} > 0 AND {t} = {p} + {c} + _cr + {w} THEN 'uncached' "
            f"WHEN {p} >= _cr + {w} THEN 'inclusive' "
            f"WHEN NOT ({anthropic}) AND {p} >= _cr THEN 'no_writes' ELSE 'uncached' END")
    return (f"{w} AS _w, least(coalesce(_d1, 0), {w}) AS _w1h, {conv} AS _conv, "
            f"CASE {conv} WHEN 'inclusive' THEN {p} - _cr - {w} WHEN 'no_writes' THEN {p} - _cr ELSE {p} END "
            "AS _input")


def notes(label: str, counts: dict[str, int]) -> list[str]:
    """Notes for the records read under another convention, or whose fields disagreed."""
    out = []
    if counts.get("no_writes"):
        out.append(f"{label}: prompt_tokens read as uncached + cache reads (cache writes not in it) for "
                   f"{counts['no_writes']:,} record(s): LiteLLM's Bedrock Converse convention")
    if counts.get("uncached"):
        out.append(f"{label}: prompt_tokens read as the uncached part (no cache reads or writes in it) for "
                   f"{counts['uncached']:,} record(s): Anthropic's convention")
    if counts.get("reads_disagree"):
        out.append(f"{label}: cache reads given with different counts in two fields for "
                   f"{counts['reads_disagree']:,} record(s); took the first of " + ", ".join(READS))
    if counts.get("writes_disagree"):
        out.append(f"{label}: cache writes given with different counts in two fields for "
                   f"{counts['writes_disagree']:,} record(s); took the first of " + ", ".join(WRITES))
    return out



def counts(table: ibis.Table) -> dict[str, int]:
    """The counts `notes` takes, from a table with `_conv`, `_cr_n`, `_wt_n`."""
    agg = table.aggregate(no_writes=(table._conv == "no_writes").sum(), uncached=(table._conv == "uncached").sum(),
                          reads_disagree=(table._cr_n > 1).sum(), writes_disagree=(table._wt_n > 1).sum())
    return {k: int(v or 0) for k, v in agg.to_pyarrow().to_pylist()[0].items()}
