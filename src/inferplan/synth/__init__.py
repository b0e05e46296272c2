"""Synthetic traffic from a scenario's `traffic:` section: for teams with no logs yet, and for benchmarks.

The spec (`spec.py`, validated) names call types; each has a mean rate, a daily and a weekly profile,
burstiness, token-length distributions, shared prefixes with their reuse, whether a caller waits, and a
model. `generate()` (`generation.py`) draws a canonical raw table (the shape readers produce: `model_id` as
the id is logged) with numpy only, and `arrow.py` assembles it: strings exist per call type (dictionary
columns) and per distinct prefix segment, never per request in Python. Same spec and seed give the same
table. See docs/readers.md for the YAML; bench/synth.py times 10 million rows.
"""

from __future__ import annotations

from .arrow import RAW_SCHEMA, to_workload
from .generation import generate
from .spec import DAILY_SHAPES, WEEKLY_SHAPES, CallTypeSpec, Dist, PrefixStage, TrafficSpec, load_traffic

__all__ = ["TrafficSpec", "CallTypeSpec", "Dist", "PrefixStage", "load_traffic", "generate", "to_workload",
           "DAILY_SHAPES", "WEEKLY_SHAPES", "RAW_SCHEMA"]
