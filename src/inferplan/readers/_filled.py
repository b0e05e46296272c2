"""What the reading filled in: a note for every column a default filled, with its request count.

A source without a region (gateway logs, traces) is priced in `--region`; one without a tier as `--tier`; a
model alias that names no inference profile in-region; a request without a call type as `untagged`. Each is a
guess the user should see, so each adds a note ("region us-east-1 assumed for 1,204 requests: x.jsonl has
none (set it with --region)"). The counts are one engine aggregate over the source's own columns (nulls, before
the fill) and the validation roll-up (requests per logged model id and scope); nothing loops over requests.
"""

from __future__ import annotations

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from ..catalog import Catalog, ResolvedModel
from ..workload import Defaults

# column -> (what it is called in a note, how the user sets it)
FILLED = {
    "model": ("model", "set it with --model"),
    "region": ("region", "set it with --region"),
    "tier": ("tier", "set it with analyze --tier, or a tier in the data"),
    "call_type": ("call type", "--call-type-key names the request metadata key that holds it"),
}


def source_nulls(raw: ibis.Table, defaults: Defaults) -> dict[str, int | None]:
    """Rows of the raw table without a value in each column a default fills (None: the column is absent, so
    every row). One aggregate, only over the columns the source has."""
    wanted = [c for c in FILLED if c != "model" or defaults.model is not None]
    model_col = "model_id" if "model_id" in raw.columns else "model"
    present = {c: (model_col if c == "model" else c) for c in wanted
               if (model_col if c == "model" else c) in raw.columns}
    out: dict[str, int | None] = {c: None for c in wanted if c not in present}
    if present:
        row = raw.aggregate(**{c: raw[src].isnull().cast("int64").sum() for c, src in present.items()}
                            ).to_pyarrow().to_pylist()[0]
        out.update({c: int(row[c] or 0) for c in present})
    return out


def _names_scope(logged: str, resolved: ResolvedModel, catalog: Catalog) -> bool:
    """Whether a logged id fixes its price scope: an ARN, an inference profile (`us.`, `global.`, ...) or a
    Bedrock model id (which Bedrock bills in-region); an alias (`claude-haiku-4.5`) does not."""
    raw = logged.strip()
    if resolved.scope != "in-region" or raw.startswith("arn:") or raw in catalog.profile_arns:
        return True
    key = raw.lower()
    ids = {m.lower() for m in catalog.bedrock_models}
    return key in ids or key.split(":")[0] in {i.split(":")[0] for i in ids}


def notes(label: str, defaults: Defaults, nulls: dict[str, int | None], roll: pa.Table,
          resolved: dict[str, ResolvedModel], catalog: Catalog, dropped: int = 0) -> list[str]:
    """One note per column a default filled, from `source_nulls` and the validation roll-up (logged ids).

    `dropped`: rows skipped after reading (`--on-error skip`); `source_nulls` counted them, so a count from it
    is then an upper bound, and said so."""
    total = int(pc.sum(roll.column("requests")).as_py() or 0)
    values = {"model": defaults.model, "region": defaults.region, "tier": defaults.tier,
              "call_type": defaults.call_type}
    out = []
    for col, n in nulls.items():
        out += _note(FILLED[col][0], values[col], total if n is None else min(n, total), total, label,
                     FILLED[col][1], bound=n is not None and dropped > 0)
    aliases = [i for i, r in resolved.items() if not _names_scope(i, r, catalog)]
    if aliases and roll.num_rows:
        unscoped = pc.and_(pc.is_null(roll.column("scope")), pc.is_in(roll.column("model"), pa.array(aliases)))
        n = int(pc.sum(pc.filter(roll.column("requests"), unscoped)).as_py() or 0)
        out += _note("scope", "in-region", n, total, label,
                     "log a profile id such as us.<model id>, or pass one as --model", why=(
                         "the model id" + ("s " if len(aliases) > 1 else " ") + ", ".join(sorted(aliases)[:5])
                         + " name" + ("" if len(aliases) > 1 else "s") + " no inference profile"))
    return out


def _note(what: str, value: str | None, n: int, total: int, label: str, how: str, why: str | None = None,
          bound: bool = False) -> list[str]:
    if not n:
        return []
    of = f"{n:,} request{'s' if n != 1 else ''}" if n == total else f"{n:,} of {total:,} requests"
    of = f"at most {of}" if bound else of
    verb = "have" if label.endswith(" files") else "has"  # "2 azure2023 files have none"
    why = why or f"{label} {verb} none" + ("" if n == total else " for them")
    return [f"{what} {value} assumed for {of}: {why} ({how})"]
