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


def hosted_cost(
    prompt_tokens: ArrayLike,
    completion_tokens: ArrayLike,
    input_usd_per_token: ArrayLike,
    output_usd_per_token: ArrayLike,
    usd_per_request: ArrayLike = 0.0,
) -> FloatArray:
    """The one hosted cost formula, broadcast over any shapes (NaN price → NaN cost)."""
    return np.asarray(
        np.asarray(prompt_tokens, dtype=np.float64) * np.asarray(input_usd_per_token, np.float64)
        + np.asarray(completion_tokens, dtype=np.float64)
        * np.asarray(output_usd_per_token, np.float64)
        + np.asarray(usd_per_request, dtype=np.float64),
        dtype=np.float64,
    )


def _unit_prices(economics: Sequence[ModelEconomics]) -> FloatArray:
    """(m, 3) input, output and per-request USD; NaN rows where a price is unknown."""
    rows = [
        (m.input_usd_per_token, m.output_usd_per_token, m.usd_per_request)
        if m.input_usd_per_token is not None and m.output_usd_per_token is not None
        else (math.nan, math.nan, math.nan)
        for m in economics
    ]
    return np.array(rows, dtype=np.float64).reshape(len(rows), 3)


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
    prices = _unit_prices(economics)
    cost = hosted_cost(prompt_tokens, completion, prices[:, 0], prices[:, 1], prices[:, 2])
    seconds = np.empty(len(economics))
    counts = np.empty(len(economics), dtype=np.int64)
    for i, (model, params) in enumerate(zip(economics, runtime, strict=True)):
        out = float(completion[i])
        seconds[i] = params.runtime(prompt_tokens, out)
        counts[i] = params.accelerators
        if model.is_local:
            profile = accelerators.get(model.accelerator or "")
            cost[i] = _local_cost(model, seconds[i], params.accelerators, profile)
    return Estimates(cost, seconds, counts, tuple(p.source for p in runtime))
