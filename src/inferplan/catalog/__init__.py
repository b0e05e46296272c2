"""The price and hardware catalog: packaged data files plus the user's overrides, validated on load.

Prices are data, not code. Each table is a CSV file in `catalog/data/` (one pydantic row model each, see
`schema.py`); a user YAML file can replace or add rows by key. Nothing here invents a price: a lookup that
finds nothing raises an error that names what to add.
"""

from __future__ import annotations

import csv
import difflib
import fnmatch
import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from ..errors import CatalogError, MissingPriceError, UnknownItemError, UnknownModelError
from .schema import (
    TABLES,
    USER_TABLES,
    Accelerator,
    BedrockDiscount,
    BedrockModel,
    BedrockPrice,
    Discount,
    Ec2Instance,
    ModelSpec,
    ProfileArn,
    ProvisionedPrice,
    Row,
    SagemakerInstance,
    SagemakerServerless,
)

STALE_AFTER_DAYS = 90
_EPOCH_DAY = date(1970, 1, 1).toordinal()


def day_us(d: date) -> int:
    """Microseconds since the Unix epoch at UTC midnight of `d`."""
    return (d.toordinal() - _EPOCH_DAY) * 86_400_000_000
R = TypeVar("R", bound=Row)

__all__ = ["Catalog", "load_catalog", "STALE_AFTER_DAYS", "ResolvedModel", "user_catalog_path", "user_config_dir"]


def _parse_cell(model: type[Row], name: str, raw: str) -> Any:
    """CSV cells are strings: empty means None, `|` separates list items."""
    if raw == "":
        return None
    annotation = str(model.model_fields[name].annotation)
    if annotation.startswith("list["):
        return [x for x in raw.split("|") if x != ""]
    return raw


def _read_csv(path: Path | Any, model: type[R]) -> list[R]:
    rows: list[R] = []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        unknown = set(reader.fieldnames or ()) - set(model.model_fields)
        if unknown:
            raise CatalogError(f"{path}: unknown column(s) {sorted(unknown)}; expected {list(model.model_fields)}")
        for lineno, raw in enumerate(reader, start=2):
            values = {k: _parse_cell(model, k, v) for k, v in raw.items() if v is not None}
            values = {k: v for k, v in values.items() if v is not None}
            try:
                rows.append(model.model_validate(values))
            except ValidationError as exc:
                raise CatalogError(f"{path}, line {lineno}: invalid {model.__name__} row: "
                                   f"{_short_validation(exc)}") from None
    return rows


def _short_validation(exc: ValidationError) -> str:
    """Pydantic's errors in one line: `field: message`, a row-level check by its message alone."""
    def one(e: Any) -> str:
        msg = e["msg"].removeprefix("Value error, ")
        return f"{'.'.join(map(str, e['loc']))}: {msg}" if e["loc"] else msg
    return "; ".join(one(e) for e in exc.errors())


@dataclass(frozen=True)
class ResolvedModel:
    """A model id as found in a log, resolved to a catalog model and a price scope."""

    model: str
    scope: str


_GEO_PREFIXES = ("us-gov", "global", "apac", "us", "eu", "jp", "au", "ca")


