"""Defaults for what AWS does not publish as a price (boot times, scaling cadence, Spot interruption bands).

They live in `serving/data/serving_defaults.csv`, one row each with its unit and source; the scenario's
`compare:` section overrides any of them. Prices never live here: they come from the catalog.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ..errors import ConfigError

# The catalog CPU instance whose throughput stands in for a SageMaker Serverless endpoint's CPU (AWS does not
# say which CPU Serverless runs on). Not a price: its price is never used.
SERVERLESS_CPU_PROXY = "c7g.xlarge"

SPOT_BANDS = {"<5%": "spot_interruptions_lt5", "5-10%": "spot_interruptions_5to10",
              "10-15%": "spot_interruptions_10to15", "15-20%": "spot_interruptions_15to20",
              ">20%": "spot_interruptions_gt20"}


@dataclass(frozen=True)
class Default:
    key: str
    value: float
    unit: str
    source: str
    checked: str


@lru_cache(maxsize=1)
def table() -> dict[str, Default]:
    path = resources.files("inferplan.serving") / "data" / "serving_defaults.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = {}
    for i, r in enumerate(rows, start=2):
        try:
            out[r["key"]] = Default(r["key"], float(r["value"]), r["unit"], r["source"], r["checked"])
        except (KeyError, ValueError):
            raise ConfigError(f"{path}, line {i}: a defaults row needs key, a numeric value, unit, source, "
                              "checked") from None
    return out


def get(key: str) -> float:
    try:
        return table()[key].value
    except KeyError:
        raise ConfigError(f"no serving default {key!r}; known: {', '.join(sorted(table()))}") from None


def spot_rate(band: str) -> float:
    """Interruptions per instance-month for a Spot Instance Advisor band."""
    if band not in SPOT_BANDS:
        raise ConfigError(f"Spot interruption band must be one of {', '.join(SPOT_BANDS)}, not {band!r}")
    return get(SPOT_BANDS[band])
