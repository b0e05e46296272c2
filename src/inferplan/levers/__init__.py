"""Workload levers: what caching, batch, routing and fewer tokens would save on this traffic.

A lever is a pure function (canonical table, options) -> (counterfactual table, evidence). `evaluate()`
reprices each lever's counterfactual alone, then the levers compounded step by step in the adoption order
workload -> model (trim, batch, caching, routing: send fewer tokens first, since every other lever prices
what is left; then decide what is batch; then cache the real-time traffic; then change models). Each
compounded step *executes* its levers in the order trim -> batch -> routing -> caching, because a cache
replay must see the final stream: which requests stay real-time, on which model, with how many tokens.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from .. import memory
from ..attribution import totals
from ..catalog import Catalog
from ..codes import clear_memo
from ..errors import ConfigError, UnknownModelError
from ..pricing import Bill, clear_key_codes, excluded_notes, request_rates, token_counts
from ..progress import phase
from ..scenario import where as scenario_where
from ..workload import Workload
from . import batch, caching, routing, trim
from ._common import encode
from ._table import LeverTable, lever_table
from .cache import prefix as prefix_cache  # the old module names keep working: levers.prefix_cache,
from .cache import replay as _replay  # levers._replay
from .cache.flat import Prefixes
from .options import LeverOptions, check_call_types, load_options

__all__ = ["evaluate", "LEVERS", "EXECUTION_ORDER", "apply_levers", "price_table", "parse_levers", "prefix_cache",
           "_replay"]

LEVERS = ("trim", "batch", "caching", "routing")  # adoption order: workload -> model
EXECUTION_ORDER = ("trim", "batch", "routing", "caching")


def parse_levers(levers: str) -> list[str]:
    names = [x.strip() for x in levers.split(",") if x.strip()]
    if names == ["all"]:
        return list(LEVERS)
    unknown = [x for x in names if x not in LEVERS]
    if unknown or not names:
        raise ConfigError(f"unknown lever(s) {unknown or levers!r}; use any of {', '.join(LEVERS)} or all")
    return [x for x in LEVERS if x in names]


def apply_levers(table: pa.Table, catalog: Catalog, names: list[str], opts: LeverOptions,
                 memo: dict[tuple[int, str], tuple[pa.Table, pa.Table, dict[str, Any]]] | None = None,
                 prefixes: Prefixes | None = None, replays: dict[bytes, Any] | None = None,
                 breakers: bool = True) -> tuple[pa.Table, dict[str, Any]]:
    """Apply the named levers (in execution order) to a canonical pyarrow table (or a lever table with its
    `prefixes`, see `levers._table`).

    Levers are pure functions, so with a `memo` (a dict kept by the caller, for one catalog and options)
    a lever already applied to the same input table object is not applied again: compounded steps share
    their common first steps with each other and with the levers alone; with `replays` (another such dict)
    a cache-replay unit a step left unchanged is not replayed again (see `caching.apply`). `breakers=False`
    skips the cache-breaker search (evidence only the levers alone report)."""
    evidence: dict[str, Any] = {}
    t = table
    for name in EXECUTION_ORDER:
        if name not in names:
            continue
        key = (id(t), name)
        if memo is not None and key in memo:
            _, out, ev = memo[key]
            t, ev = out, copy.deepcopy(ev)
        else:
            src = t
            t, ev = _apply_one(t, catalog, name, opts, prefixes, replays, breakers=breakers)
            if memo is not None:  # the input is kept in the entry, so its id is not reused while it lives
                memo[key] = (src, t, copy.deepcopy(ev))
        evidence[name] = ev
    return t, evidence


def _apply_one(t: pa.Table, catalog: Catalog, name: str, opts: LeverOptions, prefixes: Prefixes | None,
               replays: dict[bytes, Any] | None, *, breakers: bool, remember: bool = True
               ) -> tuple[pa.Table, dict[str, Any]]:
    """One lever on one table (a lever that changes nothing returns its input object); `remember=False`: no
    later step replays the cache, so this one's units need not be remembered."""
    if name == "trim":
        return trim.apply(t, opts.trim, opts.caching.stable_prefix_tokens, prefixes=prefixes)
    if name == "batch":
        return batch.apply(t, catalog, opts.batch)
    if name == "routing":
        return routing.apply(t, catalog, opts.routing)
    return caching.apply(t, catalog, opts.caching, prefixes=prefixes, memo=replays, breakers=breakers,
                         remember=remember)


