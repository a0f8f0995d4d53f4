"""Predicted USD cost and idealized runtime of one request on every model.

Hosted: ``prompt_tokens * input price + completion_tokens * output price + per request``.
Local: ``runtime_s * accelerators * usd_per_hour / 3600 + per request``: the
accelerator-time the request occupies, priced at the accelerator's hourly rate, so a
self-hosted model is compared with hosted ones in the same dollars. A hosted model with
no known price gets cost NaN, which ``decide`` treats as a missing estimate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from policies.economics import ACCELERATORS, AcceleratorProfile, ModelEconomics
from policies.runtime import RuntimeParams
from policies.types import FloatArray, IntArray


@dataclass(frozen=True, slots=True)
class Estimates:
    """Per-model predictions for one request (arrays follow the catalog order)."""

    cost_usd: FloatArray
    #: Idealized runtime in seconds (Narayanan et al., 2023).
    runtime_s: FloatArray
    accelerators: IntArray
    #: Where each runtime came from: "analytic", "fitted" or "default".
    runtime_source: tuple[str, ...]

    @property
    def accelerator_s(self) -> FloatArray:
        """The cost-aware runtime: runtime times the number of accelerators it occupies."""
        return self.runtime_s * self.accelerators


def _hosted_cost(economics: ModelEconomics, prompt_tokens: int, completion: float) -> float:
    if economics.input_usd_per_token is None or economics.output_usd_per_token is None:
        return math.nan
    return (
        prompt_tokens * economics.input_usd_per_token
        + completion * economics.output_usd_per_token
        + economics.usd_per_request
    )


def _local_cost(
    economics: ModelEconomics, runtime_s: float, count: int, profile: AcceleratorProfile | None
) -> float:
    if profile is None:
        return math.nan
    return runtime_s * count * profile.usd_per_hour / 3600.0 + economics.usd_per_request


def estimate(
    economics: Sequence[ModelEconomics],
    runtime: Sequence[RuntimeParams],
    prompt_tokens: int,
    completion_tokens: ArrayLike,
    *,
    accelerators: Mapping[str, AcceleratorProfile] = ACCELERATORS,
) -> Estimates:
    """Cost and runtime of one request of ``prompt_tokens`` on every model.

    ``completion_tokens`` has one predicted (or worst-case ``max_tokens``) length per
    model; ``runtime`` one ``RuntimeParams`` per model, in the same order.
    """
    completion = np.asarray(completion_tokens, dtype=np.float64)
    if not len(economics) == len(runtime) == len(completion):
        raise ValueError("economics, runtime and completion_tokens must have equal lengths")
    cost = np.empty(len(economics))
    seconds = np.empty(len(economics))
    counts = np.empty(len(economics), dtype=np.int64)
    for i, (model, params) in enumerate(zip(economics, runtime, strict=True)):
        out = float(completion[i])
        seconds[i] = params.runtime(prompt_tokens, out)
        counts[i] = params.accelerators
        if model.is_local:
            profile = accelerators.get(model.accelerator or "")
            cost[i] = _local_cost(model, seconds[i], params.accelerators, profile)
        else:
            cost[i] = _hosted_cost(model, prompt_tokens, out)
    return Estimates(cost, seconds, counts, tuple(p.source for p in runtime))
