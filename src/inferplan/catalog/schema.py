"""Row models of the catalog's data files, validated on load.

Every row carries `source` (where the figure came from) and `checked` (the date it was checked), and field
names carry their units. Optional price fields are `None` when the source does not publish them: pricing a
request that needs a missing price is an error, never a zero.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..regions import REGIONS, unknown_message

TIERS = ("standard", "batch", "flex", "priority", "provisioned")
TOKEN_KINDS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")
# Scope of a Bedrock price: `in-region` (plain model id), `global` (global. profile) or a geography
# (`us`, `eu`, `apac`, `jp`, `au`, `ca`, `us-gov`) for a cross-region inference profile.
SCOPES = ("in-region", "global", "us", "eu", "apac", "jp", "au", "ca", "us-gov")
# What a model is billed by. Only `token` models have `bedrock_prices` rows; the others (images generated,
# seconds of video, speech tokens) are recognised so that their requests are reported, never priced as $0.
BILLING_UNITS = ("token", "image", "second", "speech")


class Row(BaseModel):
    """Common base: strict keys, provenance on every row."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(min_length=1)
    checked: date

    @model_validator(mode="after")
    def _real_region(self) -> Row:
        """A row's `region` is `*`, a shell pattern (discounts) or an AWS region: a typo (`us-east1`) would
        otherwise be a row no request ever matches, and its traffic would price at the `*` row."""
        region = getattr(self, "region", None)
        if isinstance(region, str) and not any(ch in region for ch in "*?[") and region not in REGIONS:
            raise ValueError(unknown_message(region))
        return self


NonNeg = Field(default=None, ge=0)


class Dated(BaseModel):
    """A price in force for a window of UTC days: from `effective_from` (inclusive; None: since ever) to
    `effective_to` (exclusive; None: still in force). A request is priced at the row in force at its `ts`."""

    effective_from: date | None = Field(default=None, description="first UTC day the price is in force")
    effective_to: date | None = Field(default=None, description="first UTC day it no longer is (exclusive)")

    @model_validator(mode="after")
    def _window(self):  # type: ignore[no-untyped-def]
        if self.effective_from is not None and self.effective_to is not None \
                and self.effective_to <= self.effective_from:
            raise ValueError(f"effective_to {self.effective_to} must be after effective_from {self.effective_from}")
        return self

    def in_force(self, day: date | None) -> bool:
        """Whether the row is in force on `day` (None: before any dated row begins)."""
        if day is None:
            return self.effective_from is None
        return (self.effective_from is None or self.effective_from <= day) and \
            (self.effective_to is None or day < self.effective_to)

    def window(self) -> str:
        """The window as people read it: `2026-01-01 .. 2026-04-30`, `from 2026-05-01`, `always`."""
        if self.effective_from is None and self.effective_to is None:
            return "always"
        if self.effective_to is None:
            return f"from {self.effective_from}"
        end = date.fromordinal(self.effective_to.toordinal() - 1)
        return f"until {end}" if self.effective_from is None else f"{self.effective_from} .. {end}"


class BedrockModel(Row):
    """A Bedrock model: identity, aliases, caching rules, self-hostable twin."""

    model: str = Field(min_length=1, description="catalog key: the base Bedrock model id, e.g. "
                       "anthropic.claude-sonnet-4-5-20250929-v1:0")
    provider: str
    name: str
    aliases: list[str] = Field(default_factory=list, description="short names that resolve to this model")
    billing_names: list[str] = Field(default_factory=list,
                                     description="model segment in CUR usage types, e.g. Claude4Sonnet")
    cache_min_tokens: int | None = Field(default=None, ge=0,
                                         description="minimum tokens per cache checkpoint; None: no caching")
    cache_max_checkpoints: int = Field(default=4, ge=0)
    cache_ttls_s: list[int] = Field(default_factory=list, description="offered cache TTLs in seconds")
    context_window_tokens: int | None = Field(default=None, ge=0)
    open_weights: str | None = Field(default=None, description="model_specs key of the same weights")
    billing_unit: Literal["token", "image", "second", "speech"] = Field(
        default="token", description="what Bedrock bills: text tokens (priced in bedrock_prices), images "
        "generated, seconds of video, or speech tokens (not token-priced here)")


