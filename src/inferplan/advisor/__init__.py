"""The advisor: walk the guide's order and say what to do first, with this traffic's evidence and dollars.

Order (the guide's framework): (1) workload: batch, cache, fewer tokens; (2) model: route or cascade, quantize,
distill; (3) serving option: Bedrock, SageMaker or self-hosting against the break-even; (4) instance: right size,
Spot. Findings are ranked by dollars a month saved; each carries its evidence, a confidence (`high`: measured on
this traffic; `medium`: measured with a stated rate or capacity; `low`: a stated default effect) and the command
that shows more. A detector fires only when the traffic shows the pattern and the fix saves money on it, so a
clean call type gets no finding. Savings of different findings on one call type overlap: they are not additive
(the compounded levers in `plan` are).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from ..catalog import Catalog
from ..levers.options import LeverOptions
from . import serving, workload
from .serving import Current, Endpoint
from .traffic import CallTypeFacts, call_type_facts

__all__ = ["KINDS", "advise", "rank", "Current", "Endpoint", "CallTypeFacts", "call_type_facts"]

KINDS = ("batch-eligible-on-realtime", "uncached-repeated-prefix", "cache-breaker", "frontier-model-on-easy-traffic",
         "rag-context-inflation", "idle-endpoint", "oversized-accelerator", "interruptible-not-on-spot",
         "self-host-below-breakeven", "self-host-above-breakeven", "instance-before-levers")
# Levers' compounded saving (share of spend) above which choosing an instance first leaves money on the table.
LEVERS_FIRST_SHARE = 0.10


def rank(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """By dollars a month saved (ties: the guide's order)."""
    return sorted(findings, key=lambda f: (-f["monthly_saving_usd"], f["step"], KINDS.index(f["kind"])))


def workload_findings(table: pa.Table, catalog: Catalog, levers: dict[str, Any], opts: LeverOptions,
                      facts: dict[str, CallTypeFacts], monthly: float, cmd: str = "FILES"
                      ) -> list[dict[str, Any]]:
    """Steps 1-2 from the workload levers' results (`levers.evaluate` with every lever)."""
    return [*workload.batch_eligible(levers, facts, monthly, cmd),
            *workload.uncached_prefix(levers, facts, opts, monthly, cmd),
            *workload.cache_breakers(levers, facts, monthly, cmd),
            *workload.frontier_on_easy(table, catalog, levers, facts, opts, monthly, cmd),
            *workload.rag_inflation(table, catalog, opts, facts, monthly, cmd)]


def levers_first(levers: dict[str, Any], monthly: float, chosen: list[str], cmd: str) -> list[dict[str, Any]]:
    """instance-before-levers: an instance or self-hosted model was chosen (flags, stated endpoints) while the
    workload levers still save a material share of the spend."""
    base = levers["baseline_usd"]
    saving = levers["compounded"]["saving_usd"]
    if not chosen or base <= 0 or saving / base < LEVERS_FIRST_SHARE:
        return []
    steps = ", ".join(f"{s['after']} {s['share_of_saving']:.0%}" for s in levers["compounded"]["steps"]
                      if s["step_saving_usd"] > 0)
    return [workload.finding("instance-before-levers", None, None, saving * monthly, {
        "chosen": chosen, "levers_saving_pct": levers["compounded"]["saving_pct"], "steps": steps,
        "text": f"{', '.join(chosen)} chosen before the workload levers, which alone save "
                f"{levers['compounded']['saving_pct']:.0f}% of the spend ({steps}); size hardware for the traffic "
                "that is left (this saving overlaps the workload findings)"},
        "high", f"inferplan analyze {cmd} --levers all", 4)]


def advise(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rank and check the findings (every kind one of `KINDS`)."""
    for f in findings:
        if f["kind"] not in KINDS:  # pragma: no cover - a programming error, not a user error
            raise ValueError(f"unknown finding kind {f['kind']}")
    return rank(findings)


__all__ += ["workload_findings", "levers_first", "serving"]
