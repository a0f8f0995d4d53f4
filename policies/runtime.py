"""Idealized runtime (Narayanan et al., 2023, "Cheaply Evaluating Inference Efficiency
Metrics for Autoregressive Transformer APIs").

Runtime as if every model ran alone on the same hardware: ``T(p, o) = F(p) + g·(o - 1)``
with ``F`` the time to the first token of a ``p``-token prompt (piecewise linear in
``p``) and ``g`` the time per further output token. Two sources:

* ``analytic_runtime``: a roofline from the parameter count and an accelerator profile.
  Prefill is compute-bound (2·N FLOPs per prompt token at peak * utilisation) but never
  faster than one read of the weights; decoding is bandwidth-bound (all weight bytes
  read once per token). Weights and KV cache are 16-bit (``BYTES_PER_PARAM``), split
  evenly over ``ceil((weights + KV cache) / usable memory)`` accelerators.
* ``fit_runtime``: a Huber IRLS regression of observed latencies on (p, o), refreshed by
  ``RuntimeEstimator`` from live traffic and from eval records that carry latency.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from policies.economics import (
    ACCELERATORS,
    BYTES_PER_PARAM,
    DEFAULT_PARAMS_B,
    REFERENCE_ACCELERATOR,
    AcceleratorProfile,
    ModelEconomics,
)
from policies.types import FloatArray

RuntimeSource = Literal["analytic", "fitted", "default"]
#: Share of accelerator memory usable for weights and KV cache (the rest: activations,
#: CUDA context, allocator fragmentation).
USABLE_MEMORY = 0.9
#: Typical width-to-depth ratio of dense decoder LLMs (Llama-2 7B/13B: 4096/32, 5120/40).
D_MODEL_PER_LAYER = 128.0


@dataclass(frozen=True, slots=True)
class RuntimeParams:
    """``F`` as knots (prompt tokens, seconds) plus the slope after the last knot, and ``g``."""

    knots_tokens: tuple[float, ...]
    first_token_s: tuple[float, ...]
    tail_slope_s: float
    per_token_s: float
    accelerators: int = 1
    source: RuntimeSource = "default"

    def first_token(self, prompt_tokens: float) -> float:
        """``F(p)``: linear interpolation between knots, linear extrapolation after."""
        knots, values = self.knots_tokens, self.first_token_s
        if prompt_tokens >= knots[-1]:
            return values[-1] + self.tail_slope_s * (prompt_tokens - knots[-1])
        for k in range(1, len(knots)):
            if prompt_tokens < knots[k]:
                share = (prompt_tokens - knots[k - 1]) / (knots[k] - knots[k - 1])
                return values[k - 1] + share * (values[k] - values[k - 1])
        return values[0]

    def runtime(self, prompt_tokens: float, completion_tokens: float) -> float:
        """``T(p, o) = F(p) + g·(o - 1)`` in seconds (``o < 1`` counts as one token)."""
        return self.first_token(prompt_tokens) + self.per_token_s * max(completion_tokens - 1, 0)


def kv_bytes_per_token(params_b: float, bytes_per_value: float = BYTES_PER_PARAM) -> float:
    """KV-cache bytes per token of a dense decoder with ``N ≈ 12·L·d²`` and ``d = 128·L``.

    ``2 (K and V) · L · d · bytes``. Exact for multi-head attention; an upper bound for
    models with grouped-query attention (Llama-2-70B needs 8x less).
    """
    d_model = (D_MODEL_PER_LAYER * params_b * 1e9 / 12.0) ** (1.0 / 3.0)
    layers = d_model / D_MODEL_PER_LAYER
    return 2.0 * layers * d_model * bytes_per_value


def accelerators_needed(
    params_b: float,
    accelerator: AcceleratorProfile,
    context_tokens: int,
    *,
    kv_per_token: float | None = None,
) -> int:
    """``ceil((weights + KV cache of one context) / usable memory)``, at least 1."""
    weights = params_b * 1e9 * BYTES_PER_PARAM
    kv = (kv_bytes_per_token(params_b) if kv_per_token is None else kv_per_token) * context_tokens
    return max(1, math.ceil((weights + kv) / (accelerator.memory_bytes * USABLE_MEMORY)))


def analytic_runtime(
    params_b: float,
    accelerator: AcceleratorProfile,
    *,
    context_tokens: int = 4096,
    kv_per_token: float | None = None,
    source: RuntimeSource = "analytic",
) -> RuntimeParams:
    """Roofline runtime of a ``params_b``-billion model at batch 1 on ``accelerator``."""
    count = accelerators_needed(params_b, accelerator, context_tokens, kv_per_token=kv_per_token)
    weight_bytes = params_b * 1e9 * BYTES_PER_PARAM
    read_s = weight_bytes / (
        accelerator.memory_bandwidth_bytes_per_s * accelerator.bandwidth_utilisation * count
    )
    prefill_s_per_token = (
        2.0 * params_b * 1e9 / (accelerator.peak_flops * accelerator.utilisation * count)
    )
    knee = read_s / prefill_s_per_token  # prompt length where prefill turns compute-bound
    return RuntimeParams(
        knots_tokens=(0.0, knee),
        first_token_s=(read_s, read_s),
        tail_slope_s=prefill_s_per_token,
        per_token_s=read_s,
        accelerators=count,
        source=source,
    )


def _design(prompt: FloatArray, completion: FloatArray, knots: Sequence[float]) -> FloatArray:
    columns = [np.ones_like(prompt), prompt]
    columns += [np.maximum(prompt - k, 0.0) for k in knots]
    columns.append(np.maximum(completion - 1.0, 0.0))
    return np.column_stack(columns)


def _huber_irls(
    x: FloatArray,
    y: FloatArray,
    delta: float,
    iterations: int,
    pause: Callable[[], None] | None = None,
) -> FloatArray:
    coef: FloatArray = np.asarray(np.linalg.lstsq(x, y, rcond=None)[0], dtype=np.float64)
    for _ in range(iterations):
        if pause is not None:
            pause()
        residual = y - x @ coef
        scale = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
        if scale <= 1e-12:
            break
        weight = np.minimum(1.0, delta * scale / np.maximum(np.abs(residual), 1e-300))
        root = np.sqrt(weight)
        solved = np.linalg.lstsq(x * root[:, None], y * root, rcond=None)[0]
        updated: FloatArray = np.asarray(solved, dtype=np.float64)
        if np.allclose(updated, coef, rtol=1e-9, atol=1e-12):
            return updated
        coef = updated
    return coef


def fit_runtime(
    prompt_tokens: ArrayLike,
    completion_tokens: ArrayLike,
    latency_s: ArrayLike,
    *,
    knots: Sequence[float] = (),
    accelerators: int = 1,
    delta: float = 1.345,
    iterations: int = 50,
    pause: Callable[[], None] | None = None,
) -> RuntimeParams:
    """Fit ``F`` (linear, with hinges at ``knots``) and ``g`` robustly (Huber IRLS).

    ``delta`` is Huber's threshold in robust standard deviations (MAD-based); 1.345
    gives 95 % efficiency under Gaussian noise while bounding the pull of outliers
    (queueing spikes, retries). Negative fitted values are clamped to zero. ``pause`` is
    called before each iteration (~0.1 ms of work): a server's background fit passes one
    that lets the event loop have the GIL.
    """
    prompt = np.asarray(prompt_tokens, dtype=np.float64)
    completion = np.asarray(completion_tokens, dtype=np.float64)
    latency = np.asarray(latency_s, dtype=np.float64)
    ordered = tuple(sorted(float(k) for k in knots))
    if len(latency) < len(ordered) + 3:
        raise ValueError(f"need at least {len(ordered) + 3} observations, got {len(latency)}")
    coef = _huber_irls(_design(prompt, completion, ordered), latency, delta, iterations, pause)
    intercept, slope, hinges, per_token = coef[0], coef[1], coef[2:-1], coef[-1]
    knot_tokens = (0.0, *ordered)
    values = [
        float(
            intercept
            + slope * k
            + sum(h * max(k - kk, 0.0) for h, kk in zip(hinges, ordered, strict=True))
        )
        for k in knot_tokens
    ]
    return RuntimeParams(
        knots_tokens=knot_tokens if ordered else (0.0,),
        first_token_s=tuple(max(v, 0.0) for v in values),
        tail_slope_s=max(float(slope + hinges.sum()), 0.0),
        per_token_s=max(float(per_token), 0.0),
        accelerators=accelerators,
        source="fitted",
    )


def prior_runtime(
    economics: ModelEconomics,
    accelerators: Mapping[str, AcceleratorProfile] = ACCELERATORS,
) -> RuntimeParams:
    """The analytic runtime a model starts from before any latency is observed.

    Local models run on their own accelerator. Hosted models, and local models whose
    accelerator is not given (quality-only, no price), use the common
    ``REFERENCE_ACCELERATOR`` (the idealized same-hardware comparison); without a known
    ``params_b`` they assume ``DEFAULT_PARAMS_B`` and are marked ``source="default"``.
    The KV cache is sized for one sequence of the context window (capped at 32k tokens).
    """
    if economics.accelerator is not None and economics.accelerator not in accelerators:
        raise ValueError(f"model {economics.name!r}: unknown accelerator {economics.accelerator!r}")
    profile = accelerators[economics.accelerator or REFERENCE_ACCELERATOR]
    params_b = economics.params_b
    context = min(economics.context_window, 32768) if economics.context_window > 0 else 4096
    return analytic_runtime(
        DEFAULT_PARAMS_B if params_b is None else params_b,
        profile,
        context_tokens=context,
        source="default" if params_b is None else "analytic",
    )


class RuntimeEstimator:
    """Per-model runtime parameters: analytic priors, refitted from observed latencies.

    Keeps the last ``window`` observations per model and refits every ``refit_every``
    new ones once ``min_observations`` are held. A fit keeps the prior's accelerator
    count (latency does not reveal it). Not thread-safe: one per event loop.

    A refit (robust IRLS over the window, ~1-3 ms) runs inline unless ``run_refit`` is
    set: then ``observe`` only snapshots the window and hands the fit to it (a server
    passes a worker thread's ``submit``), and the new parameters apply once the fit is
    done; at most one fit per model is in flight, and at most one starts per model every
    ``min_refit_interval_s`` (``clock`` seconds). A fit holds the GIL for most of its
    1-3 ms, so a request that arrives meanwhile waits for it; at hundreds of requests per
    second, 32 observations came every 0.1 s and fits ran back to back, over a window that
    had barely changed. At one a second per model they still overlapped 3.2 % of `auto`
    requests at concurrency 1 (a fit stretches to ~20 ms of wall time beside a busy
    loop); at one every 5 s, 0.8 %.
    """

    def __init__(
        self,
        priors: Mapping[str, RuntimeParams] | None = None,
        *,
        window: int = 512,
        refit_every: int = 32,
        min_observations: int = 16,
        knots: Sequence[float] = (),
        min_refit_interval_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.refit_every = refit_every
        self.min_observations = min_observations
        self.knots = tuple(knots)
        self.min_refit_interval_s = min_refit_interval_s
        self.clock = clock
        self._fit_started: dict[str, float] = {}
        self._priors: dict[str, RuntimeParams] = dict(priors or {})
        self._fitted: dict[str, RuntimeParams] = {}
        self._seen: dict[str, deque[tuple[float, float, float]]] = {}
        self._since_fit: dict[str, int] = {}
        self._fitting: set[str] = set()
        self.run_refit: Callable[[Callable[[], None]], object] | None = None
        #: Passed to ``fit_runtime`` by the fits that ``run_refit`` runs.
        self.refit_pause: Callable[[], None] | None = None

    @classmethod
    def from_economics(
        cls, economics: Sequence[ModelEconomics], **options: Any
    ) -> RuntimeEstimator:
        """An estimator whose priors are ``prior_runtime`` of every model."""
        return cls({e.name: prior_runtime(e) for e in economics}, **options)

    def params(self, model: str) -> RuntimeParams:
        """The fitted parameters if any, else the prior, else the documented default."""
        found = self._fitted.get(model) or self._priors.get(model)
        if found is None:
            found = analytic_runtime(
                DEFAULT_PARAMS_B, ACCELERATORS[REFERENCE_ACCELERATOR], source="default"
            )
            self._priors[model] = found
        return found

    def observe(
        self, model: str, prompt_tokens: float, completion_tokens: float, latency_s: float
    ) -> None:
        """Record one completed request; refit when enough new observations arrived."""
        if not (latency_s > 0 and math.isfinite(latency_s)):
            return
        seen = self._seen.setdefault(model, deque(maxlen=self.window))
        seen.append((float(prompt_tokens), float(completion_tokens), float(latency_s)))
        self._since_fit[model] = self._since_fit.get(model, 0) + 1
        if len(seen) >= self.min_observations and self._since_fit[model] >= self.refit_every:
            if self.run_refit is None:
                self.refit(model)
            elif model not in self._fitting and self._refit_due(model):
                self._refit_elsewhere(model, self.run_refit)

    def _refit_due(self, model: str) -> bool:
        last = self._fit_started.get(model)
        return last is None or self.clock() - last >= self.min_refit_interval_s

    def _refit_elsewhere(self, model: str, run: Callable[[Callable[[], None]], object]) -> None:
        # A snapshot (the deque keeps changing), as a list: the array is built on the
        # fit's thread (building it here took ~0.4 ms of the event loop).
        window = list(self._seen[model])
        accelerators, pause = self.params(model).accelerators, self.refit_pause
        self._fitting.add(model)
        self._since_fit[model] = 0
        self._fit_started[model] = self.clock()

        def fit() -> None:
            try:
                prompt, completion, latency = np.array(window).T
                self._fitted[model] = fit_runtime(
                    prompt,
                    completion,
                    latency,
                    knots=self.knots,
                    accelerators=accelerators,
                    pause=pause,
                )
            finally:
                self._fitting.discard(model)

        run(fit)

    def observe_many(
        self,
        model: str,
        prompt_tokens: ArrayLike,
        completion_tokens: ArrayLike,
        latency_s: ArrayLike,
    ) -> None:
        """Record a batch (for example eval records that carry latency), then refit."""
        rows = zip(
            np.ravel(prompt_tokens), np.ravel(completion_tokens), np.ravel(latency_s), strict=True
        )
        for p, o, t in rows:
            self.observe(model, float(p), float(o), float(t))
        if len(self._seen.get(model, ())) >= self.min_observations:
            self.refit(model)

    def refit(self, model: str) -> RuntimeParams:
        """Fit ``model`` on its current window and use the result from now on."""
        prompt, completion, latency = np.array(self._seen[model]).T
        fitted = fit_runtime(
            prompt,
            completion,
            latency,
            knots=self.knots,
            accelerators=self.params(model).accelerators,
        )
        self._fitted[model] = fitted
        self._since_fit[model] = 0
        return fitted
