"""Reproduce the guide's "$8K-15K a month of equivalent Bedrock spend" break-even band with inferplan's own
break-even, its assumptions written out (docs/economics.md, "The guide's band").

    .venv/bin/python scripts/guide_band.py

Assumptions, the guide's: steady traffic (a constant demand series: peak = mean), a Llama-class model well
supported on Inferentia2 (Llama 3.1 8B: `neuron_supported` in the catalog), engineering priced at 0.2-0.4 of an
engineer at $220K-300K a year loaded with 2-3 months' set-up. The Bedrock side is the same model on Bedrock
on-demand (Llama 3.1 8B Instruct, us. profile), so the self-hosted options serve exactly the traffic Bedrock
would. Prints a markdown table and, on its last line, a JSON summary.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from inferplan.catalog import load_catalog
from inferplan.demand.readers import read_demand
from inferplan.economics import TcoOptions
from inferplan.planner import run_breakeven
from inferplan.serving.spec import CompareSpec

MODEL = "us.meta.llama3-1-8b-instruct-v1:0"
INSTANCES = ["inf2.xlarge", "inf2.8xlarge", "g6e.xlarge", "g5.xlarge"]
# (fte, loaded $/year, set-up weeks, on-call $/week): the guide's low, middle and high engineering with
# inferplan's on-call default, then the ongoing share alone (no set-up, no on-call), as the guide seems to count it
CASES = [(0.2, 220_000, 8.7, 500.0), (0.3, 260_000, 10.0, 500.0), (0.4, 300_000, 13.0, 500.0),
         (0.2, 220_000, 0.0, 0.0), (0.3, 260_000, 0.0, 0.0), (0.4, 300_000, 0.0, 0.0)]


def main() -> None:
    cat = load_catalog(warn_stale=False)
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "steady.csv"
        # 1 request/s for an hour, 1,000 input and 200 output tokens each (a chat-like shape)
        p.write_text("ts,requests,input_tokens,output_tokens\n"
                     + "".join(f"{1_700_000_000 + 60 * i},60,60000,12000\n" for i in range(60)))
        demand = read_demand([p], cat, "demand", model=MODEL)
    rows = []
    for fte, usd, weeks, oncall in CASES:
        ec2 = {"setup_weeks": weeks, "neuron_port_weeks": 4 if weeks else 0, "oncall_usd_per_week": oncall}
        tco = TcoOptions(fte=fte, usd_per_year=usd, kinds={"ec2": ec2})
        doc = {"uncertainty": {"draws": 10_000}, "plan": {"scale_points": 31}}
        res = run_breakeven(None, demand, cat, CompareSpec(self_host=["llama-3.1-8b"], instance=INSTANCES), doc, tco)
        for r in res["breakeven"]:
            if r["kind"] != "ec2" or "fixed for the peak" not in r["option"] or r["scale"] is None:
                continue
            # unit cost at break-even, infrastructure only, against Bedrock's
            unit = r["infra_monthly_usd"] / r["monthly_bedrock_usd"]
            mc = next(o for o in res["uncertainty"]["options"] if o["option"] == r["option"])
            rows.append({"fte": fte, "usd_per_year": usd, "setup_weeks": weeks, "oncall_usd_per_week": oncall,
                         "instance": r["instance"],
                         "engineering_monthly_usd": r["engineering_monthly_usd"],
                         "breakeven_monthly_bedrock_usd": r["monthly_bedrock_usd"],
                         "infra_share_of_bedrock_at_breakeven": round(unit, 3),
                         "p10_p50_p90": mc["breakeven_monthly_bedrock_usd"]})
    print("| FTE | $/year | set-up weeks | on-call $/week | instance | engineering $/month | "
          "break-even (Bedrock $/month) | infra / Bedrock there | Monte Carlo P10 / P50 / P90 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        p = r["p10_p50_p90"]
        band = " / ".join("-" if p[k] is None else f"${p[k]:,.0f}" for k in ("p10", "p50", "p90"))
        print(f"| {r['fte']} | ${r['usd_per_year']:,} | {r['setup_weeks']} | {r['oncall_usd_per_week']:g} | "
              f"{r['instance']} | "
              f"${r['engineering_monthly_usd']:,.0f} | ${r['breakeven_monthly_bedrock_usd']:,.0f} | "
              f"{r['infra_share_of_bedrock_at_breakeven']:.0%} | {band} |")
    print(json.dumps({"rows": rows}))


if __name__ == "__main__":
    main()
