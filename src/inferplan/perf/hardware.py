"""What one replica runs on: a number of identical devices (GPUs, Neuron chips or a CPU share) of an instance.

A replica spans `tp` devices with tensor parallelism; an instance with `count` devices holds `count // tp`
replicas. Graviton instances are a share of one CPU socket: the catalog lists the socket, and an instance gets
its vCPU share of the socket's bandwidth and compute.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..catalog import Catalog
from ..catalog.schema import Accelerator, Ec2Instance
from ..errors import ConfigError

GIB = 2**30
# The catalog's Graviton socket memory is the one-socket M instance, which has 4 GiB per vCPU.
_CPU_GIB_PER_VCPU_OF_SOCKET = 4.0
# NeuronCores per chip (catalog accelerators.csv sources: "per chip: 2 NeuronCore-v2"). Neuron shards a model over
# cores, not chips, so KV heads are replicated and attention heads padded per core.
NEURON_CORES_PER_CHIP = {"inferentia2": 2, "trainium1": 2}
# Links listed at up to this many bytes/s are PCIe (the catalog's PCIe GPUs list 32-64 GB/s; NVLink 600-900 GB/s):
# their collectives have their own fitted latency and efficiency.
PCIE_MAX_BPS = 100e9


@dataclass(frozen=True)
class Device:
    """One device as the time model sees it (after any CPU share)."""

    key: str
    kind: str
    memory_bytes: float
    bandwidth_Bps: float
    bf16_flops: float | None
    fp8_flops: float | None
    int8_ops: float | None
    link_Bps: float | None
    cores: int = 1  # shards per device (NeuronCores per chip; 1 for GPUs and CPUs)

    @classmethod
    def from_accelerator(cls, acc: Accelerator, share: float = 1.0, memory_gib: float | None = None) -> Device:
        bf16 = acc.bf16_tflops or acc.fp16_tflops
        return cls(
            key=acc.accelerator, kind=acc.kind,
            memory_bytes=(memory_gib if memory_gib is not None else acc.memory_gib) * GIB,
            bandwidth_Bps=acc.memory_bandwidth_gbps * 1e9 * share,
            bf16_flops=None if bf16 is None else bf16 * 1e12 * share,
            fp8_flops=None if acc.fp8_tflops is None else acc.fp8_tflops * 1e12 * share,
            int8_ops=None if acc.int8_tops is None else acc.int8_tops * 1e12 * share,
            link_Bps=None if acc.interconnect_gbps is None else acc.interconnect_gbps * 1e9,
            cores=NEURON_CORES_PER_CHIP.get(acc.accelerator, 1) if acc.kind == "neuron" else 1,
        )

    @property
    def pcie(self) -> bool:
        return self.link_Bps is not None and self.link_Bps <= PCIE_MAX_BPS

    def peak_flops(self, precision: str) -> float | None:
        """Dense peak for the GEMMs at a precision: fp8 runs W8A8 on fp8 units; int8/int4 are weight-only
        (dequantised to 16-bit before the multiply), so they run at the 16-bit peak."""
        if precision == "fp8":
            return self.fp8_flops
        return self.bf16_flops


@dataclass(frozen=True)
class Deployment:
    """A replica: `tp` devices of one kind, on an instance type (or bare accelerators) with a price."""

    device: Device
    tp: int
    devices_on_instance: int
    instance: Ec2Instance | None = None

    @property
    def replicas_per_instance(self) -> int:
        return max(1, self.devices_on_instance // self.tp)

    @property
    def label(self) -> str:
        where = self.instance.instance if self.instance else f"{self.devices_on_instance}x{self.device.key}"
        return f"{where} tp{self.tp}"


def cpu_share(inst: Ec2Instance, acc: Accelerator) -> float:
    """The vCPU share of a Graviton socket an instance gets (bandwidth and compute scale with it)."""
    socket_vcpu = acc.memory_gib / _CPU_GIB_PER_VCPU_OF_SOCKET
    return min(1.0, inst.vcpu / socket_vcpu)


def instance_device(cat: Catalog, inst: Ec2Instance) -> Device:
    if not inst.accelerator or inst.accelerator_count < 1:
        raise ConfigError(f"instance {inst.instance!r} has no accelerator in the catalog")
    acc = cat.accelerator(inst.accelerator)
    if acc.kind == "cpu":
        return Device.from_accelerator(acc, share=cpu_share(inst, acc), memory_gib=inst.accelerator_memory_gib)
    per_device_gib = inst.accelerator_memory_gib / inst.accelerator_count if inst.accelerator_memory_gib else None
    return Device.from_accelerator(acc, memory_gib=per_device_gib)


def tp_options(count: int) -> list[int]:
    """Tensor-parallel degrees a replica may use on `count` devices: powers of two up to count, and count."""
    out = [t for t in (1, 2, 4, 8, 16, 32) if t <= count]
    if count not in out:
        out.append(count)
    return out


def deployment_for_instance(cat: Catalog, instance: str | Ec2Instance, tp: int | None = None) -> Deployment:
    inst = cat.ec2(instance) if isinstance(instance, str) else instance
    dev = instance_device(cat, inst)
    count = inst.accelerator_count
    t = count if tp is None else tp
    if t < 1 or t > count:
        raise ConfigError(f"tensor parallelism {t} is not possible on {inst.instance} ({count} devices)")
    return Deployment(dev, t, count, inst)


def deployment_for_accelerator(cat: Catalog, accelerator: str, count: int = 1) -> Deployment:
    if count < 1:
        raise ConfigError("--count must be at least 1")
    dev = Device.from_accelerator(cat.accelerator(accelerator))
    return Deployment(dev, count, count, None)
