"""`prices list` filters and readable tables for `prices list` and `prices show`."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from ..catalog import Catalog
from ..errors import ConfigError, UnknownItemError
from .fmt import price_window

TIERS = ("standard", "batch", "flex", "priority")


def filter_rows(cat: Catalog, service: str, rows: list[dict[str, Any]], *, model: str | None = None,
                region: str | None = None, tier: str | None = None) -> list[dict[str, Any]]:
    """Rows of one service for a model (id, alias, profile, or part of an id), a region and a tier.

    A Bedrock row priced for every region (`*`) matches any region. A filter that matches nothing is an error
    that says what exists, never an empty table that looks like "free".
    """
    if service != "bedrock" and (model or tier):
        raise ConfigError("--model and --tier filter Bedrock rows; use --service bedrock (or `prices show "
                          "INSTANCE` for an instance type)")
    if tier is not None and tier not in TIERS:
        raise ConfigError(f"--tier must be one of {', '.join(TIERS)}, not {tier!r}")
    out = rows
    if model:
        try:
            wanted = {cat.resolve_model(model).model}
        except UnknownItemError:
            wanted = {r["model"] for r in rows if model.lower() in r["model"].lower()}
            if not wanted:
                raise
        out = [r for r in out if r["model"] in wanted]
    if region:
        out = [r for r in out if r.get("region") in (region, "*")]
    if tier:
        out = [r for r in out if r.get("tier") == tier]
    if not out:
        asked = ", ".join(f"{k} {v!r}" for k, v in (("model", model), ("region", region), ("tier", tier)) if v)
        regions = sorted({str(r.get("region")) for r in rows})
        raise UnknownItemError(f"no {service} price row for {asked}; regions in the catalog: "
                               f"{', '.join(regions[:20])}; add rows with --catalog FILE")
    return out


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def render_list(service: str, rows: list[dict[str, Any]], checked: str, c: Console) -> None:
    """The rows as one table; each distinct source printed once below it, numbered."""
    sources: dict[str, int] = {}
    t = Table(title=f"{service} catalog: {len(rows)} row(s) (catalog checked {checked})", title_justify="left")
    cols = [k for k in (rows[0] if rows else {}) if k != "source" and any(r.get(k) is not None for r in rows)]
    for col in cols:
        t.add_column(col.replace("_", " "), justify="right" if isinstance(rows[0].get(col), int | float) else "left")
    t.add_column("src", justify="right")
    for r in rows:
        n = sources.setdefault(str(r.get("source", "")), len(sources) + 1)
        t.add_row(*[_fmt(r.get(k)) for k in cols], f"[{n}]")
    c.print(t)
    if len(sources) <= 12:
        for s, n in sources.items():
            c.print(f"  [{n}] {s}", highlight=False, markup=False)
    else:
        c.print(f"  {len(sources)} distinct sources; `prices list --json` or `prices show MODEL` shows each")


def render_show(ident: str, found: dict[str, Any], c: Console) -> None:
    """Each thing found as a two-column table; Bedrock price rows as one table with their sources."""
    for section, value in found.items():
        if section == "bedrock_prices":
            _prices_table(value, c)
        elif isinstance(value, dict):
            t = Table(title=section.replace("_", " "), title_justify="left", show_header=False)
            t.add_column("field", style="bold")
            t.add_column("value", overflow="fold")
            for k, v in sorted(value.items(), key=lambda kv: kv[0] in ("source", "checked")):  # provenance last
                t.add_row(k.replace("_", " "), ", ".join(map(str, v)) if isinstance(v, list) else _fmt(v))
            c.print(t)
        elif section == "resolved_scope":
            c.print(f"{ident!r} resolves to scope [bold]{value}[/bold]")
        elif section.endswith("_history"):
            t = Table(title=f"{section.removesuffix('_history').replace('_', ' ')}: prices in force by date",
                      title_justify="left")
            cols = [k for k in value[0] if k not in ("source", "effective_from", "effective_to")]
            for col in (*cols, "in force", "source"):
                t.add_column(col.replace("_", " "), overflow="fold" if col == "source" else "ellipsis")
            for r in value:
                t.add_row(*[_fmt(r.get(k)) for k in cols], price_window(r), str(r.get("source", "")))
            c.print(t)
        elif section.endswith("_regions"):
            what = section.removesuffix("_regions").replace("_", " ")
            c.print(f"{what} rows in: {', '.join(value)}", highlight=False)
        elif section == "catalog_notes":
            for note in value:
                c.print(f"note: {note}", highlight=False, soft_wrap=True)


def _prices_table(rows: list[dict[str, Any]], c: Console) -> None:
    kinds = ["input_usd_per_mtok", "output_usd_per_mtok", "cache_read_usd_per_mtok", "cache_write_5m_usd_per_mtok",
             "cache_write_1h_usd_per_mtok", "lc_threshold_tokens", "lc_input_usd_per_mtok", "lc_output_usd_per_mtok"]
    kinds = [k for k in kinds if any(r.get(k) is not None for r in rows)]
    t = Table(title=f"prices (USD per million tokens): {len(rows)} row(s)", title_justify="left")
    for h in ("scope", "region", "tier"):
        t.add_column(h)
    for k in kinds:
        t.add_column(k.removesuffix("_usd_per_mtok").replace("_", " "), justify="right")
    dated = any(price_window(r) != "always" for r in rows)
    if dated:
        t.add_column("in force")
    t.add_column("checked")
    t.add_column("src", justify="right")
    sources: dict[str, int] = {}
    for r in sorted(rows, key=lambda r: (r["scope"], r["region"], r["tier"], r.get("effective_from") or "")):
        n = sources.setdefault(str(r.get("source", "")), len(sources) + 1)
        t.add_row(r["scope"], r["region"], r["tier"], *[_fmt(r.get(k)) for k in kinds],
                  *([price_window(r)] if dated else []), _fmt(r.get("checked")), f"[{n}]")
    c.print(t)
    for s, n in sources.items():
        c.print(f"  [{n}] {s}", highlight=False, markup=False)