class BedrockPrice(Row, Dated):
    """Per-million-token prices of one model in one scope, region and tier, in force for a window of days.

    `region` is `*` when the price holds in every region the scope covers; a row for a named region
    overrides it (at every date it is in force). Long-context (`lc_`) prices apply to the whole request when
    its total input tokens exceed `lc_threshold_tokens`. `effective_from` / `effective_to` (see `Dated`): several
    rows of one key cover different windows, which may not overlap.
    """

    model: str
    scope: Literal["in-region", "global", "us", "eu", "apac", "jp", "au", "ca", "us-gov"]
    region: str = "*"
    tier: Literal["standard", "batch", "flex", "priority"]
    input_usd_per_mtok: float | None = NonNeg
    output_usd_per_mtok: float | None = NonNeg
    cache_read_usd_per_mtok: float | None = NonNeg
    cache_write_5m_usd_per_mtok: float | None = NonNeg
    cache_write_1h_usd_per_mtok: float | None = NonNeg
    lc_threshold_tokens: int | None = Field(default=None, ge=0)
    lc_input_usd_per_mtok: float | None = NonNeg
    lc_output_usd_per_mtok: float | None = NonNeg
    lc_cache_read_usd_per_mtok: float | None = NonNeg
    lc_cache_write_5m_usd_per_mtok: float | None = NonNeg
    lc_cache_write_1h_usd_per_mtok: float | None = NonNeg


PRICE_KINDS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")


class BedrockDiscount(Row):
    """A private-pricing discount on Bedrock token prices, written the way agreements are: percent off by
    provider, model, scope, region, tier and token kind.

    Not a `Discount` (those are Savings Plans / Reserved Instances on EC2 and SageMaker hours). `provider`,
    `model` (catalog key or alias), `scope`, `region` and `tier` take `*` or a shell pattern
    (`anthropic.claude-*`). It applies to every matching price field of the listed kinds, long-context (`lc_`)
    fields included; several matching discounts compound.
    """

    provider: str = "*"
    model: str = "*"
    scope: str = "*"
    region: str = "*"
    tier: str = "*"
    kinds: list[Literal["input", "output", "cache_read", "cache_write_5m", "cache_write_1h"]] = Field(
        default_factory=lambda: list(PRICE_KINDS), min_length=1)
    percent_off: float = Field(gt=0, le=100)


class ProvisionedPrice(Row):
    """Bedrock Provisioned Throughput: $ per model unit per hour for a commitment term."""

    model: str
    region: str = "*"
    term: Literal["none", "1-month", "6-month"]
    usd_per_model_unit_hour: float = Field(ge=0)


class Accelerator(Row):
    """One accelerator chip (or CPU socket for Graviton): memory, bandwidth, peak dense throughput."""

    accelerator: str = Field(description="short key: h100, a10g, inferentia2, graviton3 ...")
    name: str
    vendor: str
    kind: Literal["gpu", "neuron", "cpu"]
    memory_gib: float = Field(gt=0)
    memory_bandwidth_gbps: float = Field(gt=0, description="GB/s (1e9 bytes per second)")
    bf16_tflops: float | None = NonNeg
    fp16_tflops: float | None = NonNeg
    fp8_tflops: float | None = NonNeg
    int8_tops: float | None = NonNeg
    interconnect_gbps: float | None = Field(default=None, ge=0,
                                            description="per-chip bandwidth between chips of one instance")


class Ec2Instance(Row, Dated):
    """An EC2 instance type with its accelerators and prices in one region (in force for a window of days:
    instances are priced at the row in force today; older rows keep what a past period cost)."""

    instance: str
    family: str
    region: str = "us-east-1"
    accelerator: str | None = Field(default=None, description="accelerators key; None for plain CPU")
    accelerator_count: int = Field(default=0, ge=0)
    accelerator_memory_gib: float = Field(default=0, ge=0, description="total over all accelerators")
    vcpu: int = Field(gt=0)
    memory_gib: float = Field(gt=0)
    on_demand_usd_per_hour: float = Field(gt=0)
    spot_usd_per_hour: float | None = Field(default=None, gt=0, description="typical Spot price")


