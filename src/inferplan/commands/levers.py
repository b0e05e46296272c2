"""`inferplan cache-curve` (self-hosted prefix cache hit curve, cache breakers) and `inferplan route-eval`
(router and cascade on per-request outcomes)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import ConfigError, InputError
from ..report import write_files, write_json
from ._common import CatalogOpt, HtmlOpt, JsonOpt, MarkdownOpt, UsageFormatOpt, app, friendly, out, say


def _capacities(spec: str | None) -> list[int | None]:
    if not spec:
        return [None]
    caps: list[int | None] = []
    for part in spec.split(","):
        p = part.strip().lower()
        if p in ("inf", "unlimited", "none"):
            caps.append(None)
            continue
        try:
            mult = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}.get(p[-1:], 1)
            caps.append(int(float(p[:-1] if mult > 1 else p) * mult))
        except ValueError:
            raise ConfigError(f"--capacity-tokens: {part!r} is not a number of tokens (e.g. 1000000,5M,inf)") \
                from None
    return caps


def _looks_mooncake(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(2048)
    except OSError:
        return False
    return b'"hash_ids"' in head and b'"input_length"' in head


def _read_for_cache(paths: list[Path], fmt: str, catalog: Any) -> Any:
    """A canonical pyarrow table with ts, token columns and prefix."""
    from ..levers import prefix_cache
    from ..readers import FORMATS, ReadOptions, expand_paths, read_workload
    from ..workload import Defaults

    files = expand_paths(paths)
    if fmt in ("mooncake", "auto") and "mooncake" not in FORMATS and all(_looks_mooncake(f) for f in files):
        import pyarrow as pa

        return pa.concat_tables([prefix_cache.mooncake_table(f) for f in files])
    # the model does not matter for a cache curve; readers need one to canonicalise
    placeholder = next(iter(catalog.bedrock_models))
    wl = read_workload(files, catalog, fmt, ReadOptions(defaults=Defaults(model=placeholder)))
    return wl.table.to_pyarrow()


@app.command("cache-curve")
@friendly
def cache_curve(
    paths: Annotated[list[str], typer.Argument(help="Traces or logs with prefix hashes (e.g. Mooncake JSONL).")],
    format: UsageFormatOpt = "auto",
    ttl: Annotated[float | None, typer.Option("--ttl", help="Seconds a block stays cached after its last "
                                              "use (default: no expiry).")] = None,
    capacity_tokens: Annotated[str | None, typer.Option("--capacity-tokens", help="Comma-separated cache "
                                                        "capacities in tokens (5M, inf); default unlimited.")] = None,
    same_ts: Annotated[bool, typer.Option("--same-ts-hits/--no-same-ts-hits", help="Whether a request can hit "
                                          "blocks of an earlier request with the same timestamp.")] = True,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
    html: HtmlOpt = None,
    markdown: MarkdownOpt = None,
) -> None:
    """Fraction of input tokens a self-hosted prefix cache (LRU, optional TTL) serves, and cache breakers."""
    from ..catalog import load_catalog
    from ..levers import breakers, prefix_cache

    if ttl is not None and ttl < 0:
        raise ConfigError("--ttl must be >= 0 seconds")
    caps = _capacities(capacity_tokens)
    table = _read_for_cache(paths, format, load_catalog(catalog, warn_stale=False))
    if table.num_rows == 0:
        raise InputError("no requests in the input")
    res = prefix_cache.table_curve(table, caps, ttl, same_ts_hits=same_ts)
    if res["prefix_tokens"] == 0:
        res.setdefault("notes", []).append("no request has prefix hashes: nothing can be served from cache")

    def unlimited_hits(t: Any) -> float:
        return -float(prefix_cache.table_curve(t, [None], ttl, same_ts_hits=same_ts)["points"][0]["hit_tokens"])

    res["breakers"] = breakers.with_savings(table, unlimited_hits)
    for b in res["breakers"]:
        b["hit_tokens_gained_if_moved"] = b.pop("saving_if_moved_to_end")
    if json_out:
        write_json(res, "cache-curve")
    else:
        from ..report.levers import render_cache_curve

        render_cache_curve(res, out)
    write_files(res, "cache-curve", html=html, markdown=markdown, say=say)


@app.command("route-eval")
@friendly
def route_eval_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Outcome CSV files or folders: a `prompt` column and one "
                                                "boolean column per model.")],
    small_col: Annotated[str, typer.Option("--small-col", help="Outcome column of the small model.")],
    large_col: Annotated[str, typer.Option("--large-col", help="Outcome column of the large model.")],
    small_model: Annotated[str, typer.Option("--small-model", help="Bedrock model to price the small one as.")],
    large_model: Annotated[str, typer.Option("--large-model", help="Bedrock model to price the large one as.")],
    target: Annotated[float, typer.Option(help="Quality target as a share of the large model's accuracy.")] = 0.95,
    seed: Annotated[int, typer.Option(help="Seed of the train/test split.")] = 0,
    region: Annotated[str, typer.Option(help="AWS region of the prices.")] = "us-east-1",
    output_tokens: Annotated[int, typer.Option(help="Output tokens per request (priced on both models).")] = 5,
    validator_recall: Annotated[float, typer.Option(help="Cascade validator: share of wrong small answers it "
                                                    "flags (assumed).")] = 0.9,
    validator_fpr: Annotated[float, typer.Option(help="Cascade validator: share of right small answers it flags "
                                                 "(assumed).")] = 0.1,
    catalog: CatalogOpt = None,
    json_out: JsonOpt = False,
    html: HtmlOpt = None,
    markdown: MarkdownOpt = None,
) -> None:
    """Cost versus quality of a router and a cascade on real per-request outcomes (held-out split)."""
    from ..catalog import load_catalog
    from ..levers import route_eval

    if not 0 < target <= 1:
        raise ConfigError("--target must be in (0, 1]: a share of the large model's accuracy")
    for name, v in (("--validator-recall", validator_recall), ("--validator-fpr", validator_fpr)):
        if not 0 <= v <= 1:
            raise ConfigError(f"{name} must be between 0 and 1")
    if output_tokens < 0:
        raise ConfigError("--output-tokens must be >= 0")
    cat = load_catalog(catalog)
    outcomes = route_eval.load_outcomes(paths, small_col, large_col)
    res = route_eval.evaluate(outcomes, cat, small_model, large_model, target=target, seed=seed, region=region,
                              output_tokens=output_tokens, validator_recall=validator_recall,
                              validator_fpr=validator_fpr)
    if json_out:
        write_json(res, "route-eval")
    else:
        from ..report.levers import render_route_eval

        render_route_eval(res, out)
    write_files(res, "route-eval", html=html, markdown=markdown, say=say)
