"""Token usage as Bedrock Runtime reports it, in the canonical disjoint buckets.

- Converse / ConverseStream `usage` (and the stream's `metadata` event): `inputTokens` excludes cached input;
  `cacheReadInputTokens`, `cacheWriteInputTokens`, and `cacheDetails: [{ttl: "5m"|"1h", inputTokens}]` for the
  split of the writes by TTL.
- InvokeModel: response headers `X-Amzn-Bedrock-Input-Token-Count`, `-Output-Token-Count`,
  `-Cache-Read-Input-Token-Count`, `-Cache-Write-Input-Token-Count`; the 1-hour part of the writes only in an
  Anthropic body (`usage.cache_creation.ephemeral_1h_input_tokens`).
- InvokeModelWithResponseStream: the last chunk's `amazon-bedrock-invocationMetrics` (`inputTokenCount`,
  `outputTokenCount`, `cacheReadInputTokenCount`, `cacheWriteInputTokenCount`, `firstByteLatency`); the 1-hour
  split in the Anthropic `message_start` chunk.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

TIERS = {"default": "standard", "standard": "standard", "flex": "flex", "priority": "priority",
         "reserved": "provisioned"}
_H_IN = "x-amzn-bedrock-input-token-count"
_H_OUT = "x-amzn-bedrock-output-token-count"
_H_CR = "x-amzn-bedrock-cache-read-input-token-count"
H_CW = _H_CW = "x-amzn-bedrock-cache-write-input-token-count"
_1H = re.compile(rb'"ephemeral_1h_input_tokens"\s*:\s*(\d+)')


class Usage(NamedTuple):
    """Disjoint token buckets of one call (cache writes split by TTL)."""

    input: int = 0
    cache_read: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    output: int = 0


def _int(v: Any) -> int:
    try:
        n = int(v)
    except (TypeError, ValueError):
        return 0
    return n if n > 0 else 0


def split_writes(total: int, w1h: int) -> tuple[int, int]:
    """(5-minute, 1-hour) writes from the total and the 1-hour part (clipped to the total)."""
    w1h = min(max(w1h, 0), total)
    return total - w1h, w1h


def converse(usage: Mapping[str, Any] | None) -> Usage | None:
    """A Converse `usage` object (or a ConverseStream metadata event's), or None when there is none."""
    if not usage:
        return None
    total_w = _int(usage.get("cacheWriteInputTokens"))
    w1h = 0
    for d in usage.get("cacheDetails") or ():
        if d.get("ttl") == "1h":
            w1h += _int(d.get("inputTokens"))
    w5m, w1h = split_writes(total_w, w1h)
    return Usage(_int(usage.get("inputTokens")), _int(usage.get("cacheReadInputTokens")), w5m, w1h,
                 _int(usage.get("outputTokens")))


def from_headers(headers: Mapping[str, str]) -> tuple[Usage | None, int]:
    """InvokeModel usage from the response headers (lower-case keys, as botocore gives them), with the cache
    writes all counted 5-minute until the body says otherwise; and the write total."""
    if _H_IN not in headers and _H_OUT not in headers:
        return None, 0
    cw = _int(headers.get(_H_CW))
    return Usage(_int(headers.get(_H_IN)), _int(headers.get(_H_CR)), cw, 0, _int(headers.get(_H_OUT))), cw


def one_hour_in(body: bytes) -> int:
    """The 1-hour cache writes an Anthropic body reports (0 when it says nothing)."""
    m = _1H.search(body)
    return int(m.group(1)) if m else 0


def with_1h(u: Usage, w1h: int) -> Usage:
    w5m, w1h = split_writes(u.cache_write_5m + u.cache_write_1h, w1h)
    return u._replace(cache_write_5m=w5m, cache_write_1h=w1h)


def invocation_metrics(m: Mapping[str, Any]) -> Usage:
    """`amazon-bedrock-invocationMetrics` of an InvokeModel stream's last chunk."""
    return Usage(_int(m.get("inputTokenCount")), _int(m.get("cacheReadInputTokenCount")),
                 _int(m.get("cacheWriteInputTokenCount")), 0, _int(m.get("outputTokenCount")))


def tier(value: Any) -> str | None:
    """A Bedrock service tier (`serviceTier` or `{"type": ...}`) as the canonical tier name; unknown names pass
    through (the reader then names them) and None stays None."""
    if isinstance(value, Mapping):
        value = value.get("type")
    if not value:
        return None
    v = str(value).lower()
    return TIERS.get(v, v)