@dataclass
class Catalog:
    """All catalog tables, indexed by key. Build with `load_catalog()`."""

    tables: dict[str, list[Row]]
    sources: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what loading did: fields removed, discounts applied
    # region whose EC2 and SageMaker rows price instances (`for_region`); None: the catalog's default rows
    instance_region: str | None = None

    def for_region(self, region: str) -> Catalog:
        """The same catalog with instances priced in `region`: `ec2()`, `ec2_instances`, `sagemaker_instances`
        hold that region's rows only, and an instance without one is an error naming what to add."""
        return Catalog(self.tables, self.sources, self.notes, instance_region=region)

    # ---- table accessors -------------------------------------------------------------------------
    def rows(self, table: str) -> list[Row]:
        return self.tables.get(table, [])

    @cached_property
    def bedrock_models(self) -> dict[str, BedrockModel]:
        return {r.model: r for r in self.rows("bedrock_models")}  # type: ignore[attr-defined,misc]

    @cached_property
    def bedrock_prices(self) -> list[BedrockPrice]:
        return list(self.rows("bedrock_prices"))  # type: ignore[arg-type]

    @cached_property
    def _price_index(self) -> dict[tuple[str, str, str, str], list[BedrockPrice]]:
        """(model, scope, region, tier) -> its rows, oldest window first (windows never overlap: checked on load)."""
        out: dict[tuple[str, str, str, str], list[BedrockPrice]] = {}
        for p in self.bedrock_prices:
            out.setdefault((p.model, p.scope, p.region, p.tier), []).append(p)
        for rows in out.values():
            rows.sort(key=lambda r: r.effective_from or date.min)
        return out

    @cached_property
    def price_periods(self) -> tuple[date, ...]:
        """Every day a Bedrock price row begins or ends, ascending: the boundaries of the pricing periods.

        Period 0 is before the first boundary, period i (1..n) from boundary i-1 up to boundary i. Each price
        key has one row (or none) in force through a whole period, so repricing groups requests by period
        (`workload.period_bucket`) and resolves each (key, period) once. Empty when no row is dated."""
        days = {d for p in self.bedrock_prices for d in (p.effective_from, p.effective_to) if d is not None}
        return tuple(sorted(days))

    @cached_property
    def price_periods_us(self) -> tuple[int, ...]:
        """`price_periods` as microseconds since the Unix epoch (UTC midnight), what request times compare to."""
        return tuple(day_us(d) for d in self.price_periods)

    def period_start(self, period: int) -> date | None:
        """The first day of a pricing period (None for period 0: before every dated row)."""
        if period < 0 or period > len(self.price_periods):
            raise ValueError(f"pricing period {period} out of range 0..{len(self.price_periods)}")
        return None if period == 0 else self.price_periods[period - 1]

    def period_label(self, period: int) -> str:
        """A period as a date range people read (`requests dated 2026-01-01 .. 2026-04-30`)."""
        days = self.price_periods
        if not days:
            return "requests of any date"
        start = self.period_start(period)
        end = date.fromordinal(days[period].toordinal() - 1) if period < len(days) else None
        if start is None:
            return f"requests dated before {days[0]}"
        return f"requests dated {start} .. {end}" if end is not None else f"requests dated from {start}"

    @cached_property
    def accelerators(self) -> dict[str, Accelerator]:
        return {r.accelerator: r for r in self.rows("accelerators")}  # type: ignore[attr-defined,misc]

    def current(self, table: str) -> list[Row]:
        """The rows of an instance table in force today (UTC): what prices an instance going forward."""
        today = datetime.now(UTC).date()
        return [r for r in self.rows(table) if r.in_force(today)]  # type: ignore[attr-defined]

    @cached_property
    def ec2_instances(self) -> dict[str, Ec2Instance]:
        """Instance type -> row in force today: the `instance_region`'s rows, or (no region set) one row per type,
        us-east-1 preferred (what hardware specs read)."""
        return _by_instance(self.current("ec2_instances"), self.instance_region)  # type: ignore[arg-type]

    @cached_property
    def sagemaker_instances(self) -> dict[str, SagemakerInstance]:
        return _by_instance(self.current("sagemaker_instances"), self.instance_region)  # type: ignore[arg-type]

    def ec2_in(self, instance: str, region: str) -> Ec2Instance:
        """The EC2 row of `instance` in `region`; missing is an error naming what to add."""
        return self._in_region("ec2_instances", instance, region)

    def sagemaker_in(self, instance: str, region: str) -> SagemakerInstance:
        """The SageMaker row of `instance` (ml.*) in `region`; missing is an error naming what to add."""
        return self._in_region("sagemaker_instances", instance, region)

    def _in_region(self, table: str, instance: str, region: str) -> Any:
        rows = [r for r in self.current(table) if r.instance == instance]  # type: ignore[attr-defined]
        for r in rows:
            if r.region == region:  # type: ignore[attr-defined]
                return r
        if not rows:
            return _lookup({}, instance, "instance type", table) if table != "ec2_instances" else \
                _lookup(self.ec2_instances, instance, "EC2 instance type", table)
        offer = "AmazonEC2" if table == "ec2_instances" else "AmazonSageMaker"
        have = ", ".join(sorted(r.region for r in rows))  # type: ignore[attr-defined]
        raise MissingPriceError(
            f"no {offer.removeprefix('Amazon')} price for {instance} in {region} (the catalog has it in {have}); run "
            f"`inferplan prices update --aws-price-list FILE` with {offer}'s {region} offer file "
            f"(https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/{offer}/current/"
            f"{region + '/' if offer == 'AmazonEC2' else ''}index.json), or add a `{table}:` row with region "
            f"{region} to your catalog file (--catalog FILE)")

    @cached_property
    def sagemaker_serverless(self) -> list[SagemakerServerless]:
        """Serverless prices in force today, one per memory size: the `instance_region`'s (none there: empty, and
        the serverless option says what to add), or (no region set) us-east-1's where a size has several."""
        by_size: dict[int, SagemakerServerless] = {}
        for r in self.current("sagemaker_serverless"):
            if self.instance_region is not None:
                if r.region == self.instance_region:  # type: ignore[attr-defined]
                    by_size[r.memory_gb] = r  # type: ignore[attr-defined,assignment]
            elif r.memory_gb not in by_size or r.region == "us-east-1":  # type: ignore[attr-defined]
                by_size[r.memory_gb] = r  # type: ignore[attr-defined,assignment]
        return [by_size[k] for k in sorted(by_size)]

    @cached_property
    def discounts(self) -> list[Discount]:
        return list(self.rows("discounts"))  # type: ignore[arg-type]

    @cached_property
    def model_specs(self) -> dict[str, ModelSpec]:
        return {r.spec: r for r in self.rows("model_specs")}  # type: ignore[attr-defined,misc]

    @cached_property
    def provisioned_prices(self) -> list[ProvisionedPrice]:
        return list(self.rows("provisioned_prices"))  # type: ignore[arg-type]

    @cached_property
    def profile_arns(self) -> dict[str, ProfileArn]:
        return {r.arn: r for r in self.rows("profile_arns")}  # type: ignore[attr-defined,misc]

    @cached_property
    def _aliases(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for m in self.bedrock_models.values():
            for a in [m.model, *m.aliases]:
                out[a.lower()] = m.model
        return out

    @cached_property
    def billing_names(self) -> dict[str, str]:
        """CUR usage-type model segment (e.g. `Claude4Sonnet`) -> catalog model."""
        return {b: m.model for m in self.bedrock_models.values() for b in m.billing_names}

    @cached_property
    def lc_thresholds(self) -> tuple[int, ...]:
        """Distinct long-context thresholds (input tokens) across all prices, ascending."""
        return tuple(sorted({p.lc_threshold_tokens for p in self.bedrock_prices if p.lc_threshold_tokens}))

    # ---- age ---------------------------------------------------------------------------------------
    @cached_property
    def checked(self) -> date:
        """The oldest `checked` date among Bedrock prices: how old the catalog's prices may be."""
        dates = [p.checked for p in self.bedrock_prices]
        if not dates:
            raise CatalogError("the catalog has no Bedrock prices")
        return min(dates)

    def checked_of(self, rows: Iterable[Row] | None = None) -> date:
        """The oldest `checked` date of `rows` (the price rows a result used), else of the whole catalog."""
        dates = [r.checked for r in rows] if rows is not None else []
        return min(dates) if dates else self.checked

    def age_days(self, today: date | None = None, rows: Iterable[Row] | None = None) -> int:
        return ((today or date.today()) - self.checked_of(rows)).days

    def staleness_warning(self, today: date | None = None, rows: Iterable[Row] | None = None) -> str | None:
        """A warning when prices are older than STALE_AFTER_DAYS: with `rows` (the rows a result used), only
        those are judged, and each stale one is named with its date."""
        day = today or date.today()
        used = list(rows) if rows is not None else None
        if used:
            stale = sorted({(r.checked, _row_name(r)) for r in used if (day - r.checked).days > STALE_AFTER_DAYS})
            if not stale:
                return None
            listing = "; ".join(f"{name} checked {d.isoformat()}" for d, name in stale)
            return (f"{len(stale)} price row(s) used are over {STALE_AFTER_DAYS} days old: {listing}; refresh with "
                    "`inferplan prices update --aws-price-list FILE` (docs/catalog.md) or override with "
                    "--catalog FILE")
        age = self.age_days(day)
        if age > STALE_AFTER_DAYS:
            return (f"catalog prices were checked {self.checked.isoformat()} ({age} days ago, over "
                    f"{STALE_AFTER_DAYS}); refresh with `inferplan prices update --aws-price-list FILE` "
                    "(docs/catalog.md) or override with --catalog FILE")
        return None

    # ---- model id resolution -----------------------------------------------------------------------
    def resolve_model(self, model_id: str) -> ResolvedModel:
        """Resolve what a log contains (id with version, profile id, ARN, short name) to a model and scope.

        Accepts `anthropic.claude-...-v1:0`, `us.anthropic...`, `global.anthropic...`,
        `arn:aws:bedrock:<region>:<acct>:inference-profile/<profile id>` (system profiles),
        `arn:aws:bedrock:<region>::foundation-model/<id>`, application inference profile ARNs through
        the `profile_arns` table, and aliases such as `claude-sonnet-4.5`.
        """
        raw = model_id.strip()
        if raw in self.profile_arns:
            p = self.profile_arns[raw]
            return ResolvedModel(self._require_model(p.model, raw), p.scope)
        ident = raw
        if raw.startswith("arn:"):
            tail = raw.split(":", 5)[-1]
            kind, _, rest = tail.partition("/")
            if kind == "application-inference-profile":
                raise UnknownModelError(
                    f"application inference profile {raw!r} is not mapped to a model; add it to your "
                    "catalog file under `profile_arns:` as `- {arn: ..., model: <model id>, scope: in-region, "
                    "source: ..., checked: YYYY-MM-DD}`")
            if kind in ("foundation-model", "inference-profile", "provisioned-model", "custom-model"):
                ident = rest
            else:
                raise UnknownModelError(f"unrecognised ARN {raw!r}: expected a foundation-model, "
                                        "inference-profile or application-inference-profile ARN")
        scope = "in-region"
        head, dot, rest = ident.partition(".")
        if dot and head.lower() in _GEO_PREFIXES and rest:
            scope, ident = head.lower(), rest
        return ResolvedModel(self._require_model(ident, raw), scope)

    def _require_model(self, ident: str, raw: str) -> str:
        key = ident.lower()
        if key in self._aliases:
            return self._aliases[key]
        # a version suffix the catalog does not list (e.g. `:0` vs none)
        base = key.split(":")[0]
        for cand in (base, f"{base}:0"):
            if cand in self._aliases:
                return self._aliases[cand]
        close = difflib.get_close_matches(key, list(self._aliases), n=5, cutoff=0.5)
        hint = f"; closest known ids: {', '.join(close)}" if close else ""
        raise UnknownModelError(f"unknown model id {raw!r}{hint}. If it is new, add it to a catalog file "
                                "(--catalog FILE) under `bedrock_models:` and `bedrock_prices:`")

    # ---- prices ------------------------------------------------------------------------------------
    def price(self, model: str, scope: str, region: str, tier: str, on: date | None = None, *,
              period: int | None = None) -> BedrockPrice:
        """The price row for one model/scope/region/tier in force on a day: `on` (default: today, UTC), or the
        first day of pricing `period` (see `price_periods`). The region's own row in force then wins over the
        `*` row in force then. No row in force is a MissingPriceError naming the dates and the row to add."""
        if period is not None and period < 0:  # no timestamp: only a row in force at every date can price it
            rows = (self._price_index.get((model, scope, region, tier))
                    or self._price_index.get((model, scope, "*", tier)) or [])  # the region's own rows, else `*`
            always = [r for r in rows if r.effective_from is None and r.effective_to is None]
            if always:
                return always[0]
            raise MissingPriceError(f"requests of model {model!r} ({scope}/{region}/{tier}) have no timestamp, and "
                                    "the catalog's prices are dated: give every request its `ts`")
        if period is not None:
            day, what = self.period_start(period), self.period_label(period)
        else:
            day = on if on is not None else datetime.now(UTC).date()
            what = f"requests dated {day}"
        held = False
        for reg in (region, "*"):
            rows = self._price_index.get((model, scope, reg, tier))
            if not rows:
                continue
            held = True
            for row in rows:
                if row.in_force(day):
                    return row
        if held:
            rows = [*self._price_index.get((model, scope, region, tier), []),
                    *self._price_index.get((model, scope, "*", tier), [])]
            listing = "; ".join(f"region {r.region}: {r.window()}" for r in rows)
            raise MissingPriceError(
                f"no Bedrock price for model {model!r}, scope {scope!r}, region {region!r}, tier {tier!r} in force "
                f"for {what} (the catalog's rows for it are in force: {listing}). Add a `bedrock_prices:` row for "
                f"it with effective_from / effective_to covering those dates (input_usd_per_mtok, "
                "output_usd_per_mtok, source, checked) to your catalog file (--catalog FILE), or run "
                "`inferplan prices update` with an offer file of that period")
        have = sorted({(p.scope, p.region, p.tier) for p in self.bedrock_prices if p.model == model})
        listing = ", ".join(f"{s}/{r}/{t}" for s, r, t in have) or "none"
        raise MissingPriceError(
            f"no Bedrock price for model {model!r}, scope {scope!r}, region {region!r}, tier {tier!r} "
            f"(catalog has scope/region/tier: {listing}). Add a `bedrock_prices:` row to your catalog file "
            "(--catalog FILE) with input_usd_per_mtok, output_usd_per_mtok, source and checked")

    # ---- hardware ----------------------------------------------------------------------------------
    def ec2(self, instance: str) -> Ec2Instance:
        """An EC2 row: in `instance_region` when the catalog is set to one (`for_region`)."""
        if self.instance_region is not None:
            return self.ec2_in(instance, self.instance_region)
        return _lookup(self.ec2_instances, instance, "EC2 instance type", "ec2_instances")

    def accelerator(self, key: str) -> Accelerator:
        return _lookup(self.accelerators, key.lower(), "accelerator", "accelerators")

    def model_spec(self, key: str) -> ModelSpec:
        """An open-weights spec by key, or through a Bedrock model that serves the same weights."""
        k = key.lower()
        if k in self.model_specs:
            return self.model_specs[k]
        try:
            bm = self.bedrock_models[self.resolve_model(key).model]
            if bm.open_weights and bm.open_weights in self.model_specs:
                return self.model_specs[bm.open_weights]
        except UnknownModelError:
            pass
        return _lookup(self.model_specs, k, "model spec", "model_specs")


def _row_name(r: Row) -> str:
    """A price row as a user reads it: `model scope/region/tier` or `instance region`."""
    if isinstance(r, BedrockPrice):
        return f"{r.model} {r.scope}/{r.region}/{r.tier}"
    return " ".join(str(getattr(r, k)) for k in ("instance", "region") if hasattr(r, k)) or type(r).__name__


def _by_instance(rows: list[Any], region: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for r in rows:
        if region is not None:
            if r.region == region:
                out[r.instance] = r
        elif r.instance not in out or r.region == "us-east-1":
            out[r.instance] = r
    return out


def _lookup(table: dict[str, Any], key: str, what: str, name: str) -> Any:
    if key in table:
        return table[key]
    close = difflib.get_close_matches(key, list(table), n=5, cutoff=0.4)
    hint = f"; closest: {', '.join(close)}" if close else ""
    raise UnknownItemError(f"unknown {what} {key!r}{hint}. Add it to your catalog file under `{name}:`")


def _packaged_tables() -> tuple[dict[str, list[Row]], list[str]]:
    base = resources.files("inferplan.catalog") / "data"
    tables: dict[str, list[Row]] = {}
    sources = []
    for name, (model, _keys) in TABLES.items():
        path = base / f"{name}.csv"
        if path.is_file():
            tables[name] = _read_csv(path, model)  # type: ignore[arg-type]
            sources.append(str(path))
        else:
            tables[name] = []
    return tables, sources


def user_config_dir() -> Path:
    """The user's inferplan config folder: $INFERPLAN_CONFIG_DIR, else $XDG_CONFIG_HOME/inferplan, else
    ~/.config/inferplan. `prices update` writes its catalog file there; `load_catalog` reads it."""
    if env := os.environ.get("INFERPLAN_CONFIG_DIR"):
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "inferplan"


def user_catalog_path() -> Path:
    """The catalog file `prices update` writes by default (read after the packaged data, before --catalog)."""
    return user_config_dir() / "catalog.yaml"


def _read_user_doc(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise CatalogError(f"cannot read catalog file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"catalog file {path} is not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise CatalogError(f"catalog file {path}: expected a mapping of table name to a list of rows")
    unknown = set(doc) - set(TABLES) - set(USER_TABLES)
    if unknown:
        raise CatalogError(f"catalog file {path}: unknown table(s) {sorted(unknown)}; known: "
                           f"{sorted([*TABLES, *USER_TABLES])}")
    for name, rows in doc.items():
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise CatalogError(f"catalog file {path}: `{name}` must be a list of rows (mappings)")
    return doc


def _row_key(model: type[Row], keys: tuple[str, ...], raw: dict[str, Any]) -> tuple[Any, ...] | None:
    """The key of a raw user row, key fields' defaults filled; None when a key field is missing."""
    out = []
    for k in keys:
        if k in raw and raw[k] is not None:
            out.append(raw[k])
            continue
        default = model.model_fields[k].get_default(call_default_factory=True)
        if default is None and k != "effective_from":  # a missing start date is a row in force since ever
            return None
        out.append(default)
    return tuple(v if v is None or isinstance(v, (int, float)) else _norm(v) if isinstance(v, date) else str(v)
                 for v in out)


def _star_row(current: dict[tuple, Row], keys: tuple[str, ...], nkey: tuple, start: date) -> Row | None:
    """The `*`-region row of a region row's key in force on `start` (None where the key has no region)."""
    if "region" not in keys:
        return None
    at = keys.index("region")
    if nkey[at] == "*":
        return None
    want = (*nkey[:at], "*", *nkey[at + 1:-1])
    hits = [r for k, r in current.items() if k[:-1] == want and r.in_force(start)]
    return hits[0] if hits else None


def _merge_user(tables: dict[str, list[Row]], path: Path, notes: list[str],
                discounts: list[tuple[BedrockDiscount, Path]] | None = None) -> None:
    """Apply a user YAML file field by field.

    A row whose key matches a packaged (or earlier) row is merged over it: the fields it gives replace
    those of the row, the others are kept (long-context, 1-hour write and cache prices survive a "10% less
    input and output" override), and the merged row is validated. A field set to null removes it: that is
    warned about, since pricing a request that needs it then fails. A row with a new key is added whole.
    `bedrock_discounts:` rows are collected into `discounts`, applied once every file is merged.
    """
    doc = _read_user_doc(path)
    for name, rows in doc.items():
        if name in USER_TABLES:
            for i, raw in enumerate(rows, start=1):
                try:
                    row = USER_TABLES[name].model_validate({k: v for k, v in raw.items() if v is not None})
                except ValidationError as exc:
                    raise CatalogError(f"catalog file {path}: `{name}` row {i}: "
                                       f"{_short_validation(exc)}") from None
                if discounts is not None:
                    discounts.append((row, path))  # type: ignore[arg-type]
            continue
        model, keys = TABLES[name]
        current = {tuple(_norm(getattr(r, k)) for k in keys): r for r in tables.get(name, [])}
        dated = "effective_from" in keys
        earlier = set(current)  # rows of earlier layers: a dated row here may split them, never this file's own
        for i, raw in enumerate(rows, start=1):
            key = _row_key(model, keys, raw)
            nkey = tuple(_norm(v) for v in key) if key is not None else None
            base = current.get(nkey) if nkey is not None else None
            if dated and key is not None:
                if "effective_from" not in raw and "effective_to" not in raw:
                    # an undated row overrides its key at every date: each row of the key, field by field
                    targets = [(k, r) for k, r in current.items()
                               if k[:-1] == nkey[:-1] and (k in earlier or k == nkey)]  # type: ignore[index]
                    if targets:
                        for k, r in targets:
                            current[k] = _merged(model, keys, r, raw, path, name, i, notes)
                        continue
                elif base is None and (start := _as_date(raw.get("effective_from"))) is not None:
                    # a dated row starting inside an existing row's window splits it: the old row ends that day,
                    # the new one starts with the old row's fields and the fields given here
                    hits = [(k, r) for k, r in current.items()
                            if k in earlier and k[:-1] == nkey[:-1] and r.in_force(start)]
                    if hits:
                        k, old = hits[0]
                        current[k] = old.model_copy(update={
                            "effective_to": start, "source": f"{old.source} (ends {start}: {path})"})
                        split = dict(raw)
                        split.setdefault("effective_to", old.effective_to)
                        row = _merged(model, keys, old.model_copy(update={"effective_from": start}), split, path,
                                      name, i, notes, since=start)
                        current[tuple(_norm(getattr(row, k)) for k in keys)] = row
                        continue
                    # else it follows the latest row of its key that ended by then (a price history written row
                    # by row): it starts with that row's fields, the fields given here replacing them
                    before = [r for k, r in current.items() if k[:-1] == nkey[:-1]  # type: ignore[index]
                              and r.effective_to is not None and r.effective_to <= start]
                    if before:
                        prev = max(before, key=lambda r: r.effective_to)
                        follow = {"effective_to": None, **raw}
                        row = _merged(model, keys, prev.model_copy(update={"effective_from": start}), follow, path,
                                      name, i, notes, since=start)
                        current[tuple(_norm(getattr(row, k)) for k in keys)] = row
                        continue
                    # else a region's first row of its own over the `*` row its requests priced at until then
                    # (a regional price change): it starts with that row's fields, the fields given replacing them
                    star = _star_row(current, keys, nkey, start)
                    if star is not None:
                        over = {"effective_to": star.effective_to, **raw}
                        base_row = star.model_copy(update={"region": raw["region"], "effective_from": start,
                                                           "effective_to": None})
                        row = _merged(model, keys, base_row, over, path, name, i, notes, since=start)
                        current[tuple(_norm(getattr(row, k)) for k in keys)] = row
                        continue
            if base is None:
                values = {k: v for k, v in raw.items() if v is not None}
                try:
                    row = model.model_validate(values)
                except ValidationError as exc:
                    raise CatalogError(f"catalog file {path}: `{name}` row {i}: {_short_validation(exc)}") from None
            else:
                row = _merged(model, keys, base, raw, path, name, i, notes)
            current[tuple(_norm(getattr(row, k)) for k in keys)] = row
        tables[name] = list(current.values())


def _as_date(v: Any) -> date | None:
    if v is None or isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v))
    except ValueError:
        return None  # left to the row's validation, which names the field


def _merged(model: type[Row], keys: tuple[str, ...], base: Row, raw: dict[str, Any], path: Path, name: str, i: int,
            notes: list[str], since: date | None = None) -> Row:
    """`base` with the fields `raw` gives replaced (null removes one, with a warning), validated."""
    values = base.model_dump()
    given = [k for k in raw if k not in keys and k not in ("source", "checked", "effective_to")]
    removed = [k for k, v in raw.items() if v is None and values.get(k) is not None and k != "effective_to"]
    for k, v in raw.items():
        values[k] = v
    values = {k: v for k, v in values.items() if v is not None}
    when = f" from {since}" if since is not None else ""
    values["source"] = (f"{raw.get('source') or path}: {', '.join(given) or 'no fields'} overridden{when}; "
                        f"other fields: {base.source}")
    values.setdefault("checked", base.checked)
    if removed:
        what = f"{name} row {'/'.join(str(getattr(base, k)) for k in keys)}"
        msg = (f"catalog file {path}: `{name}` row {i} removes {', '.join(removed)} that the "
               f"catalog had for {what}; a request that needs it will fail to price (omit the "
               "field to keep the catalog's value)")
        warnings.warn(msg, stacklevel=4)
        notes.append(msg)
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise CatalogError(f"catalog file {path}: `{name}` row {i}: {_short_validation(exc)}") from None


def _norm(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date) else v


def _apply_discounts(tables: dict[str, list[Row]], discounts: list[tuple[BedrockDiscount, Path]],
                     notes: list[str]) -> None:
    """Take each discount's percent off every matching Bedrock price field (plain and long-context) of its
    kinds, compounding when several match; the row's source names each discount applied."""
    if not discounts:
        return
    models = {m.model: m for m in tables.get("bedrock_models", [])}  # type: ignore[attr-defined,misc]
    out: list[Row] = []
    hits = [0] * len(discounts)
    for p in tables.get("bedrock_prices", []):
        bm = models.get(p.model)  # type: ignore[attr-defined]
        names = [p.model, *(bm.aliases if bm else [])]  # type: ignore[attr-defined,union-attr]
        provider = bm.provider if bm else ""  # type: ignore[union-attr]
        update: dict[str, Any] = {}
        said: list[str] = []
        for j, (d, path) in enumerate(discounts):
            if not (fnmatch.fnmatchcase(provider, d.provider)
                    and any(fnmatch.fnmatchcase(n, d.model) for n in names)
                    and fnmatch.fnmatchcase(p.scope, d.scope)  # type: ignore[attr-defined]
                    and fnmatch.fnmatchcase(p.region, d.region)  # type: ignore[attr-defined]
                    and fnmatch.fnmatchcase(p.tier, d.tier)):  # type: ignore[attr-defined]
                continue
            changed = False
            for kind in d.kinds:
                for f in (f"{kind}_usd_per_mtok", f"lc_{kind}_usd_per_mtok"):
                    v = update.get(f, getattr(p, f))
                    if v is not None:
                        update[f] = float(f"{v * (1 - d.percent_off / 100):.12g}")
                        changed = True
            if changed:
                hits[j] += 1
                said.append(f"{d.percent_off:g}% off {', '.join(d.kinds)} (bedrock_discounts in {path}: "
                            f"{d.source}, checked {d.checked.isoformat()})")
        if update:
            update["source"] = f"{p.source}; " + "; ".join(said)
            p = p.model_copy(update=update)
        out.append(p)
    tables["bedrock_prices"] = out
    for (d, path), n in zip(discounts, hits, strict=True):
        what = f"provider {d.provider}, model {d.model}, scope {d.scope}, region {d.region}, tier {d.tier}"
        if n:
            notes.append(f"private pricing: {d.percent_off:g}% off {', '.join(d.kinds)} on {n} Bedrock price "
                         f"row(s) ({what}; {path})")
        else:
            raise CatalogError(f"catalog file {path}: bedrock_discounts row ({what}) matches no Bedrock price "
                               "row; check the provider/model/scope/region/tier patterns")


_PACKAGED: tuple[dict[str, list[Row]], list[str]] | None = None


def load_catalog(user_file: str | Path | None = None, *, warn_stale: bool = True,
                 user_config: bool = True) -> Catalog:
    """Load the packaged catalog, then the user's config catalog (`prices update` writes it; see
    `user_catalog_path`), then `user_file` (--catalog FILE), each merged field by field; then discounts."""
    global _PACKAGED
    if _PACKAGED is None:
        _PACKAGED = _packaged_tables()
    tables = {k: list(v) for k, v in _PACKAGED[0].items()}
    sources = list(_PACKAGED[1])
    notes: list[str] = []
    discounts: list[tuple[BedrockDiscount, Path]] = []
    layers = []
    if user_config and (cfg := user_catalog_path()).is_file():
        layers.append(cfg)
    if user_file is not None:
        layers.append(Path(user_file))
    for path in layers:
        _merge_user(tables, path, notes, discounts)
        sources.append(str(path))
    _apply_discounts(tables, discounts, notes)
    cat = Catalog(tables, sources, notes)
    _check_references(cat)
    _check_windows(cat)
    if warn_stale and cat.bedrock_prices and (msg := cat.staleness_warning()):
        warnings.warn(msg, stacklevel=2)
    return cat


def _check_windows(cat: Catalog) -> None:
    """The dated rows of one price key may not overlap: two prices in force on one day would be a guess."""
    groups: dict[tuple[str, tuple], list[Any]] = {}
    for table in ("bedrock_prices", "ec2_instances", "sagemaker_instances", "sagemaker_serverless", "discounts"):
        keys = TABLES[table][1][:-1]  # the key without effective_from
        for r in cat.rows(table):
            groups.setdefault((table, tuple(getattr(r, k) for k in keys)), []).append(r)
    for (table, key), rows in groups.items():
        rows.sort(key=lambda r: r.effective_from or date.min)
        for a, b in zip(rows, rows[1:], strict=False):
            if a.effective_to is None or b.effective_from is None or a.effective_to > b.effective_from:
                raise CatalogError(
                    f"{table} rows for {' '.join(map(str, key))} overlap: one in force {a.window()} "
                    f"({a.source}), the other {b.window()} ({b.source}); give the earlier row an effective_to on "
                    "or before the later row's effective_from")


def _check_references(cat: Catalog) -> None:
    """Every price, ARN and spec points at a model the catalog knows."""
    models = cat.bedrock_models
    for p in cat.bedrock_prices:
        if p.model not in models:
            raise CatalogError(f"bedrock_prices row for {p.model!r} ({p.scope}/{p.region}/{p.tier}) has no "
                               "bedrock_models row; add one")
    for a in cat.profile_arns.values():
        if a.model not in models and a.model.lower() not in cat._aliases:
            raise CatalogError(f"profile_arns row {a.arn!r} maps to unknown model {a.model!r}")
    for inst in cat.rows("ec2_instances"):
        if inst.accelerator and inst.accelerator not in cat.accelerators:
            raise CatalogError(f"ec2_instances row {inst.instance!r} ({inst.region}) names unknown "  # type: ignore[attr-defined]
                               f"accelerator {inst.accelerator!r}")  # type: ignore[attr-defined]
