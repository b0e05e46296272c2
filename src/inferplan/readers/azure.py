"""Azure LLM inference trace 2023 (`TIMESTAMP,ContextTokens,GeneratedTokens`, one file per service).

The file name gives the call type: `AzureLLMInferenceTrace_code.csv` -> `code`, `..._conv.csv` ->
`conversation`. The trace has no model or region: they come from `--model` and `--region`.
"""

from __future__ import annotations

import re
from pathlib import Path

import ibis

from ..engine import connection
from ._csv import read_csv_checked
from .base import InputFile, Raw, ReadOptions

NAME = "azure2023"
HEADER = "TIMESTAMP,ContextTokens,GeneratedTokens"
_SERVICE_NAMES = {"conv": "conversation"}


def sniff(path: InputFile, head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf").startswith(HEADER.encode())


def call_type_of(path: Path) -> str:
    m = re.search(r"AzureLLMInferenceTrace_([A-Za-z0-9]+)", path.name)
    service = m.group(1) if m else path.stem
    return _SERVICE_NAMES.get(service, service)


def read(paths: list[InputFile], options: ReadOptions) -> Raw:
    columns = {"TIMESTAMP": "TIMESTAMP", "ContextTokens": "BIGINT", "GeneratedTokens": "BIGINT"}
    parts = []
    skipped: dict[str, int] = {}
    for p in paths:
        rel, bad = read_csv_checked(connection(), p, columns, options.on_error)
        for k, v in bad.items():
            skipped[k] = skipped.get(k, 0) + v
        t = connection().table(rel)
        parts.append(
            t.select(
                ts=t.TIMESTAMP,
                input_tokens=t.ContextTokens,
                output_tokens=t.GeneratedTokens,
                call_type=ibis.literal(call_type_of(p)),
            )
        )
    table = parts[0] if len(parts) == 1 else ibis.union(*parts)
    return Raw(table=table, skipped=skipped)
