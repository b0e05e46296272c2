"""Total cost of ownership: the infrastructure a serving option bills, plus the engineering time it takes.

Engineering is what the per-token comparison leaves out (the guide: "the break-even is higher than most teams
assume once engineering time is priced in"). Per option kind it is

    monthly = fte x usd_per_year / 12                      (ongoing share of an engineer)
            + oncall_usd_per_week x 52 / 12                (a pager rotation, where you own the stack)
            + annuity(one-time weeks x usd_per_year / 52)   (set-up, plus Neuron porting on Inferentia/Trainium)

where the one-time cost is spread over `horizon_months` at the annual `discount_rate` (a loan-style annuity:
what a month of the horizon must carry to repay the set-up with interest). The defaults, and the published
figures they come from, are in docs/economics.md; every one is overridable (`--eng-fte`, `--eng-usd-per-year`,
or the scenario's `economics:` section, per option kind too).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import ConfigError
from ..scenario import invalid
from ..scenario import section as scenario_section

WEEKS_PER_MONTH = 52.0 / 12.0
# Option kinds (the `compare` contract). Bedrock's are managed: no engineering beyond what any API integration
# costs (the same on every option, so left out of the comparison).
MANAGED_KINDS = ("bedrock", "bedrock-batch", "bedrock-provisioned")
SAGEMAKER_KINDS = ("sagemaker-realtime", "sagemaker-serverless", "sagemaker-async")
SELF_HOSTED_KINDS = ("ec2", "hybrid")
KINDS = (*MANAGED_KINDS, *SAGEMAKER_KINDS, *SELF_HOSTED_KINDS)
NEURON_FAMILIES = ("inf1", "inf2", "trn1", "trn1n", "trn2")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Engineering(_Strict):
    """Engineering time one serving option takes (None: the kind's default)."""

    fte: float | None = Field(default=None, ge=0, le=10, description="ongoing share of one engineer")
    setup_weeks: float | None = Field(default=None, ge=0, description="one-time engineer-weeks to build it")
    neuron_port_weeks: float | None = Field(default=None, ge=0, description="extra one-time weeks on "
                                            "Inferentia/Trainium (compile, validate, tune on the Neuron SDK)")
    oncall_usd_per_week: float | None = Field(default=None, ge=0, description="on-call stipend per week")


# Defaults per kind: (fte, setup weeks, Neuron porting weeks, on-call $/week). Sources in docs/economics.md.
DEFAULTS: dict[str, tuple[float, float, float, float]] = {
    "bedrock": (0.0, 0.0, 0.0, 0.0),
    "bedrock-batch": (0.0, 0.0, 0.0, 0.0),
    "bedrock-provisioned": (0.0, 0.0, 0.0, 0.0),
    "sagemaker-serverless": (0.1, 2.0, 0.0, 0.0),
    "sagemaker-async": (0.15, 4.0, 4.0, 0.0),
    "sagemaker-realtime": (0.15, 4.0, 4.0, 0.0),
    "ec2": (0.3, 10.0, 4.0, 500.0),
    "hybrid": (0.3, 10.0, 4.0, 500.0),
}


class TcoOptions(_Strict):
    """The scenario's `economics:` section."""

    usd_per_year: float = Field(default=260_000.0, gt=0, description="loaded cost of one engineer a year")
    horizon_months: float = Field(default=24.0, gt=0, description="months the one-time cost is spread over")
    discount_rate: float = Field(default=0.10, ge=0, le=1, description="annual rate for spreading it")
    fte: float | None = Field(default=None, ge=0, le=10, description="ongoing share for every self-hosted and "
                              "SageMaker option (--eng-fte); per-kind values in `kinds` win")
    kinds: dict[str, Engineering] = Field(default_factory=dict, description="per option kind overrides")

    @field_validator("kinds")
    @classmethod
    def _known_kinds(cls, v: dict[str, Engineering]) -> dict[str, Engineering]:
        unknown = sorted(set(v) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown option kind(s) {unknown}; use any of {', '.join(KINDS)}")
        return v


def is_neuron(instance: str | None) -> bool:
    return bool(instance) and str(instance).removeprefix("ml.").split(".")[0] in NEURON_FAMILIES


def engineering_terms(kind: str, instance: str | None, opts: TcoOptions) -> dict[str, float]:
    """fte, one-time weeks and on-call $/week for one option (defaults, then --eng-fte, then per-kind keys)."""
    if kind not in DEFAULTS:
        raise ConfigError(f"no engineering defaults for option kind {kind!r}; use one of {', '.join(KINDS)}")
    fte, setup, port, oncall = DEFAULTS[kind]
    if opts.fte is not None and kind not in MANAGED_KINDS:
        fte = opts.fte
    o = opts.kinds.get(kind)
    if o is not None:
        fte = o.fte if o.fte is not None else fte
        setup = o.setup_weeks if o.setup_weeks is not None else setup
        port = o.neuron_port_weeks if o.neuron_port_weeks is not None else port
        oncall = o.oncall_usd_per_week if o.oncall_usd_per_week is not None else oncall
    return {"fte": fte, "one_time_weeks": setup + (port if is_neuron(instance) else 0.0),
            "oncall_usd_per_week": oncall}


def annuity_factor(rate_per_year: np.ndarray | float, months: np.ndarray | float) -> np.ndarray:
    """Monthly payment per dollar borrowed over `months` at an annual rate (1/months at a zero rate)."""
    r = np.asarray(rate_per_year, dtype=float) / 12.0
    n = np.asarray(months, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(r > 0, r / (1.0 - (1.0 + r) ** (-n)), 1.0 / n)
    return f


def engineering_monthly(fte: np.ndarray | float, usd_per_year: np.ndarray | float, one_time_weeks: np.ndarray | float,
                        oncall_usd_per_week: np.ndarray | float, horizon_months: np.ndarray | float,
                        discount_rate: np.ndarray | float) -> np.ndarray:
    """Monthly engineering cost (vectorised over any argument: the Monte Carlo draws it)."""
    one_time = np.asarray(one_time_weeks, float) * np.asarray(usd_per_year, float) / 52.0
    return (np.asarray(fte, float) * np.asarray(usd_per_year, float) / 12.0
            + np.asarray(oncall_usd_per_week, float) * WEEKS_PER_MONTH
            + one_time * annuity_factor(discount_rate, horizon_months))


def engineering(kind: str, instance: str | None, opts: TcoOptions) -> dict[str, Any]:
    """The engineering line of one option, with its terms (plain data for `--json`)."""
    t = engineering_terms(kind, instance, opts)
    monthly = float(engineering_monthly(t["fte"], opts.usd_per_year, t["one_time_weeks"], t["oncall_usd_per_week"],
                                        opts.horizon_months, opts.discount_rate))
    one_time = t["one_time_weeks"] * opts.usd_per_year / 52.0
    return {**t, "usd_per_year": opts.usd_per_year, "one_time_usd": round(one_time, 2),
            "monthly_usd": round(monthly, 2), "horizon_months": opts.horizon_months,
            "discount_rate": opts.discount_rate}


def load_tco(scenario: Path | str | dict[str, Any] | None, *, eng_fte: float | None = None,
             eng_usd_per_year: float | None = None, cli: bool = False) -> TcoOptions:
    """The scenario's `economics:` section with the overrides applied; errors name the flag (`--eng-fte`) when
    `cli`, else `economics.<key>`."""
    section = dict(scenario_section(scenario, "economics"))  # checked to be a mapping
    if eng_fte is not None:
        section["fte"] = eng_fte
    if eng_usd_per_year is not None:
        section["usd_per_year"] = eng_usd_per_year
    try:
        return TcoOptions.model_validate(section)
    except ValidationError as exc:
        flags = {k: f for k, f, v in (("fte", "--eng-fte", eng_fte), ("usd_per_year", "--eng-usd-per-year",
                                                                      eng_usd_per_year)) if v is not None and cli}
        raise invalid(exc, "economics", scenario, flags) from None
