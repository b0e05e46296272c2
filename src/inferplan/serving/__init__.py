"""Serving options costed over a demand series: Bedrock (on-demand, batch, flex/priority, Provisioned
Throughput, Reserved), SageMaker (real-time, Serverless, Asynchronous), EC2 self-hosting and hybrids.

One small module per family (`bedrock`, `selfhost` for instance fleets, `sagemaker` for Serverless and
Asynchronous, `hybrid` for the base sizing), the candidates and their capacity in `capacity`, and the whole
comparison in `compare`. The models, their sources and what they leave out: docs/serving.md.
"""

from __future__ import annotations

from .compare import compare, compare_demand
from .result import KINDS, CompareResult, HybridResult, OptionResult
from .spec import CompareSpec

__all__ = ["compare", "compare_demand", "CompareSpec", "CompareResult", "OptionResult", "HybridResult", "KINDS"]
