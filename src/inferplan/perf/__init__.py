"""Throughput model: what one replica of a model serves on an accelerator, and at what cost per token.

Memory (`memory`), time per decode step and prefill (`timing`, efficiency factors fitted by `fit` to GPU
measurements), sustainable throughput under a latency target with continuous batching or one request at a time
(`serving`), cost per token by purchase option (`cost`) and right-sizing (`rightsize`). The method, its
validation and its weak spots are in docs/perf.md.

Typical use:

    from inferplan.perf import RequestMix, Slo, replica_throughput, usd_per_mtok
    perf = replica_throughput("llama-3.1-8b", "g6e.xlarge", "bf16", RequestMix(input_tokens=1000, output_tokens=200),
                              Slo(tpot_ms=50))
    usd_per_mtok(perf, "g6e.xlarge")["on-demand"]["usd_per_mtok"]
"""

from __future__ import annotations

from .api import best_on_instance, perf_on, replica_throughput, usd_per_mtok
from .arch import PRECISIONS, Arch
from .coefficients import Coefficients, default_coefficients
from .cost import OPTION_NAMES, cost_table, hourly_prices
from .expected import expected_error
from .hardware import Deployment, Device, deployment_for_accelerator, deployment_for_instance
from .memory import MemoryOptions, MemoryPlan, plan_memory
from .rightsize import Rightsizing, rightsize
from .serving import ReplicaPerf, RequestMix, ServingOptions, Slo, static_batch_throughput
from .timing import decode_step_seconds, prefill_seconds

__all__ = [
    "Arch", "PRECISIONS", "Coefficients", "default_coefficients", "Deployment", "Device",
    "deployment_for_accelerator", "deployment_for_instance", "MemoryOptions", "MemoryPlan", "plan_memory",
    "ReplicaPerf", "RequestMix", "ServingOptions", "Slo", "static_batch_throughput", "decode_step_seconds",
    "prefill_seconds", "replica_throughput", "usd_per_mtok", "best_on_instance", "perf_on", "cost_table",
    "hourly_prices", "OPTION_NAMES", "rightsize", "Rightsizing", "expected_error",
]
