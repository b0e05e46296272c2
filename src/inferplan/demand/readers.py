"""Demand series read directly, for traffic whose invocation logging is off.

- `demand` CSV: `ts` (ISO-8601 or epoch seconds), `requests`, `input_tokens`, `output_tokens` per window, with
  optional `model`, `call_type`, `interactive`, `cache_read_tokens`, `cache_write_5m_tokens` columns; the window is
  the spacing of `ts` (its most common step).
- `cloudwatch`: the JSON `aws cloudwatch get-metric-data` prints (`MetricDataResults`: `Id`, `Label`,
  `Timestamps`, `Values`, `StatusCode`) for the `AWS/Bedrock` metrics Invocations, InputTokenCount,
  OutputTokenCount, CacheReadInputTokenCount, CacheWriteInputTokenCount. The metric is recognised in each
  result's Label (or Id); the model is the rest of the Label (as a `SEARCH` expression labels its series, or as
  you set Label), else `--model`.
- `servegen-rates`: ServeGen's aggregate rate file (`ts,total_rps,active_clients`, 600-second windows):
  requests = rate x window (expected counts, the full published volume: use `--scale` to shrink), tokens at the
  published m-large means.

Each is priced at the standard on-demand tier through the rate card (`inferplan.pricing`), so Bedrock
on-demand, batch and the other tiers cost the same way as for a workload.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from ..catalog import Catalog
from ..errors import InputError
from ..pricing import price_rollup, resolve_prices
from ..readers._s3 import S3Object
from ..readers.base import as_file, head_bytes
from ..regions import check_region
from ..workload import BUCKET, KEYS, PERIOD, TOKEN_COLUMNS, UNTAGGED
from . import DemandSeries, GroupKey

FORMATS = ("demand", "cloudwatch", "servegen-rates")
METRICS = {"invocations": "requests", "inputtokencount": "input_tokens", "outputtokencount": "output_tokens",
           "cachereadinputtokencount": "cache_read_tokens", "cachewriteinputtokencount": "cache_write_5m_tokens"}
_ROWS = ("requests", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens")


def sniff(path: Path | S3Object) -> str | None:
    """Which demand format a file is in, from its first bytes (None: not a demand file)."""
    try:
        head = head_bytes(path).lstrip(b"\xef\xbb\xbf")
    except InputError:
        return None
    if head.startswith(b"ts,total_rps"):
        return "servegen-rates"
    if b'"MetricDataResults"' in head:
        return "cloudwatch"
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace").strip().lower().split(",")
    if "ts" in first and "requests" in first and "input_tokens" in first:
        return "demand"
    return None


def read_demand(paths: Sequence[str | Path | S3Object], catalog: Catalog, fmt: str = "auto", *,
                model: str | None = None, region: str = "us-east-1", on_error: str = "raise") -> DemandSeries:
    """Read demand files (all of one format) into one priced series."""
    check_region(region, "--region")
    files = [as_file(p) for p in paths]
    parts: list[dict[str, np.ndarray]] = []
    notes: list[str] = []
    skipped = 0
    for f in files:
        if not f.is_file():
            raise InputError(f"{f}: no such file")
        kind = sniff(f) if fmt == "auto" else fmt
        if kind == "demand":
            part, bad, renamed = _read_csv(f, on_error)
            skipped += bad
            if renamed:
                notes.append(f"{f.name}: the column 'cache_write_tokens' read as 'cache_write_5m_tokens' (its "
                             "canonical name since each token bucket got one name; rename it to silence this note)")
        elif kind == "cloudwatch":
            part, more = _read_cloudwatch(f)
            notes += more
        elif kind == "servegen-rates":
            part = _read_servegen(f)
            notes.append(f"{f.name}: ServeGen rates as expected requests per window (full published volume), "
                         "token means 914 input / 155 output (m-large)")
        else:
            raise InputError(f"{f}: not a demand file; expected --format one of {', '.join(FORMATS)}")
        parts.append(part)
    if skipped:
        notes.append(f"skipped {skipped} bad row(s) (--on-error skip)")
    return _assemble(parts, catalog, model=model, region=region, notes=notes, sources=[str(f) for f in files])


# ---- the demand CSV -------------------------------------------------------------------------------------
def _source(path: Path | S3Object) -> object:
    """What pyarrow's CSV reader takes: a local path (it gunzips `.gz` itself), or an S3 object's stream."""
    if not isinstance(path, S3Object):
        return path
    fh = path.open("rb")
    return pa.CompressedInputStream(fh, "gzip") if path.name.endswith(".gz") else fh


def _read_csv(path: Path, on_error: str) -> tuple[dict[str, np.ndarray], int, bool]:
    """The columns of a demand CSV, the bad rows skipped, and whether it used the old cache-write column name."""
    try:
        t = pcsv.read_csv(_source(path), convert_options=pcsv.ConvertOptions(strings_can_be_null=True,
                                                                     column_types=_string_columns(path)))
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path}: cannot read as CSV ({exc})") from None
    cols = {c.lower(): c for c in t.column_names}
    renamed = "cache_write_tokens" in cols  # the 5-minute writes' old column name
    if renamed and "cache_write_5m_tokens" in cols:
        raise InputError(f"{path}: both 'cache_write_tokens' and 'cache_write_5m_tokens' are columns; they are the "
                         "same bucket under its old and new name: keep only 'cache_write_5m_tokens'")
    if renamed:
        cols["cache_write_5m_tokens"] = cols.pop("cache_write_tokens")
    missing = [c for c in ("ts", "requests", "input_tokens", "output_tokens") if c not in cols]
    if missing:
        raise InputError(f"{path}: missing column(s) {missing}; a demand CSV has ts, requests, input_tokens, "
                         "output_tokens"
                         " (optional model, call_type, interactive, cache_read_tokens, cache_write_5m_tokens)")
    n = t.num_rows
    bad = np.zeros(n, bool)
    reasons: dict[str, np.ndarray] = {}
    ts = _parse_ts(t.column(cols["ts"]))
    reasons["ts is not ISO-8601 or epoch seconds"] = np.isnan(ts)
    out: dict[str, np.ndarray] = {"ts": ts}
    for name in _ROWS:
        if name in cols:
            v = _to_float(t.column(cols[name]))
            reasons[f"{name} is not a non-negative number"] = np.isnan(v) | (v < 0)
            out[name] = np.nan_to_num(v)
        else:
            out[name] = np.zeros(n)
    for name in ("model", "call_type"):
        out[name] = np.array(t.column(cols[name]).to_pylist() if name in cols else [None] * n, dtype=object)
    if "interactive" in cols:
        raw = [str(x).strip().lower() if x is not None else "" for x in t.column(cols["interactive"]).to_pylist()]
        inter = np.array([x in ("true", "1", "yes", "") for x in raw])
        reasons["interactive is not true/false"] = np.array([x not in ("true", "1", "yes", "false", "0", "no", "")
                                                             for x in raw])
        out["interactive"] = inter
    else:
        out["interactive"] = np.ones(n, bool)
    for reason, mask in reasons.items():
        if mask.any():
            if on_error != "skip":
                line = int(np.flatnonzero(mask)[0]) + 2
                raise InputError(f"{path}, line {line}: {reason} ({int(mask.sum())} row(s) in all); fix it, or pass "
                                 "--on-error skip to skip and count bad rows")
            bad |= mask
    keep = ~bad
    return {k: v[keep] for k, v in out.items()}, int(bad.sum()), renamed


def _string_columns(path: Path) -> dict[str, pa.DataType]:
    with path.open("r", encoding="utf-8-sig", errors="replace") as fh:
        header = fh.readline().strip().split(",")
    return {h: pa.string() for h in header}


def _to_float(col: pa.ChunkedArray) -> np.ndarray:
    vals = col.to_pylist()
    out = np.full(len(vals), np.nan)
    for i, v in enumerate(vals):  # one row per window (aggregates), not per request
        try:
            out[i] = float(v) if v is not None and v.strip() != "" else np.nan
        except ValueError:
            pass
    return out


def _parse_ts(col: pa.ChunkedArray) -> np.ndarray:
    vals = col.to_pylist()
    out = np.full(len(vals), np.nan)
    for i, v in enumerate(vals):  # one row per window
        if v is None:
            continue
        s = v.strip()
        try:
            out[i] = float(s)
            continue
        except ValueError:
            pass
        try:
            d = datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            continue
        if d.tzinfo is None:
            from datetime import UTC

            d = d.replace(tzinfo=UTC)
        out[i] = d.timestamp()
    return out


# ---- CloudWatch get-metric-data -------------------------------------------------------------------------
def _read_cloudwatch(path: Path) -> tuple[dict[str, np.ndarray], list[str]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None
    results = doc.get("MetricDataResults") if isinstance(doc, dict) else None
    if not isinstance(results, list):
        raise InputError(f"{path}: no MetricDataResults list (expected `aws cloudwatch get-metric-data` output)")
    notes: list[str] = []
    rows: dict[tuple[str | None, float], dict[str, float]] = {}
    for i, r in enumerate(results, start=1):
        if not isinstance(r, dict):
            raise InputError(f"{path}: MetricDataResults[{i}] is not an object")
        label = str(r.get("Label") or "")
        ident = str(r.get("Id") or "")
        metric, model = _metric_of(label, ident)
        if metric is None:
            raise InputError(f"{path}: MetricDataResults[{i}] (Id {ident!r}, Label {label!r}) is none of "
                             f"{', '.join(m for m in ('Invocations', 'InputTokenCount', 'OutputTokenCount'))}, "
                             "CacheReadInputTokenCount, CacheWriteInputTokenCount; set its Label to the metric name")
        stamps, values = r.get("Timestamps") or [], r.get("Values") or []
        if len(stamps) != len(values):
            raise InputError(f"{path}: MetricDataResults[{i}] has {len(stamps)} timestamps and {len(values)} values")
        if r.get("StatusCode") not in (None, "Complete"):
            notes.append(f"{path.name}: {label or ident} is {r.get('StatusCode')}: fetch the rest with NextToken and "
                         "pass every page")
        ts = _parse_ts(pa.chunked_array([pa.array([str(s) for s in stamps], pa.string())]))
        if np.isnan(ts).any():
            raise InputError(f"{path}: MetricDataResults[{i}] has a timestamp that is not ISO-8601")
        for t_, v in zip(ts, values, strict=True):
            try:
                fv = float(v)
            except (TypeError, ValueError):
                raise InputError(f"{path}: MetricDataResults[{i}] has a non-numeric value {v!r}") from None
            rows.setdefault((model, float(t_)), {})[metric] = fv
    keys = sorted(rows, key=lambda k: (k[0] or "", k[1]))
    out: dict[str, np.ndarray] = {"ts": np.array([k[1] for k in keys]),
                                  "model": np.array([k[0] for k in keys], dtype=object),
                                  "call_type": np.array([None] * len(keys), dtype=object),
                                  "interactive": np.ones(len(keys), bool)}
    for name in _ROWS:
        out[name] = np.array([rows[k].get(name, 0.0) for k in keys])
    return out, notes


def _metric_of(label: str, ident: str) -> tuple[str | None, str | None]:
    """(metric, model or None) from a result's Label, else its Id."""
    words = label.replace(",", " ").split()
    hits = [i for i, w in enumerate(words) if w.lower() in METRICS]
    if hits:
        rest = " ".join(w for i, w in enumerate(words) if i != hits[0]).strip()
        return METRICS[words[hits[0]].lower()], (rest or None)
    low = ident.lower()
    for name, metric in METRICS.items():
        if name in low:
            return metric, None
    return None, None


