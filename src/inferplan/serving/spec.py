"""What `compare` is asked: the options of `inferplan compare` and the scenario's `compare:` section."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..scenario import invalid
from ..scenario import section as scenario_section

Purchase = Literal["on-demand", "spot", "savings-plan-1y", "savings-plan-3y", "reserved-1y", "reserved-3y"]
SpotBand = Literal["<5%", "5-10%", "10-15%", "15-20%", ">20%"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProvisionedSpec(_Strict):
    """Bedrock Provisioned Throughput for one model: what one model unit (MU) delivers, and its prices where the
    catalog has none. AWS publishes neither for most models; the output says which figures came from here."""

    input_tokens_per_minute_per_mu: float | None = Field(default=None, gt=0)
    output_tokens_per_minute_per_mu: float | None = Field(default=None, gt=0)
    usd_per_mu_hour: dict[Literal["none", "1-month", "6-month"], float] = Field(default_factory=dict)


class ReservedSpec(_Strict):
    """Bedrock Reserved tier: reserved input/output tokens per minute at a price per hour; overflow at standard."""

    input_tokens_per_minute: float = Field(ge=0)
    output_tokens_per_minute: float = Field(ge=0)
    usd_per_hour: float = Field(ge=0, description="the quoted price of the reservation, per hour")
    source: str = Field(min_length=1, description="where the price came from (a quote, a contract)")


class CompareSpec(_Strict):
    """Everything `compare` needs besides the traffic and the catalog. Defaults in `serving/defaults.csv`."""

    self_host: list[str] = Field(default_factory=list, description="open-weights model specs to self-host "
                                 "(default: the catalog's twins of the Bedrock models in the traffic)")
    instance: list[str] = Field(default_factory=list, description="EC2 instance types (default: from rightsize)")
    precision: str = "bf16"
    purchase: Purchase = "on-demand"
    replica_rps: float | None = Field(default=None, gt=0, description="requests/s one replica sustains "
                                      "(a load test of your engine); overrides the throughput model")
    prefill_tokens_per_s: float | None = Field(default=None, gt=0, description="one replica's prefill rate")
    decode_tokens_per_s: float | None = Field(default=None, gt=0, description="one replica's decode rate")
    slo_ttft_ms: float = Field(default=2000.0, gt=0)
    slo_tpot_ms: float = Field(default=50.0, gt=0)
    scale: float = Field(default=1.0, ge=0)
    growth_pct_per_month: float = Field(default=0.0, gt=-100, description="volume growth a month, percent "
                                        "(-100 or below would leave no traffic, or less than none)")
    shift_deferrable: bool = False
    window_s: int = Field(default=60, gt=0)
    latency_window_s: int | None = Field(default=10, gt=0, description="finer windows for queue waits (from a "
                                         "workload; must divide window_s)")
    candidates: int = Field(default=3, ge=1, description="cheapest (model, instance, precision) kept per model")
    min_replicas: int = Field(default=1, ge=0)
    max_replicas: int | None = Field(default=None, ge=1)
    target_utilization: float | None = Field(default=None, gt=0, le=1)
    boot_s: float | None = Field(default=None, ge=0, description="EC2 launch + model load")
    sagemaker_scale_out_s: float | None = Field(default=None, ge=0)
    inference_component_wake_s: float | None = Field(default=None, ge=0)
    scale_in_cooldown_s: float | None = Field(default=None, ge=0)
    scale_in_lookback_s: float | None = Field(default=None, ge=0)
    baseline_replicas: int | None = Field(default=None, ge=0, description="committed replicas paid every hour "
                                          "(default with a Savings Plan: the fleet's minimum)")
    spot_share: float | None = Field(default=None, ge=0, le=1, description="share of replicas above the "
                                     "baseline on Spot (default: 1 with --purchase spot, else 0)")
    spot_interruption: SpotBand = "<5%"
    spot_replacement_s: float | None = Field(default=None, ge=0, description="default: boot_s")
    prefix_cache_tokens: int | None = Field(default=None, gt=0)
    provisioned: dict[str, ProvisionedSpec] = Field(default_factory=dict)
    reserved: ReservedSpec | None = None
    bedrock_tiers: list[Literal["batch", "flex", "priority"]] = Field(default_factory=lambda: ["batch", "flex",
                                                                                              "priority"])


def load_scenario(path: Path | None) -> dict:
    """The `compare:` section of a scenario file (empty without one)."""
    return scenario_section(path, "compare")


# the command-line flag of each field `compare`, `breakeven` and `plan` take one for (where it is not the
# field's own name, dashed)
FLAGS = {"growth_pct_per_month": "--growth", "window_s": "--window"}


def make_spec(scenario: dict, where: Path | str | None = None, *, cli: bool = False, **flags: object) -> CompareSpec:
    """A CompareSpec from a scenario section, with options (those not None) on top: command-line flags when
    `cli`, whose errors name the flag; else (the Python API) errors name `compare.<key>`, as the scenario file's
    (`where`) do."""
    given = {k: v for k, v in flags.items() if v is not None and v != []}
    values = {**scenario, **given}
    try:
        return CompareSpec.model_validate(values)
    except ValidationError as exc:
        names = {k: FLAGS.get(k, "--" + k.replace("_", "-")) for k in given} if cli else None
        raise invalid(exc, "compare", where, names) from None
