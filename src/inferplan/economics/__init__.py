"""Economics: total cost of ownership, break-even on the traffic's shape, and its uncertainty.

- `tco`: engineering time per serving option (ongoing share, loaded cost, set-up and Neuron porting, on-call).
- `breakeven`: scale the traffic, cost every option over it, solve where each equals Bedrock after the levers.
- `montecarlo`: seeded, vectorised draws over volume, growth, engineering, the throughput model's measured
  error, Spot interruptions and discount rates.
Method and defaults: docs/economics.md.
"""

from __future__ import annotations

from .breakeven import Breakeven, OptionCost, solve
from .montecarlo import UncertaintyOptions, simulate, throughput_errors
from .tco import Engineering, TcoOptions, engineering, engineering_monthly, engineering_terms, load_tco

__all__ = ["Breakeven", "OptionCost", "solve", "UncertaintyOptions", "simulate", "throughput_errors",
           "Engineering", "TcoOptions", "engineering", "engineering_monthly", "engineering_terms", "load_tco"]
