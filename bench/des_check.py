"""Window-level fleet model against the request-level discrete-event simulation, on the bundled Azure traces.

For each trace (code, conversation): llama-3.1-8b bf16 on g6e.xlarge, capacity from the throughput model at the
trace's mean shape under TTFT 2 s / TPOT 50 ms; fixed fleets from generous to overloaded; 60-second cost windows, with
queue waits from the 60-second counts alone and from arrivals in 10-second windows (what compare does).
Prints one line per case and a JSON summary on the last line (the figures docs/serving.md quotes).

    .venv/bin/python bench/des_check.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.csv as pcsv

from inferplan.catalog import load_catalog
from inferplan.fleet.des import check
from inferplan.perf import RequestMix, Slo
from inferplan.perf.api import best_on_instance

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "traces" / "azure2023"


def main() -> None:
    cat = load_catalog(warn_stale=False)
    rows = []
    for name in ("code", "conv"):
        t = pcsv.read_csv(DATA / f"AzureLLMInferenceTrace_{name}.csv")
        ts = t.column("TIMESTAMP").cast("timestamp[us]").cast("int64").to_numpy() / 1e6
        inp, out = t.column("ContextTokens").to_numpy(), t.column("GeneratedTokens").to_numpy()
        mix = RequestMix(input_tokens=float(inp.mean()), output_tokens=float(out.mean()))
        perf = best_on_instance(cat, cat.model_spec("llama-3.1-8b"), cat.ec2("g6e.xlarge"), "bf16", mix,
                                Slo(ttft_ms=2000, tpot_ms=50))
        rps, slots = perf.instance_requests_per_s, perf.batch * perf.replicas_per_instance
        budget = 2.0 - perf.ttft_ms / 1000
        rate = ts.size / (ts.max() - ts.min())
        for scale in (0.25, 0.5, 0.75, 1.0, 1.5):
            n = max(1, int(round(rate / rps / scale)))
            r = check(ts, out, rps, slots, n, 60, budget)
            rows.append({"trace": name, "replicas": n, **{k: round(v, 3) for k, v in (
                ("utilization", r["utilization"]), ("window_miss", r["window"]["slo_miss_share"]),
                ("fine_miss", r["window_fine"]["slo_miss_share"]), ("des_miss", r["des"]["slo_miss_share"]),
                ("window_p95_s", r["window"]["p95"]), ("fine_p95_s", r["window_fine"]["p95"]),
                ("des_p95_s", r["des"]["p95"]), ("window_p99_s", r["window"]["p99"]),
                ("fine_p99_s", r["window_fine"]["p99"]), ("des_p99_s", r["des"]["p99"]))},
                         "replica_rps": round(rps, 3), "slots": slots})
    seen = set()
    uniq = []
    for r in rows:
        key = (r["trace"], r["replicas"])
        if key not in seen:
            seen.add(key)
            uniq.append(r)
            print(r)
    gaps = [abs(r["des_miss"] - r["window_miss"]) for r in uniq]
    fine = [abs(r["des_miss"] - r["fine_miss"]) for r in uniq]
    print(json.dumps({"cases": uniq, "max_abs_miss_gap_60s": round(max(gaps), 3),
                      "mean_abs_miss_gap_60s": round(float(np.mean(gaps)), 3),
                      "max_abs_miss_gap_10s": round(max(fine), 3),
                      "mean_abs_miss_gap_10s": round(float(np.mean(fine)), 3)}))


if __name__ == "__main__":
    main()
