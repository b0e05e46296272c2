"""The traffic spec: call types, rates, daily/weekly shapes, token distributions and prefixes, validated.

What a scenario's `traffic:` section says, checked with pydantic (`extra="forbid"`) so a typo is an error naming
the field, never a silently ignored key. See docs/readers.md for the YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import ConfigError
from ..regions import REGIONS, unknown_message
from ..scenario import check_sections

DAILY_SHAPES: dict[str, list[float]] = {
    "flat": [1.0] * 24,
    "business": [0.15, 0.1, 0.1, 0.1, 0.15, 0.25, 0.45, 0.8, 1.3, 1.7, 1.85, 1.9,
                 1.8, 1.85, 1.9, 1.8, 1.6, 1.3, 0.9, 0.6, 0.45, 0.35, 0.25, 0.2],
    "evening": [0.5, 0.35, 0.25, 0.2, 0.2, 0.25, 0.4, 0.6, 0.8, 0.9, 1.0, 1.05,
                1.1, 1.1, 1.1, 1.15, 1.2, 1.35, 1.6, 1.8, 1.9, 1.8, 1.4, 0.9],
    "nightly": [3.0, 4.0, 4.0, 3.0, 2.0, 1.0, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1,
                0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.5, 1.5],
}
WEEKLY_SHAPES: dict[str, list[float]] = {
    "flat": [1.0] * 7,
    "weekdays": [1.15, 1.2, 1.2, 1.2, 1.1, 0.6, 0.55],
}


def _real_region(v: str) -> str:
    """A scenario's region, refused when it is not an AWS region (it would price at the `*` rows)."""
    if v not in REGIONS:
        raise ValueError(unknown_message(v))
    return v


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Dist(_Strict):
    """A token-length distribution. A bare number in YAML means `{dist: fixed, mean: N}`."""

    dist: Literal["fixed", "lognormal", "exponential", "uniform", "normal"] = "lognormal"
    mean: float = Field(gt=0, description="mean tokens (fixed: the value)")
    cv: float = Field(default=0.5, ge=0, description="coefficient of variation (sd / mean); lognormal, normal")
    min: int = Field(default=1, ge=0)
    max: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _bounds(self) -> Dist:
        if self.max is not None and self.max < self.min:
            raise ValueError("max is below min")
        return self

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        m = self.mean
        if self.dist == "fixed":
            x = np.full(n, m)
        elif self.dist == "lognormal":
            s2 = np.log1p(self.cv**2)
            x = rng.lognormal(np.log(m) - s2 / 2, np.sqrt(s2), n)
        elif self.dist == "exponential":
            x = rng.exponential(m, n)
        elif self.dist == "uniform":
            hi = 2 * m - self.min
            x = rng.uniform(self.min, max(hi, self.min), n)
        else:
            x = rng.normal(m, m * self.cv, n)
        hi = self.max if self.max is not None else np.iinfo(np.int64).max // 4
        x = np.asarray(x, float)
        np.rint(x, out=x)
        np.clip(x, self.min, hi, out=x)
        return x.astype(np.int64)


class PrefixStage(_Strict):
    """A shared prompt segment (tools + system prompt, a reused document...): `tokens` long, one of
    `variants` distinct texts, present in a `reuse` fraction of the requests that have the previous stage."""

    tokens: int = Field(gt=0)
    reuse: float = Field(default=1.0, ge=0, le=1)
    variants: int = Field(default=1, ge=1)
    name: str | None = None


class CallTypeSpec(_Strict):
    """One call type: how often, when, how big, on which model."""

    model: str = Field(min_length=1, description="model id as it would be logged (id, profile id, alias)")
    per_second: float | None = Field(default=None, ge=0)
    per_hour: float | None = Field(default=None, ge=0)
    per_day: float | None = Field(default=None, ge=0)
    daily_profile: str | list[float] = "flat"
    weekly_profile: str | list[float] = "flat"
    burstiness: float = Field(default=0.0, ge=0, description="CV of the per-minute rate; 0 is Poisson")
    input_tokens: Dist
    output_tokens: Dist
    prefix: list[PrefixStage] = Field(default_factory=list)
    cache: Literal["none", "5m", "1h"] = "none"
    interactive: bool = True
    tier: Literal["standard", "batch", "flex", "priority", "provisioned"] = "standard"
    region: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("input_tokens", "output_tokens", mode="before")
    @classmethod
    def _number_is_fixed(cls, v: Any) -> Any:
        return {"dist": "fixed", "mean": v} if isinstance(v, int | float) and not isinstance(v, bool) else v

    @field_validator("prefix", mode="before")
    @classmethod
    def _one_stage(cls, v: Any) -> Any:
        return [v] if isinstance(v, dict) else v

    @field_validator("region")
    @classmethod
    def _region(cls, v: str | None) -> str | None:
        return v if v is None else _real_region(v)

    @field_validator("daily_profile", "weekly_profile")
    @classmethod
    def _profile(cls, v: str | list[float], info: Any) -> str | list[float]:
        daily = info.field_name == "daily_profile"
        shapes, n = (DAILY_SHAPES, 24) if daily else (WEEKLY_SHAPES, 7)
        if isinstance(v, str):
            if v not in shapes:
                raise ValueError(f"unknown profile {v!r}; named profiles: {', '.join(shapes)}, or a list of {n}")
            return v
        if len(v) != n or any(x < 0 for x in v) or sum(v) <= 0:
            raise ValueError(f"a {'daily' if daily else 'weekly'} profile is {n} non-negative weights, not all 0")
        return v

    @model_validator(mode="after")
    def _one_rate(self) -> CallTypeSpec:
        given = [x for x in (self.per_second, self.per_hour, self.per_day) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of per_second, per_hour, per_day (mean requests over a week)")
        if self.cache != "none" and not self.prefix:
            raise ValueError("cache needs a prefix: what is cached is the shared prefix")
        return self

    @property
    def rate_per_minute(self) -> float:
        if self.per_second is not None:
            return self.per_second * 60
        if self.per_hour is not None:
            return self.per_hour / 60
        return float(self.per_day or 0) / 1440

    def profile_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        d = np.asarray(DAILY_SHAPES[self.daily_profile] if isinstance(self.daily_profile, str)
                       else self.daily_profile, float)
        w = np.asarray(WEEKLY_SHAPES[self.weekly_profile] if isinstance(self.weekly_profile, str)
                       else self.weekly_profile, float)
        return d / d.mean(), w / w.mean()


class TrafficSpec(_Strict):
    """The `traffic:` section of a scenario file."""

    start: datetime = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
    days: float = Field(default=7, gt=0)
    utc_offset_hours: float = Field(default=0, ge=-12, le=14, description="local time of the profiles")
    region: str = "us-east-1"
    call_types: dict[str, CallTypeSpec] = Field(min_length=1)

    @field_validator("start")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        return _real_region(v)


def load_traffic(source: str | Path | Mapping[str, Any]) -> TrafficSpec:
    """A validated TrafficSpec from a YAML file, a scenario dict, or the `traffic:` mapping itself."""
    where = "traffic spec"
    if isinstance(source, str | Path):
        where = str(source)
        try:
            doc = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read scenario file {source}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"scenario file {source} is not valid YAML: {exc}") from None
    else:
        doc = dict(source)
    if isinstance(doc, dict) and "traffic" in doc:
        check_sections(doc, where)
        doc = doc["traffic"]
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: expected a `traffic:` mapping with `call_types:`")
    try:
        return TrafficSpec.model_validate(doc)
    except ValidationError as exc:
        msgs = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{where}: invalid traffic spec: {msgs}") from None

