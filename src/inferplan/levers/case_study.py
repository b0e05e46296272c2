"""The guide's case study: synthetic traffic from `examples/support_case_study.yaml`, all levers, monthly.

`run()` draws the scenario's traffic with `inferplan.synth`, evaluates every lever alone and compounded,
and scales dollars to a 30-day month: once with the scenario's levers as written (the guide's stated cache
read share), once with the cache replayed on the generated prefixes instead. See docs/levers.md for
the comparison with the guide's ~62%.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..catalog import Catalog, load_catalog

GUIDE_SAVING_PCT = 62.0
GUIDE_MONTHLY_USD = 26_000.0
LEVERS = "batch,caching,routing"  # what the guide's partner did (no trimming)


def run(scenario: str | Path, catalog: Catalog | None = None, *, seed: int = 0, days: float | None = None
        ) -> dict[str, Any]:
    from .. import synth
    from . import evaluate

    cat = catalog or load_catalog(warn_stale=False)
    doc = yaml.safe_load(Path(scenario).read_text(encoding="utf-8"))
    spec = synth.load_traffic(doc)
    table = synth.generate(spec, seed=seed, days=days)
    wl = synth.to_workload(table, cat, source=str(scenario))
    lv = evaluate(wl, cat, LEVERS, doc)
    replay_doc = {**doc, "levers": {**doc.get("levers", {}),
                                    "caching": {k: v for k, v in doc.get("levers", {}).get("caching", {}).items()
                                                if k != "stated_read_fraction"}}}
    lv_replay = evaluate(wl, cat, LEVERS, replay_doc)
    span = days if days is not None else spec.days
    per_month = 30.0 / span
    steps = lv["compounded"]["steps"]
    by_ct = lv["baseline_by_call_type_usd"]
    groups = lv_replay["alone"]["caching"]["evidence"]["groups"]
    cached = [g for g in groups if g["placement"] not in ("no caching", "as observed")]
    return {
        "requests": table.num_rows, "days": span,
        "monthly_baseline_usd": round(lv["baseline_usd"] * per_month, 2),
        "monthly_by_call_type_usd": {k: round(v * per_month, 2) for k, v in by_ct.items()},
        "monthly_after_usd": round(lv["compounded"]["new_usd"] * per_month, 2),
        "compounded_saving_pct": lv["compounded"]["saving_pct"],
        "guide_saving_pct": GUIDE_SAVING_PCT, "guide_monthly_usd": GUIDE_MONTHLY_USD,
        "alone_saving_pct": {k: v["saving_pct"] for k, v in lv["alone"].items()},
        "by_call_type_saving_pct": {
            k: round(100 * (1 - lv["compounded"]["by_call_type_usd"].get(k, 0.0) / v), 2) for k, v in by_ct.items() if v
        },
        "steps": [{"after": s["after"], "monthly_usd": round(s["new_usd"] * per_month, 2),
                   "saving_pct": s["saving_pct"], "share_of_saving": s["share_of_saving"]} for s in steps],
        "replayed_caching": {
            "read_fraction": {g["call_type"]: g["read_fraction"] for g in cached},
            "placement": {g["call_type"]: f"{g['placement']}, TTL {g['ttl_s']} s" for g in cached},
            "alone_saving_pct": lv_replay["alone"]["caching"]["saving_pct"],
            "compounded_saving_pct": lv_replay["compounded"]["saving_pct"],
            "monthly_after_usd": round(lv_replay["compounded"]["new_usd"] * per_month, 2),
        },
        "levers": lv,
        "levers_replayed": lv_replay,
    }
