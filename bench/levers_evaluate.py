"""Benchmark: `inferplan analyze --levers all` against plain `inferplan analyze` on the same file.

With no arguments it generates 10 million requests with prefixes itself (`inferplan.synth`, the guide's case
study traffic: a RAG call type with a 2,500-token system prompt and 1,000 retrieved-context variants, ticket
triage, nightly summaries), writes them to canonical Parquet, then runs both commands through the installed
console script, each in its own process (wall time and that process's peak RSS from `wait4`). The levers
replay the cache on the generated prefixes (no stated read fraction), move the nightly summaries to batch,
trim the RAG context and cascade ticket triage to a small model.

Prints JSON on its last line: `requests`, `plain_s`, `levers_s`, `ratio` (levers / plain), `peak_rss_mib`
(the levers run), `plain_peak_rss_mib`, and whether the goals hold (ratio <= 3, peak < 4 GiB).

    .venv/bin/python bench/levers_evaluate.py                        # 10M requests, generated
    .venv/bin/python bench/levers_evaluate.py --requests 1000000     # smaller
    .venv/bin/python bench/levers_evaluate.py --path case.parquet    # an existing canonical file
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
LEVERS = {
    "caching": {"ttl": "auto"},  # replayed on the prefixes
    "batch": {"non_interactive": True},
    "trim": {"rules": [{"call_type": "rag-answer", "scale": 0.8}]},
    "routing": {"rules": [{"call_type": "ticket-triage", "small_model": "us.amazon.nova-lite-v1:0",
                           "mode": "cascade", "share": 1.0, "escalation_rate": 0.45, "seed": 0}]},
}
GOAL_RATIO = 3.0
GOAL_PEAK_MIB = 4096


def timed(cmd: list[str], out: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process; its stdout (one JSON object) goes to `out`."""
    t0 = time.perf_counter()
    with out.open("wb") as fh:
        p = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode() if p.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {err[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=10_000_000)
    ap.add_argument("--path", help="an existing canonical workload file instead of generating one")
    ap.add_argument("--keep", action="store_true", help="keep the generated file and outputs")
    a = ap.parse_args()

    exe = shutil.which("inferplan", path=str(Path(sys.executable).parent)) or "inferplan"
    work = Path(tempfile.mkdtemp(prefix="levers_bench_"))
    spec = yaml.safe_load((ROOT / "examples" / "support_case_study.yaml").read_text())
    scenario = work / "scenario.yaml"
    scenario.write_text(yaml.safe_dump({"traffic": spec["traffic"], "levers": LEVERS}))
    gen_s = None
    if a.path:
        path = Path(a.path)
    else:
        path = work / "requests.parquet"
        t0 = time.perf_counter()
        subprocess.run([exe, "synth", str(scenario), "--out", str(path), "--rows", str(a.requests), "--json"],
                       check=True, stdout=subprocess.DEVNULL)
        gen_s = time.perf_counter() - t0
    plain_s, plain_rss = timed([exe, "analyze", str(path), "--json"], work / "plain.json")
    levers_s, levers_rss = timed([exe, "analyze", str(path), "--json", "--levers", "all", "--scenario",
                                  str(scenario)], work / "levers.json")
    plain = json.loads((work / "plain.json").read_text())
    lv = json.loads((work / "levers.json").read_text())
    assert abs(plain["total_usd"] - lv["levers"]["baseline_usd"]) < 0.005, "the levers' baseline is not the bill"
    if not a.keep:
        shutil.rmtree(work)
    ratio = levers_s / plain_s
    print(json.dumps({
        "bench": "levers_evaluate", "requests": plain["requests"], "path": None if not a.path else str(path),
        "kept": str(work) if a.keep else None,
        "generate_s": None if gen_s is None else round(gen_s, 2), "plain_s": round(plain_s, 2),
        "levers_s": round(levers_s, 2), "ratio": round(ratio, 2), "peak_rss_mib": round(levers_rss, 1),
        "plain_peak_rss_mib": round(plain_rss, 1), "goal_ratio": GOAL_RATIO, "goal_peak_mib": GOAL_PEAK_MIB,
        "ratio_ok": ratio <= GOAL_RATIO, "peak_ok": levers_rss < GOAL_PEAK_MIB,
        "baseline_usd": plain["total_usd"], "compounded_usd": lv["levers"]["compounded"]["new_usd"],
        "alone_saving_usd": {k: v["saving_usd"] for k, v in lv["levers"]["alone"].items()},
    }))


if __name__ == "__main__":
    main()
