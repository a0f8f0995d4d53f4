"""Predicted USD cost and idealized runtime of one request on every model.

Hosted: ``prompt_tokens * input price + completion_tokens * output price + per request``.
Local: ``runtime_s * accelerators * usd_per_hour / 3600 + per request``: the
accelerator-time the request occupies, priced at the accelerator's hourly rate, so a
self-hosted model is compared with hosted ones in the same dollars. A model with no known
price (a hosted model without a price, a local model without an accelerator) gets cost
NaN, which ``decide`` treats as a missing estimate, unless *no* model of the table has a
price: then the pool is quality-only (``quality_only_cost``).
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


def hosted_cost_one(
    economics: ModelEconomics, prompt_tokens: float, completion_tokens: float
) -> float:
    """``hosted_cost`` of one request on one hosted model, in Python floats: the same IEEE
    operations in the same order, so the same bits, without numpy's per-call overhead (it
    runs on the event loop for every served request). NaN without a price."""
    if economics.input_usd_per_token is None or economics.output_usd_per_token is None:
        return math.nan
    return (
        float(prompt_tokens) * economics.input_usd_per_token
        + float(completion_tokens) * economics.output_usd_per_token
        + economics.usd_per_request
    )


def is_quality_only(cost_usd: ArrayLike) -> bool:
    """True when no model has a finite cost: a pool without prices."""
    return not np.count_nonzero(np.isfinite(np.asarray(cost_usd, dtype=np.float64)))


def quality_only_cost(cost_usd: ArrayLike) -> FloatArray:
    """Costs as the choice rule sees them: every row (one prompt, one per model) in which
    *no* model has a finite cost is a quality-only pool, and its costs count as 0, so
    ``cost_weight`` and ``max_cost_usd`` have no effect there and the choice is the best
    predicted quality. A row where some models have a price keeps NaN for the others
    (a missing estimate: those models are never chosen)."""
    cost = np.asarray(cost_usd, dtype=np.float64)
    priced = np.isfinite(cost).any(axis=-1, keepdims=True)
    return np.asarray(np.where(priced, cost, 0.0), dtype=np.float64)


def unit_prices(economics: Sequence[ModelEconomics]) -> FloatArray:
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
    prices: FloatArray | None = None,
) -> Estimates:
    """Cost and runtime of one request of ``prompt_tokens`` on every model.

    ``completion_tokens`` has one predicted (or worst-case ``max_tokens``) length per
    model; ``runtime`` one ``RuntimeParams`` per model, in the same order; ``prices``, if
    given, is ``unit_prices(economics)`` (fixed per catalog, so callers may keep it).
    """
    completion = np.asarray(completion_tokens, dtype=np.float64)
    if not len(economics) == len(runtime) == len(completion):
        raise ValueError("economics, runtime and completion_tokens must have equal lengths")
    prices = unit_prices(economics) if prices is None else prices
    cost = hosted_cost(prompt_tokens, completion, prices[:, 0], prices[:, 1], prices[:, 2])
    seconds = [
        params.runtime(prompt_tokens, out)
        for params, out in zip(runtime, completion.tolist(), strict=True)
    ]
    for i, model in enumerate(economics):
        if model.is_local:
            profile = accelerators.get(model.accelerator or "")
            cost[i] = _local_cost(model, seconds[i], runtime[i].accelerators, profile)
    return Estimates(
        cost,
        np.array(seconds, dtype=np.float64),
        np.array([params.accelerators for params in runtime], dtype=np.int64),
        tuple(p.source for p in runtime),
    )


def served_cost(
    economics: ModelEconomics,
    runtime: RuntimeParams | None,
    prompt_tokens: int,
    completion_tokens: float,
) -> float:
    """The cost of one served request (actual token counts): a hosted model's price, or
    a local model's GPU time at ``runtime`` (NaN without it, or without a price)."""
    if not economics.is_local:
        return hosted_cost_one(economics, prompt_tokens, completion_tokens)
    if runtime is None:
        return math.nan
    tokens = np.array([completion_tokens], dtype=np.float64)
    return float(estimate([economics], [runtime], prompt_tokens, tokens).cost_usd[0])
