"""Cost per token of an instance at full use, for each purchase option.

Hourly prices come from the catalog (`ec2_instances`: on-demand and typical Spot; `discounts`: Savings Plans and
Reserved Instances, per instance type and region where `prices update` read the Price List's Reserved terms, else
by family or `*`). A missing Spot price is reported as missing (None), never as zero or a guess.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ..catalog import Catalog
from ..catalog.schema import Discount, Ec2Instance
from ..errors import MissingPriceError

# (label, plan, term years, payment). The default Savings Plan is the 1-year no-upfront Compute SP; the reserved
# options are Standard Reserved Instances, no upfront (the Price List's Reserved terms, `prices update`).
PURCHASE_OPTIONS: tuple[tuple[str, str | None, int | None, str | None], ...] = (
    ("on-demand", None, None, None),
    ("spot", None, None, None),
    ("savings-plan-1y", "compute-savings-plan", 1, "no-upfront"),
    ("savings-plan-3y", "compute-savings-plan", 3, "no-upfront"),
    ("reserved-1y", "reserved-instance", 1, "no-upfront"),
    ("reserved-3y", "reserved-instance", 3, "no-upfront"),
)
COMMITMENT_YEARS = {label: term for label, plan, term, _ in PURCHASE_OPTIONS if plan is not None and term}
OPTION_NAMES = tuple(o[0] for o in PURCHASE_OPTIONS)


def find_discount(cat: Catalog, inst: Ec2Instance, plan: str, term: int, payment: str) -> Discount:
    """The discount row for an instance: its type's, then its family's, then `*`, each in its region first."""
    today = datetime.now(UTC).date()
    rows = [d for d in cat.discounts if d.plan == plan and d.term_years == term and d.payment == payment
            and d.in_force(today)]
    for applies in (inst.instance, inst.family, "*"):
        for region in (inst.region, "*"):
            for d in rows:
                if d.applies_to == applies and d.region == region:
                    return d
    raise MissingPriceError(f"no {plan} {term}-year {payment} discount for {inst.instance} in the catalog; add a "
                            "`discounts:` row to your catalog file (--catalog FILE)")


def hourly_prices(cat: Catalog, inst: Ec2Instance) -> dict[str, float | None]:
    """USD per instance-hour for each purchase option; None where the catalog has no price."""
    out: dict[str, float | None] = {}
    for label, plan, term, payment in PURCHASE_OPTIONS:
        if label == "on-demand":
            out[label] = inst.on_demand_usd_per_hour
        elif label == "spot":
            out[label] = inst.spot_usd_per_hour
        else:
            assert plan and term and payment
            try:
                d = find_discount(cat, inst, plan, term, payment)
            except MissingPriceError:
                out[label] = None
                continue
            out[label] = inst.on_demand_usd_per_hour * (1.0 - d.discount_fraction)
    return out


def usd_per_mtok(usd_per_hour: float | None, tokens_per_s: float) -> float | None:
    """$ per million tokens at full use: the hourly price over the tokens an hour serves."""
    if usd_per_hour is None or tokens_per_s <= 0:
        return None
    return usd_per_hour / (tokens_per_s * 3600.0) * 1e6


def cost_table(cat: Catalog, inst: Ec2Instance, tokens_per_s: float, requests_per_s: float
               ) -> dict[str, dict[str, float | None]]:
    """Per purchase option: $/hour, $ per million output tokens, $ per million requests."""
    out: dict[str, dict[str, float | None]] = {}
    for label, price in hourly_prices(cat, inst).items():
        out[label] = {"usd_per_hour": price, "usd_per_mtok": usd_per_mtok(price, tokens_per_s),
                      "usd_per_mreq": usd_per_mtok(price, requests_per_s)}
    return out
