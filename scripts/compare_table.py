"""The guide's comparison table as Markdown from `inferplan compare --json` output (what docs/serving.md shows).

    .venv/bin/inferplan compare ... --json > out.json && python3 scripts/compare_table.py out.json
"""

from __future__ import annotations

import json
import sys


def pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.0%}" if v >= 0.01 or v == 0 else f"{v:.2%}"


def money(v: float | None) -> str:
    return "-" if v is None else f"${v:,.0f}" if v >= 100 else f"${v:,.2f}"


def table(s: dict) -> str:
    d = s["demand"]
    lines = [f"{d['requests']:,.0f} requests over {d['hours']:.1f} h, peak/mean {d['peak_to_mean']:.2f}", "",
             "| option | billing unit | $/month | idle | util. | $/Mtok | SLO miss | replicas min/mean/max | "
             "biggest lever |", "|---|---|---:|---:|---:|---:|---:|---|---|"]
    for o in sorted((o for o in s["options"] if o["feasible"]), key=lambda o: o["monthly_usd"]):
        r = o["replicas"]
        reps = "-" if r is None else f"{r['min']:g}/{r['mean']:.1f}/{r['max']:g}"
        lines.append(f"| {o['name']} | {o['billing_unit']} | {money(o['monthly_usd'])} | {pct(o['idle_share'])} | "
                     f"{pct(o['utilization'])} | {money(o['usd_per_mtok'])} | {pct(o['slo_miss_share'])} | {reps} | "
                     f"{o['lever'] or ''} |")
    h = s.get("hybrid")
    if h:
        lines += ["", f"Hybrid at its optimal base: {h['base_replicas']} x {h['candidate']}, "
                      f"{money(h['monthly_usd'])}/month ({money(h['self_host_monthly_usd'])} self-hosted + "
                      f"{money(h['bedrock_monthly_usd'])} Bedrock), {h['overflow_share']:.1%} of requests overflow."]
    bad = [o for o in s["options"] if not o["feasible"]]
    if bad:
        lines += ["", "Not feasible or not priced:", ""]
        lines += [f"- {o['name']}: {o['reason']}" for o in bad]
    return "\n".join(lines)


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as fh:
        print(table(json.load(fh)))
