"""BurstGPT (HPMLL/BurstGPT, KDD'25): `Timestamp,[Session ID,Elapsed time,]Model,Request tokens,Response
tokens,Total tokens,Log Type`.

Times are seconds from `ReadOptions.trace_start`. The log type becomes the call type (`Conversation log` ->
`conversation`, `API log` -> `api`); the source model (ChatGPT, GPT-4) is kept in `tags['source_model']` and
becomes the model through `ReadOptions.model_map` (e.g. `{"ChatGPT": "claude-haiku-4.5"}`), else `--model`.
Rows with zero response tokens (failed requests in BurstGPT) are kept and reported in the notes.
"""

from __future__ import annotations

import ibis

from ..engine import connection
from ._csv import _quote, read_csv_checked
from .base import InputFile, Raw, ReadOptions, head_bytes

NAME = "burstgpt"


def sniff(path: InputFile, head: bytes) -> bool:
    first = head.split(b"\n", 1)[0]
    return b"Request tokens" in first and b"Response tokens" in first and b"Log Type" in first


def read(paths: list[InputFile], options: ReadOptions) -> Raw:
    con = connection()
    parts = []
    skipped: dict[str, int] = {}
    zero = 0
    for p in paths:
        header = head_bytes(p).split(b"\n", 1)[0].decode("utf-8", "replace").strip().lstrip("\ufeff").split(",")
        types = {"Timestamp": "DOUBLE", "Session ID": "VARCHAR", "Elapsed time": "DOUBLE", "Model": "VARCHAR",
                 "Request tokens": "BIGINT", "Response tokens": "BIGINT", "Total tokens": "BIGINT",
                 "Log Type": "VARCHAR"}
        cols = {c: types.get(c, "VARCHAR") for c in header}
        name, bad = read_csv_checked(con, p, cols, options.on_error)
        for k, v in bad.items():
            skipped[k] = skipped.get(k, 0) + v
        mapping = options.model_map or {}
        case = " ".join(f"WHEN {_quote(k)} THEN {_quote(v)}" for k, v in mapping.items())
        model = f"CASE \"Model\" {case} ELSE NULL END" if mapping else "NULL::VARCHAR"
        zero += con.raw_sql(f'SELECT count(*) FROM {name} WHERE "Response tokens" = 0').fetchone()[0]
        parts.append(con.sql(f"""SELECT TIMESTAMPTZ '{options.trace_start.isoformat()}'
              + to_microseconds(("Timestamp" * 1e6)::BIGINT) AS ts,
            {model} AS model_id,
            CASE lower(trim("Log Type")) WHEN 'conversation log' THEN 'conversation' WHEN 'api log' THEN 'api'
              ELSE lower(trim("Log Type")) END AS call_type,
            "Request tokens" AS input_tokens, "Response tokens" AS output_tokens,
            MAP {{'source_model': "Model"}} AS tags FROM {name}"""))
    notes = ([f"burstgpt: {zero:,} row(s) with zero response tokens (failed requests in the trace), kept"]
             if zero else [])
    table = parts[0] if len(parts) == 1 else ibis.union(*parts)
    return Raw(table=table, skipped=skipped, notes=notes)