def price_table(table: pa.Table, catalog: Catalog) -> tuple[float, dict[str, float]]:
    """Total USD and USD by call type of a canonical table, exact as the real bill (the same prices, rules and
    errors; integer token sums per group, one multiplication each)."""
    total, by_ct, _ = _price(table, catalog)
    return total, by_ct


def _price(table: pa.Table, catalog: Catalog) -> tuple[float, dict[str, float], list[str]]:
    """price_table, and the bill's notes on requests kept out of token dollars (provisioned, not per token).

    In memory, by the one rate card's per-request API (`pricing.request_rates`): integer token sums per (call
    type, price key, long-context) group times the group's rates, as the bill's roll-up does, with its errors."""
    rates = request_rates(table, catalog)
    ct_code, cts = encode(table, "call_type")
    usd = rates.totals_by(token_counts(table), ct_code, len(cts))
    by_ct = {str(c): float(u) for c, u in zip(cts, usd, strict=True)}
    return sum(by_ct.values()), by_ct, excluded_notes(rates.excluded_counts())


def _result(base: float, new: float, by_ct: dict[str, float]) -> dict[str, Any]:
    saving = base - new
    return {"new_usd": new, "saving_usd": saving + 0.0,
            "saving_pct": round(100 * saving / base, 4) + 0.0 if base else 0.0,
            "by_call_type_usd": dict(sorted(by_ct.items()))}


def _sequence(names: list[str]) -> tuple[str, ...]:
    """The levers in `names`, in execution order."""
    return tuple(x for x in EXECUTION_ORDER if x in names)


def evaluate(workload: Workload | ibis.Table | pa.Table | LeverTable, catalog: Catalog, levers: str,
             scenario: Path | dict[str, Any] | None = None, baseline: Bill | None = None) -> dict[str, Any]:
    """Each lever alone, then compounded; plain data for `--json` under `levers` (dollars unrounded).

    Every counterfactual is a sequence of levers (in execution order) applied to the workload. The sequences
    are known up front, so a partial result (trim, then trim -> batch) is kept only while a later sequence
    starts with it, and each counterfactual is priced and dropped at once: memory holds the lever table and
    the few shared steps, never every counterfactual. Freed memory is kept for reuse while it runs
    (`memory.keep_freed_memory`). A `LeverTable` the caller read (to share it) is used as it is."""
    names = parse_levers(levers)
    opts = load_options(scenario)
    with memory.keep_freed_memory():
        return _evaluate(workload, catalog, names, opts, baseline, scenario_where(scenario) or "scenario")


def _call_types(table: pa.Table) -> list[str]:
    """The distinct call types of a lever table (a dictionary column's used values, or a plain one's)."""
    col = table.column("call_type")
    vals = col.unique()
    if pa.types.is_dictionary(vals.type):
        vals = vals.dictionary_decode()
    return [v for v in vals.to_pylist() if v is not None]


