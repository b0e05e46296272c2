"""Lever options: the `levers:` section of a scenario YAML, validated (a misspelt key is an error)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import ConfigError
from ..scenario import invalid
from ..scenario import section as scenario_section


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CachingOptions(_Strict):
    """Managed (Bedrock) prompt-cache replay."""

    ttl: Literal["auto", 300, 3600] = Field(
        default="auto", description="seconds; auto tries every TTL the model offers and keeps the cheaper")
    placements: Literal["auto"] | list[list[int | Literal["last"]]] = Field(
        default="auto", description="checkpoint sets to try: after segment N (1-based) and/or `last` (end of "
        "the prefix); auto tries every set of up to 4 from {1, 2, 3, last}")
    same_timestamp_hits: bool = Field(
        default=True, description="a request may read what an earlier request (in input order) with the "
        "same timestamp wrote")
    stable_prefix_tokens: dict[str, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict, description="call type -> stable prefix length, for requests without `prefix`")
    call_types: list[str] | None = Field(default=None, description="only these call types (default: all)")

    @model_validator(mode="after")
    def _at_most_four(self) -> CachingOptions:
        if self.placements != "auto":
            for p in self.placements:
                if not p or len(set(p)) > 4:
                    raise ValueError(f"placement {p}: 1 to 4 checkpoints (Bedrock allows at most 4)")
                if any(x != "last" and int(x) < 1 for x in p):
                    raise ValueError(f"placement {p}: positions are 1-based segment numbers or `last`")
        return self

    stated_read_fraction: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict, description="call type -> fraction of input tokens read from cache, stated "
        "instead of replayed (for traffic without prefix identity); writes are not charged then")


class BatchOptions(_Strict):
    """Move call types nobody waits on to the batch tier."""

    call_types: list[str] = Field(default_factory=list, description="call types to move, besides the "
                                  "non-interactive ones")
    non_interactive: bool = Field(default=True, description="move call types whose requests all have "
                                  "interactive = false")
    exclude: list[str] = Field(default_factory=list)


class RoutingRule(_Strict):
    """Send a share of one call type to a smaller model (router) or to it first (cascade)."""

    call_type: str
    small_model: str = Field(description="model id, profile id or alias of the small model")
    mode: Literal["router", "cascade"] = "router"
    share: float = Field(default=1.0, ge=0, le=1, description="router: share of requests sent to the small "
                         "model; cascade: share that tries the small model first")
    escalation_rate: float = Field(default=0.0, ge=0, le=1, description="share of the small model's requests "
                                   "escalated to the original model (they pay both)")
    output_ratio: float = Field(default=1.0, gt=0, description="small-model output tokens / original")
    seed: int = 0


class RoutingOptions(_Strict):
    rules: list[RoutingRule] = Field(default_factory=list)


class TrimRule(_Strict):
    """Send fewer input tokens on one call type (retrieved context): scale and/or cap the variable part."""

    call_type: str
    scale: float = Field(default=1.0, ge=0, le=1, description="keep this fraction of the non-prefix input")
    cap_input_tokens: int | None = Field(default=None, ge=0, description="cap on total input tokens (never "
                                         "cuts into the stable prefix)")

    @model_validator(mode="after")
    def _does_something(self) -> TrimRule:
        if self.scale == 1.0 and self.cap_input_tokens is None:
            raise ValueError("a trim rule needs scale < 1 or cap_input_tokens")
        return self


class TrimOptions(_Strict):
    rules: list[TrimRule] = Field(default_factory=list)


class LeverOptions(_Strict):
    """All levers' options; absent sections get defaults."""

    caching: CachingOptions = CachingOptions()
    batch: BatchOptions = BatchOptions()
    routing: RoutingOptions = RoutingOptions()
    trim: TrimOptions = TrimOptions()


    def named_call_types(self, levers: Iterable[str] | None = None) -> list[tuple[str, str]]:
        """(key, call type) for every call type the options of `levers` (default: all) name, in file order."""
        c, b = self.caching, self.batch
        out = [("levers.caching.call_types", ct) for ct in c.call_types or []]
        out += [("levers.caching.stable_prefix_tokens", ct) for ct in c.stable_prefix_tokens]
        out += [("levers.caching.stated_read_fraction", ct) for ct in c.stated_read_fraction]
        out += [("levers.batch.call_types", ct) for ct in b.call_types]
        out += [("levers.batch.exclude", ct) for ct in b.exclude]
        out += [(f"levers.routing.rules.{i}.call_type", r.call_type) for i, r in enumerate(self.routing.rules)]
        out += [(f"levers.trim.rules.{i}.call_type", r.call_type) for i, r in enumerate(self.trim.rules)]
        if levers is None:
            return out
        keep = set(levers)
        return [(key, ct) for key, ct in out if key.split(".")[1] in keep]


def _folded(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch not in "-_ .")


def check_call_types(opts: LeverOptions, present: Iterable[str], where: str,
                     levers: Iterable[str] | None = None) -> list[str]:
    """Options (of `levers`) naming a call type the traffic lacks. An error where the name differs from one the
    traffic has only in case or separators (`Chat`, `ticket_triage`): surely a misspelling, which would leave its
    lever saving nothing. Otherwise a note each, with the closest name: a scenario written for traffic that had
    that call type still runs, and says what did nothing."""
    have = sorted(set(present))
    folded = {_folded(h): h for h in have}
    bad = [(key, ct) for key, ct in opts.named_call_types(levers) if ct not in have]
    typos = [f"{key}: {ct!r} is not a call type of this traffic (did you mean {folded[_folded(ct)]!r}?)"
             for key, ct in bad if _folded(ct) in folded]
    if typos:
        raise ConfigError(f"{where}: {'; '.join(typos)}; the traffic has {', '.join(have)}")
    notes = []
    for key, ct in bad:
        near = difflib.get_close_matches(ct, have, n=1, cutoff=0.6)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        notes.append(f"{key}: no request has call type {ct!r} (the traffic has {', '.join(have) or 'none'}{hint}): "
                     "it changes nothing")
    return notes


def load_options(scenario: Path | dict[str, Any] | None) -> LeverOptions:
    """The `levers:` section of a scenario file (or dict); defaults when there is none."""
    if scenario is None:
        return LeverOptions()
    try:
        return LeverOptions.model_validate(scenario_section(scenario, "levers"))
    except ValidationError as exc:
        raise invalid(exc, "levers", scenario, label="lever") from None
