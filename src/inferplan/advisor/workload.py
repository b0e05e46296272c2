"""Findings of the guide's steps 1 and 2 (workload, model): what the workload levers show on this traffic.

Dollars come from the existing levers (`inferplan.levers`: batch, caching replay and cache breakers, routing,
trim), run on this traffic and repriced by the one rate card; nothing here re-derives a lever. A detector
fires only when the traffic shows the pattern *and* the lever saves money on it.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..catalog import Catalog
from ..levers import apply_levers, price_table
from ..levers.options import LeverOptions, RoutingOptions, RoutingRule, TrimOptions, TrimRule
from .traffic import (
    EASY_MEAN_OUTPUT_TOKENS,
    FRONTIER_OUTPUT_USD_PER_MTOK,
    RAG_INPUT_OUTPUT_RATIO,
    RAG_MEAN_INPUT_TOKENS,
    RAG_MIN_VARIABLE_TOKENS,
    CallTypeFacts,
    output_price,
    small_model_for,
)

# The guide's case study: a cascade kept ~55% of tickets on the small model (45% escalated). Used only when the
# scenario states no routing rule for the call type; the finding then says so and its confidence is low.
DEFAULT_ESCALATION = 0.45
# Retrieve half as much context: a stated trim, for the size of the prize (validate retrieval quality).
DEFAULT_TRIM_SCALE = 0.5


def finding(kind: str, ct: str | None, model: str | None, saving: float, evidence: dict[str, Any], confidence: str,
            command: str, step: int) -> dict[str, Any]:
    return {"kind": kind, "call_type": ct, "model": model, "monthly_saving_usd": round(max(saving, 0.0), 2),
            "evidence": evidence, "confidence": confidence, "command": command, "step": step}


def _ct_saving(levers: dict[str, Any], lever: str, ct: str) -> float:
    base = levers["baseline_by_call_type_usd"].get(ct, 0.0)
    return base - levers["alone"][lever]["by_call_type_usd"].get(ct, 0.0)


def batch_eligible(levers: dict[str, Any], facts: dict[str, CallTypeFacts], monthly: float, cmd: str
                   ) -> list[dict[str, Any]]:
    out = []
    for e in levers["alone"].get("batch", {}).get("evidence", {}).get("call_types", []):
        ct = e["call_type"]
        if not e.get("qualifies") or not e.get("requests_moved"):
            continue
        saving = _ct_saving(levers, "batch", ct) * monthly
        if saving <= 0:
            continue
        f = facts.get(ct)
        named = e["why"].startswith("named")
        out.append(finding("batch-eligible-on-realtime", ct, f.model if f else None, saving, {
            "requests_on_real_time": e["requests_moved"], "why": e["why"],
            "non_interactive_share": f.non_interactive_share if f else None,
            "text": f"{e['requests_moved']:,} requests nobody waits on ({e['why']}) run on the real-time API; "
                    "batch is about half the price with a 24-hour window"},
            "medium" if named else "high", f"inferplan analyze {cmd} --levers batch", 1))
    return out


def uncached_prefix(levers: dict[str, Any], facts: dict[str, CallTypeFacts], opts: LeverOptions, monthly: float,
                    cmd: str) -> list[dict[str, Any]]:
    ev = levers["alone"].get("caching", {}).get("evidence", {})
    out = []
    by_ct: dict[str, list[dict[str, Any]]] = {}
    for g in ev.get("groups", []):
        if g["placement"] in ("no caching", "as observed"):
            continue
        saved = g["input_usd_before"] - g["input_usd_after"]
        if saved > 0 and g["read_fraction"] > 0:
            by_ct.setdefault(g["call_type"], []).append(g)
    for ct, groups in by_ct.items():
        saving = sum(g["input_usd_before"] - g["input_usd_after"] for g in groups) * monthly
        g0 = max(groups, key=lambda g: g["input_tokens"])
        out.append(finding("uncached-repeated-prefix", ct, g0["model"], saving, {
            "placement": g0["placement"], "ttl_s": g0["ttl_s"], "read_fraction_replayed": g0["read_fraction"],
            "observed_cache_read_share": facts[ct].cache_read_share if ct in facts else None,
            "text": f"replaying the cache ({g0['placement']}, TTL {g0['ttl_s']} s) reads "
                    f"{g0['read_fraction']:.0%} of input tokens from cache"}, "high",
            f"inferplan analyze {cmd} --levers caching", 1))
    for ct, frac in opts.caching.stated_read_fraction.items():
        if ct not in facts or facts[ct].cache_read_share >= frac:
            continue
        saving = _ct_saving(levers, "caching", ct) * monthly
        if saving > 0:
            out.append(finding("uncached-repeated-prefix", ct, facts[ct].model, saving, {
                "stated_read_fraction": frac, "observed_cache_read_share": facts[ct].cache_read_share,
                "shared_prefix_tokens": round(facts[ct].shared_prefix_tokens, 1),
                "text": f"the scenario states {frac:.0%} of input could be read from cache; the logs show "
                        f"{facts[ct].cache_read_share:.0%}"}, "medium", f"inferplan analyze {cmd} --levers caching", 1))
    return out


def cache_breakers(levers: dict[str, Any], facts: dict[str, CallTypeFacts], monthly: float, cmd: str
                   ) -> list[dict[str, Any]]:
    out = []
    for b in levers["alone"].get("caching", {}).get("evidence", {}).get("breakers", []):
        saving = b.get("saving_if_moved_to_end", 0.0) * monthly
        if saving <= 0:
            continue
        ct = b["call_type"]
        out.append(finding("cache-breaker", ct, facts[ct].model if ct in facts else None, saving, {
            "position": b["position"], "distinct_share": b["distinct_share"], "tokens_mean": b["tokens_mean"],
            "repeating_tokens_after": b["repeating_tokens_mean_after"],
            "text": f"segment {b['position']} differs on {b['distinct_share']:.0%} of requests and sits before "
                    f"{b['repeating_tokens_mean_after']:,.0f} tokens that repeat: everything after it misses the "
                    "cache; move it to the end"}, "high", f"inferplan cache-curve {cmd}", 1))
    return out


def frontier_on_easy(table: pa.Table, catalog: Catalog, levers: dict[str, Any], facts: dict[str, CallTypeFacts],
                     opts: LeverOptions, monthly: float, cmd: str) -> list[dict[str, Any]]:
    out = []
    ruled = {r.call_type: r for r in opts.routing.rules}
    for ct, f in facts.items():
        price = output_price(catalog, f)
        if price is None or price < FRONTIER_OUTPUT_USD_PER_MTOK or f.mean_output > EASY_MEAN_OUTPUT_TOKENS:
            continue
        rule = ruled.get(ct)
        if rule is not None and "routing" in levers["alone"]:
            saving = _ct_saving(levers, "routing", ct) * monthly
            basis, conf = (f"the scenario's {rule.mode} to {rule.small_model} (escalation "
                           f"{rule.escalation_rate:.0%})"), "medium"
        else:
            small = small_model_for(catalog, f)
            if small is None:
                continue
            rule = RoutingRule(call_type=ct, small_model=small, mode="cascade", escalation_rate=DEFAULT_ESCALATION)
            o = LeverOptions(routing=RoutingOptions(rules=[rule]))
            sub = table.filter(pc.equal(table.column("call_type"), ct))
            routed, _ = apply_levers(sub, catalog, ["routing"], o)
            saving = (price_table(sub, catalog)[0] - price_table(routed, catalog)[0]) * monthly
            basis, conf = (f"a cascade to {small} with {DEFAULT_ESCALATION:.0%} escalated (the guide's case study; "
                           "not measured here)"), "low"
        if saving <= 0:
            continue
        out.append(finding("frontier-model-on-easy-traffic", ct, f.model, saving, {
            "output_usd_per_mtok": price, "mean_output_tokens": round(f.mean_output, 1),
            "mean_input_tokens": round(f.mean_input, 1), "basis": basis,
            "text": f"{f.requests:,} requests with {f.mean_output:,.0f}-token answers go to a frontier model "
                    f"(${price:g} per million output tokens); {basis}"},
            conf, f"inferplan route-eval OUTCOMES.csv ... (measure quality), then inferplan analyze {cmd} "
            "--levers routing --scenario FILE", 2))
    return out


def rag_inflation(table: pa.Table, catalog: Catalog, opts: LeverOptions, facts: dict[str, CallTypeFacts],
                  monthly: float, cmd: str) -> list[dict[str, Any]]:
    """Large, varying input on every request (retrieved context): what sending less of it would save."""
    out = []
    trimmed_by_rule = {r.call_type: r for r in opts.trim.rules}
    for ct, f in facts.items():
        variable = f.mean_input - f.shared_prefix_tokens
        if (f.mean_input < RAG_MEAN_INPUT_TOKENS or f.recurring_varying_tokens < RAG_MIN_VARIABLE_TOKENS
                or f.mean_input < RAG_INPUT_OUTPUT_RATIO * f.mean_output):
            continue
        sub = table.filter(pc.equal(table.column("call_type"), ct))
        if "prefix" in sub.column_names:  # only the shared leading segments are stable; the rest may be trimmed
            pre = pc.list_slice(sub.column("prefix"), 0, f.shared_depth) if f.shared_depth else \
                pa.nulls(sub.num_rows, sub.schema.field("prefix").type)
            sub_t = sub.set_column(sub.schema.get_field_index("prefix"), "prefix", pre)
        else:
            sub_t = sub
        rule = trimmed_by_rule.get(ct) or TrimRule(call_type=ct, scale=DEFAULT_TRIM_SCALE)
        cut, ev = apply_levers(sub_t, catalog, ["trim"], LeverOptions(trim=TrimOptions(rules=[rule])))
        saving = (price_table(sub, catalog)[0] - price_table(cut, catalog)[0]) * monthly
        if saving <= 0:
            continue
        basis = "the scenario's trim rule" if ct in trimmed_by_rule else \
            f"keeping {DEFAULT_TRIM_SCALE:.0%} of the varying context (stated, not measured)"
        out.append(finding("rag-context-inflation", ct, f.model, saving, {
            "mean_input_tokens": round(f.mean_input, 1), "varying_input_tokens": round(variable, 1),
            "recurring_context_tokens": round(f.recurring_varying_tokens, 1),
            "mean_output_tokens": round(f.mean_output, 1), "basis": basis,
            "text": f"every request sends {f.mean_input:,.0f} input tokens, {variable:,.0f} of them varying "
                    f"for {f.mean_output:,.0f}-token answers, {f.recurring_varying_tokens:,.0f} of them in chunks "
                    f"other requests send too (retrieved context, re-sent); {basis}"},
            "medium" if ct in trimmed_by_rule else "low", f"inferplan analyze {cmd} --levers trim --scenario FILE", 1))
    return out