class SagemakerInstance(Row, Dated):
    """A SageMaker hosting instance (ml.*) for real-time or asynchronous inference, in one region, in force for
    a window of days (see `Ec2Instance`)."""

    instance: str
    region: str = "us-east-1"
    ec2_instance: str | None = Field(default=None, description="the EC2 type with the same hardware")
    usd_per_hour: float = Field(gt=0)


class SagemakerServerless(Row, Dated):
    """SageMaker Serverless Inference compute price for one memory size in one region (`prices update` reads
    the Price List's `<REGION>-ServerlessInf:Mem-<N>GB` products)."""

    region: str = "us-east-1"
    memory_gb: int = Field(gt=0)
    usd_per_gb_second: float = Field(gt=0)


class Discount(Row, Dated):
    """A commitment discount off on-demand: Savings Plans and Reserved Instances, in force for a window of days
    (the row in force today prices a commitment; a fraction read from the Price List is against the on-demand
    price of the same file, so both change on the same day).

    `applies_to` is an instance type (`g5.xlarge`: what `prices update` writes from the Price List's Reserved
    terms), an instance family (`g5`) or `*`; `region` a region or `*`. The most specific row wins: type, then
    family, then `*`, each in the region before `*` (`perf.cost.find_discount`)."""

    plan: Literal["compute-savings-plan", "ec2-instance-savings-plan", "reserved-instance",
                  "sagemaker-savings-plan"]
    term_years: int = Field(ge=1, le=3, description="1 or 3")
    payment: Literal["no-upfront", "partial-upfront", "all-upfront"]
    discount_fraction: float = Field(ge=0, lt=1)
    applies_to: str = Field(default="*", description="instance type, instance family or * for all")
    region: str = Field(default="*", description="region the rate holds in, or * for every region")


class ModelSpec(Row):
    """Architecture of an open-weights model: what the throughput model needs."""

    spec: str = Field(description="short key: llama-3.1-8b")
    name: str
    hf_id: str | None = None
    params_b_total: float = Field(gt=0, description="billions of parameters")
    params_b_active: float = Field(gt=0, description="billions active per token (MoE)")
    layers: int = Field(gt=0)
    hidden_size: int = Field(gt=0)
    attention_heads: int = Field(gt=0)
    kv_heads: int = Field(gt=0)
    head_dim: int = Field(gt=0)
    intermediate_size: int = Field(gt=0)
    vocab_size: int = Field(gt=0)
    experts: int = Field(default=1, ge=1)
    experts_active: int = Field(default=1, ge=1)
    max_context_tokens: int | None = Field(default=None, gt=0)
    bedrock_model: str | None = Field(default=None, description="Bedrock model key serving these weights")
    neuron_supported: bool = False

    @field_validator("params_b_active")
    @classmethod
    def _active_le_total(cls, v: float, info) -> float:  # type: ignore[no-untyped-def]
        total = info.data.get("params_b_total")
        if total is not None and v > total + 1e-9:
            raise ValueError("params_b_active exceeds params_b_total")
        return v


class ProfileArn(Row):
    """An application inference profile ARN mapped to the model (and scope) it invokes."""

    arn: str
    model: str
    scope: Literal["in-region", "global", "us", "eu", "apac", "jp", "au", "ca", "us-gov"] = "in-region"


TABLES: dict[str, tuple[type[Row], tuple[str, ...]]] = {
    # table name -> (row model, key fields; a user row with the same key replaces the packaged one)
    "bedrock_models": (BedrockModel, ("model",)),
    "bedrock_prices": (BedrockPrice, ("model", "scope", "region", "tier", "effective_from")),
    "provisioned_prices": (ProvisionedPrice, ("model", "region", "term")),
    "accelerators": (Accelerator, ("accelerator",)),
    "ec2_instances": (Ec2Instance, ("instance", "region", "effective_from")),
    "sagemaker_instances": (SagemakerInstance, ("instance", "region", "effective_from")),
    "sagemaker_serverless": (SagemakerServerless, ("region", "memory_gb", "effective_from")),
    "discounts": (Discount, ("plan", "term_years", "payment", "applies_to", "region", "effective_from")),
    "model_specs": (ModelSpec, ("spec",)),
    "profile_arns": (ProfileArn, ("arn",)),
}
# tables only a user file has: applied after every file is merged, never packaged
USER_TABLES: dict[str, type[Row]] = {"bedrock_discounts": BedrockDiscount}