# ---- ServeGen rates --------------------------------------------------------------------------------------
def _read_servegen(path: Path) -> dict[str, np.ndarray]:
    from ..readers.servegen import MEAN_INPUT, MEAN_OUTPUT

    try:
        t = pcsv.read_csv(_source(path))
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path}: cannot read ServeGen rates ({exc})") from None
    ts = t.column("ts").to_numpy(zero_copy_only=False).astype(np.float64)
    rps = t.column("total_rps").to_numpy(zero_copy_only=False).astype(np.float64)
    if ts.size == 0 or np.isnan(ts).any() or np.isnan(rps).any() or (rps < 0).any():
        raise InputError(f"{path}: ts and total_rps must be numbers, total_rps non-negative")
    width = np.diff(ts, append=ts[-1] + (ts[1] - ts[0] if ts.size > 1 else 600.0))
    req = rps * width
    n = ts.size
    return {"ts": ts, "requests": req, "input_tokens": req * MEAN_INPUT, "output_tokens": req * MEAN_OUTPUT,
            "cache_read_tokens": np.zeros(n), "cache_write_5m_tokens": np.zeros(n),
            "model": np.array([None] * n, dtype=object), "call_type": np.array(["m-large"] * n, dtype=object),
            "interactive": np.ones(n, bool)}


