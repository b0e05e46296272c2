"""Alibaba ServeGen rate series (`ts,total_rps,active_clients`, one row per 600-second window).

The series has rates, not requests: requests are drawn from them (Poisson counts per window, uniform times
within it, seeded by `ReadOptions.seed`), scaled by `ReadOptions.rate_scale` (default 0.01: the full m-large
series is ~237 million requests over 14 days), with lognormal token lengths at the published means for
m-large (~914 input, ~155 output; coefficient of variation 1, an assumption). Model from `--model`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import ibis
import numpy as np
import pyarrow as pa

from ..engine import connection
from ..errors import InputError
from ._csv import read_csv_checked

if TYPE_CHECKING:
    from . import Raw, ReadOptions

NAME = "servegen"
MEAN_INPUT, MEAN_OUTPUT, CV = 914.0, 155.0, 1.0


def sniff(path: Path, head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf").startswith(b"ts,total_rps")


def _lognormal(rng: np.random.Generator, mean: float, n: int) -> np.ndarray:
    s2 = np.log1p(CV**2)
    return np.maximum(1, np.rint(rng.lognormal(np.log(mean) - s2 / 2, np.sqrt(s2), n))).astype(np.int64)


def read(paths: list[Path], options: ReadOptions) -> Raw:
    from . import Raw

    con = connection()
    rng = np.random.default_rng(options.seed)
    start_us = int(options.trace_start.timestamp() * 1e6)
    parts = []
    skipped: dict[str, int] = {}
    total = 0
    for p in paths:
        name, bad = read_csv_checked(con, p, {"ts": "DOUBLE", "total_rps": "DOUBLE", "active_clients": "BIGINT"},
                                     options.on_error)
        skipped.update(bad)
        series = con.table(name).to_pyarrow()
        ts = series.column("ts").to_numpy(zero_copy_only=False)
        rps = series.column("total_rps").to_numpy(zero_copy_only=False)
        if ts.size == 0:
            raise InputError(f"{p}: no rate rows")
        if np.isnan(ts).any() or np.isnan(rps).any() or (rps < 0).any():
            raise InputError(f"{p}: ts and total_rps must be numbers, total_rps non-negative")
        width = np.diff(ts, append=ts[-1] + (ts[1] - ts[0] if ts.size > 1 else 600.0))
        counts = rng.poisson(rps * width * options.rate_scale)
        n = int(counts.sum())
        total += n
        t0 = np.repeat(ts, counts)
        w = np.repeat(width, counts)
        t_us = start_us + ((t0 + rng.random(n) * w) * 1e6).astype(np.int64)
        order = np.argsort(t_us, kind="stable")
        parts.append(pa.table({
            "ts": pa.array(t_us[order], pa.timestamp("us", tz="UTC")),
            "call_type": pa.repeat("m-large", n),
            "input_tokens": pa.array(_lognormal(rng, MEAN_INPUT, n)),
            "output_tokens": pa.array(_lognormal(rng, MEAN_OUTPUT, n)),
        }))
    table = ibis.memtable(pa.concat_tables(parts))
    return Raw(table=table, skipped=skipped,
               notes=[f"servegen: {total:,} requests drawn from the rate series at rate_scale {options.rate_scale} "
                      f"(seed {options.seed}), token means {MEAN_INPUT:.0f}/{MEAN_OUTPUT:.0f}"])
