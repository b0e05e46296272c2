"""Tags from user metadata (request metadata of gateways and Bedrock logs) keep no request text: keys that
name text (`prompt`, `messages`, `content`, ...) and values over 256 characters are dropped, in DuckDB, and
counted so the reader can say so."""

from __future__ import annotations

MAX_VALUE = 256
TEXT_KEYS = ("prompt", "prompts", "message", "messages", "content", "contents", "input", "inputs", "text",
             "system", "completion", "completions", "response", "responses", "output", "outputs", "query",
             "queries")
# a key names text when one of its words (split on anything but letters, and at camelCase humps) is a text
# word: `prompt`, `system_prompt`, `userInput`
_KEY_RE = r"(^|[^a-z])(" + "|".join(TEXT_KEYS) + r")([^a-z]|$)"


def _keep(e: str) -> str:
    key = f"lower(regexp_replace(coalesce({e}.key, ''), '([a-z0-9])([A-Z])', '\\1_\\2', 'g'))"
    return (f"(NOT regexp_matches({key}, '{_KEY_RE}') "
            f"AND coalesce(length({e}.value), 0) <= {MAX_VALUE})")


def safe_tags_sql(m: str) -> str:
    """SQL: the MAP(VARCHAR, VARCHAR) `m` without text-like keys or long values (empty map when `m` is NULL)."""
    return f"map_from_entries(list_filter(coalesce(map_entries({m}), []), lambda e: {_keep('e')}))"


def dropped_tags_sql(m: str) -> str:
    """SQL: how many entries of `m` safe_tags_sql drops."""
    return f"len(list_filter(coalesce(map_entries({m}), []), lambda e: NOT {_keep('e')}))"


def dropped_note(n: int) -> list[str]:
    return [f"{n:,} tag value(s) dropped: text-like keys or over {MAX_VALUE} characters"] if n else []