def _evaluate(workload: Workload | ibis.Table | pa.Table | LeverTable, catalog: Catalog, names: list[str],
              opts: LeverOptions, baseline: Bill | None, where: str) -> dict[str, Any]:
    prefixes: Prefixes | None = None
    if isinstance(workload, LeverTable):
        table, prefixes = workload.table, workload.prefixes
    elif isinstance(workload, pa.Table):
        table = workload
    else:  # only the lever columns, streamed in batches, prefixes encoded once for every lever and step
        table, prefixes = lever_table(workload.table if isinstance(workload, Workload) else workload)
    absent = check_call_types(opts, _call_types(table), where, names) if opts.named_call_types(names) else []
    for i, rule in enumerate(opts.routing.rules if "routing" in names else []):  # before any replay
        try:
            catalog.resolve_model(rule.small_model)
        except UnknownModelError as exc:
            raise UnknownModelError(f"{where}: levers.routing.rules.{i}.small_model: {exc}") from None
    replays: dict[bytes, Any] = {}
    base_price = _price(table, catalog)
    base, base_ct, kept_out = base_price
    if baseline is not None:
        base = totals(baseline).total_usd  # the bill's own total (its priced roll-up: no pass over requests)
    wanted = [((name,), f"replaying {name}") for name in names]
    wanted += [(_sequence(names[:k]), f"compounding {' + '.join(names[:k])}") for k in range(2, len(names) + 1)]
    Price = tuple[float, dict[str, float], list[str]]
    same: set[tuple[tuple[str, ...], str]] = set()  # (levers that changed the table, lever): it changed nothing

    def canon(seq: tuple[str, ...]) -> tuple[str, ...]:
        """The levers of `seq` that changed the table (as far as known): equal canon, equal table."""
        c: tuple[str, ...] = ()
        for name in seq:
            if (c, name) not in same:
                c = (*c, name)
        return c

    # results a later sequence starts with, by canon: (table, its price or None), kept while needed
    kept: dict[tuple[str, ...], tuple[pa.Table, Price | None]] = {(): (table, base_price)}
    priced: dict[tuple[str, ...], Price] = {(): base_price}
    results: dict[tuple[str, ...], tuple[float, dict[str, float], dict[str, Any]]] = {}
    for i, (seq, label) in enumerate(wanted):
        later = [canon(s) for s, _ in wanted[i + 1:]]
        phase(label)
        if i == len(wanted) - 1:  # the last step (a single lever's only one) holds the peak: it runs on
            memory.give_back()  # the allocator's defaults, the pages the earlier steps kept returned first
        # a lever alone is applied for its evidence; a compounded step starts from the longest kept result
        j = 0 if len(seq) == 1 else max(k for k in range(len(seq) + 1) if canon(seq[:k]) in kept)
        c = canon(seq[:j])
        t = kept[c][0]
        evidence: dict[str, Any] = {}
        for name in seq[j:]:
            if (c, name) in same:
                continue
            dropped = [p for p in kept if p and p != c and not any(s[:len(p)] == p for s in later)]
            for p in dropped:
                del kept[p]  # neither this step (it goes on from `t`) nor a later one needs it: freed first
            if dropped:  # with the codes (and key codes) that keep its columns alive
                clear_memo()
                clear_key_codes()
            src = t
            t, evidence = _apply_one(t, catalog, name, opts, prefixes, replays, breakers=len(seq) == 1,
                                     remember=any("caching" in s for s in later))
            if t is src:
                same.add((c, name))
                continue
            c = (*c, name)
            if any(s[:len(c)] == c for s in later):
                kept[c] = (t, None)
        price = priced.get(c) or _price(t, catalog)
        priced[c] = price
        if c in kept:
            kept[c] = (kept[c][0], price)
        # nothing changed the table: today's total exactly (the bill's sum, not the lever table's re-summed
        # in another order, whose last bits would read as a saving of $0.0000000000036)
        results[seq] = (base if c == () else price[0], price[1], evidence)
        t = src = None  # this step's table is not kept here
        for p in [p for p in kept if p and not any(s[:len(p)] == p for s in later)]:
            del kept[p]  # no later sequence starts with it: its table is freed now
        clear_memo()  # codes (and key codes) of columns that only dropped tables had
        clear_key_codes()
        pa.default_memory_pool().release_unused()  # and its memory returned, not kept by the allocator
    alone: dict[str, Any] = {}
    for name in names:
        new, by_ct, ev = results[(name,)]
        alone[name] = {**_result(base, new, by_ct), "evidence": ev}
    steps = []
    prev = base
    for k in range(1, len(names) + 1):
        new, by_ct, _ = results[_sequence(names[:k]) if k > 1 else (names[0],)]
        steps.append({"after": names[k - 1], **_result(base, new, by_ct),
                      "step_saving_usd": prev - new + 0.0})
        prev = new
    total_saving = base - prev
    for s in steps:
        s["share_of_saving"] = round(s["step_saving_usd"] / total_saving, 6) if total_saving else 0.0
    return {
        "baseline_usd": base,
        "baseline_by_call_type_usd": dict(sorted(base_ct.items())),
        "levers": names,
        "adoption_order": list(LEVERS),
        "execution_order": list(EXECUTION_ORDER),
        "alone": alone,
        "compounded": {**_result(base, prev, steps[-1]["by_call_type_usd"] if steps else base_ct),
                       "steps": steps},
        **({"notes": absent + kept_out} if absent or kept_out else {}),
    }
