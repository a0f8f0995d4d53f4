"""Static economics of each model and the accelerator profiles for self-hosted cost.

Hosted models carry per-token prices (litellm's price map unless the catalog
overrides them). Self-hosted models carry a parameter count and an accelerator; their
cost is idealized runtime * number of accelerators * the accelerator's $/hour, so local
and hosted models are compared in the same dollars (``policies.cost``).

Accelerator figures are dense (no structured sparsity) BF16 tensor throughput and peak
memory bandwidth from the vendors' datasheets. Prices are typical 2024 on-demand list
prices for one accelerator; they vary by provider and over time, so a catalog should
override ``usd_per_hour`` with what it actually pays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

#: Weights and KV cache are assumed stored in 16-bit floats (BF16/FP16): 2 bytes each.
BYTES_PER_PARAM = 2.0
#: Parameter count assumed for a hosted model whose size nobody published (billions);
#: runtimes built from it are marked ``source="default"``.
DEFAULT_PARAMS_B = 70.0
#: The common hardware of the idealized runtime of hosted models (Narayanan et al., 2023:
#: every model as if on the same hardware, without contention).
REFERENCE_ACCELERATOR = "h100-80gb"


@dataclass(frozen=True, slots=True)
class AcceleratorProfile:
    """One accelerator's roofline figures and its price.

    ``utilisation`` is the fraction of peak FLOP/s prefill achieves and
    ``bandwidth_utilisation`` the fraction of peak bandwidth decoding achieves; both are
    deliberately round figures (0.5 and 0.8 are typical of vLLM-class servers).
    """

    name: str
    peak_flops: float
    memory_bandwidth_bytes_per_s: float
    memory_bytes: float
    usd_per_hour: float
    utilisation: float = 0.5
    bandwidth_utilisation: float = 0.8


@dataclass(frozen=True, slots=True)
class ModelEconomics:
    """What the cost model knows about one catalog model (built once at start)."""

    name: str
    input_usd_per_token: float | None
    output_usd_per_token: float | None
    usd_per_request: float = 0.0
    is_local: bool = False
    params_b: float | None = None
    #: Key of ``ACCELERATORS`` (required for local models).
    accelerator: str | None = None
    #: Tokens (prompt + completion); 0 means unknown.
    context_window: int = 0


_GB = 1e9
ACCELERATORS: Mapping[str, AcceleratorProfile] = MappingProxyType(
    {
        # NVIDIA A100 datasheet (SXM4 80GB): 312 TFLOP/s BF16 dense, 2,039 GB/s HBM2e.
        # Price: Lambda on-demand A100 SXM 80GB, $1.79/GPU-hour (2024 list price).
        "a100-80gb": AcceleratorProfile("a100-80gb", 312e12, 2039 * _GB, 80 * _GB, 1.79),
        # NVIDIA H100 datasheet (SXM5): 989 TFLOP/s BF16 dense, 3.35 TB/s HBM3, 80 GB.
        # Price: Lambda on-demand H100 SXM (8-GPU node), $2.99/GPU-hour (2024 list price).
        "h100-80gb": AcceleratorProfile("h100-80gb", 989e12, 3350 * _GB, 80 * _GB, 2.99),
        # NVIDIA H200 datasheet (SXM): 989 TFLOP/s BF16 dense, 4.8 TB/s HBM3e, 141 GB.
        # Price: typical GPU-cloud on-demand H200 in 2024, about $3.80/GPU-hour.
        "h200": AcceleratorProfile("h200", 989e12, 4800 * _GB, 141 * _GB, 3.80),
        # NVIDIA L4 datasheet: 121 TFLOP/s BF16 dense (242 with sparsity), 300 GB/s, 24 GB.
        # Price: Google Cloud g2-standard-4 (1xL4) on-demand, about $0.71/hour (us-central1).
        "l4": AcceleratorProfile("l4", 121e12, 300 * _GB, 24 * _GB, 0.71),
        # A 32-vCPU x86 server (16 cores * 2 AVX-512 FMA units * 16 FP32 lanes * 2 FLOP x
        # 3 GHz ≈ 3.1 TFLOP/s), 8-channel DDR5-4800 (307 GB/s), 128 GB. Price: AWS
        # c7i.8xlarge on-demand, $1.428/hour (us-east-1). Real CPU inference reaches a
        # smaller share of peak than GPUs, hence the lower utilisation.
        "cpu": AcceleratorProfile(
            "cpu", 3.1e12, 307 * _GB, 128 * _GB, 1.428, utilisation=0.3, bandwidth_utilisation=0.6
        ),
    }
)