# ---- assembly and pricing --------------------------------------------------------------------------------
def _window(ts: np.ndarray, source: str) -> int:
    steps = np.diff(np.unique(ts))
    steps = steps[steps > 0]
    if steps.size == 0:
        return 60
    vals, counts = np.unique(np.round(steps).astype(np.int64), return_counts=True)
    w = int(vals[np.argmax(counts)])
    if w <= 0:
        raise InputError(f"{source}: cannot tell the window from the spacing of ts")
    return w


def _assemble(parts: list[dict[str, np.ndarray]], catalog: Catalog, *, model: str | None, region: str,
              notes: list[str], sources: list[str]) -> DemandSeries:
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    if cols["ts"].size == 0:
        raise InputError(f"{', '.join(sources)}: no rows")
    window_s = _window(cols["ts"], ", ".join(sources))
    models = np.array([m if m not in (None, "") else model for m in cols["model"]], dtype=object)
    if any(m is None for m in models):
        raise InputError(f"{', '.join(sources)}: rows without a model; pass --model (e.g. --model "
                         "claude-haiku-4.5)")
    resolved = {m: catalog.resolve_model(str(m)) for m in set(models.tolist())}
    cts = np.array([c if c not in (None, "") else UNTAGGED for c in cols["call_type"]], dtype=object)
    start = int(np.floor(cols["ts"].min() / window_s) * window_s)
    w = ((cols["ts"] - start) // window_s).astype(np.int64)
    n_w = int(w.max()) + 1
    keys = list(zip([resolved[m].model for m in models], cts, cols["interactive"].astype(bool), strict=True))
    index: dict[tuple, int] = {}
    g = np.array([index.setdefault(k, len(index)) for k in keys], np.int64)  # windows x groups, not requests
    shape = (len(index), n_w)

    def grid(v: np.ndarray) -> np.ndarray:
        out = np.zeros(shape)
        np.add.at(out, (g, w), v)
        return out

    # disjoint buckets, as Bedrock counts them: InputTokenCount excludes cache reads and writes (own metrics)
    plain = cols["input_tokens"]
    total_in = plain + cols["cache_read_tokens"] + cols["cache_write_5m_tokens"]
    scopes = [resolved[m].scope for m in models]
    roll = pa.table({
        "_g": pa.array(g), "model": pa.array([k[0] for k in keys]), "scope": pa.array(scopes),
        "region": pa.array([region] * g.size), "tier": pa.array(["standard"] * g.size),
        BUCKET: pa.array(np.zeros(g.size, np.int8)), "requests": pa.array(cols["requests"]),
        # the price in force at each window's time (Catalog.price_periods_us; 0 when no price is dated)
        PERIOD: pa.array(np.searchsorted(np.asarray(catalog.price_periods_us, np.int64),
                                         (cols["ts"] * 1_000_000).astype(np.int64), side="right").astype(np.int16)),
        "input_tokens": pa.array(plain), "cache_read_tokens": pa.array(cols["cache_read_tokens"]),
        "cache_write_5m_tokens": pa.array(cols["cache_write_5m_tokens"]),
        "cache_write_1h_tokens": pa.array(np.zeros(g.size)),
        "output_tokens": pa.array(cols["output_tokens"]),
    })
    thresholds = catalog.lc_thresholds
    prices, more = resolve_prices(roll, catalog, thresholds)
    usd = price_rollup(roll, prices, thresholds).column("total_usd").to_numpy(zero_copy_only=False)
    agg = roll.group_by(["_g", *KEYS, BUCKET, PERIOD], use_threads=False).aggregate(
        [(c, "sum") for c in ("requests", *TOKEN_COLUMNS)])
    agg = agg.rename_columns([c.removesuffix("_sum") for c in agg.column_names])
    groups = [GroupKey(m, str(c), bool(i)) for m, c, i in index]
    notes = [*notes, *more, "priced per window at the standard on-demand tier (the source has no per-request "
             "token counts, so long-context rates are not applied)"]
    return DemandSeries(window_s=window_s, start=start, groups=groups, requests=grid(cols["requests"]),
                        input_tokens=grid(plain + cols["cache_write_5m_tokens"]),
                        output_tokens=grid(cols["output_tokens"]),
                        input_total=grid(total_in), bedrock_usd=grid(usd), price_roll=agg, notes=notes,
                        sources=sources)
