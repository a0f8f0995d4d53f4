"""Idealized runtime: analytic roofline vs hand-computed figures, robust fits, estimator."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from policies.economics import ACCELERATORS, DEFAULT_PARAMS_B, ModelEconomics
from policies.runtime import (
    RuntimeEstimator,
    analytic_runtime,
    fit_runtime,
    kv_bytes_per_token,
    prior_runtime,
)

A100 = ACCELERATORS["a100-80gb"]
LLAMA2_7B_KV = 2 * 32 * 4096 * 2  # K and V, 32 layers, d_model 4096, 2 bytes


def test_seven_b_on_a100_matches_hand_computation() -> None:
    params = analytic_runtime(7.0, A100, context_tokens=4096, kv_per_token=LLAMA2_7B_KV)
    # (14e9 weight bytes + 524288 * 4096 KV bytes) / (0.9 * 80e9) = 0.22 -> 1 accelerator.
    assert params.accelerators == 1
    # Decode: 14e9 bytes / (2039e9 B/s * 0.8) = 8.5826e-3 s per token.
    assert params.per_token_s == pytest.approx(14e9 / 1631.2e9, rel=1e-12)
    # Prefill: 2 * 7e9 FLOPs / (312e12 * 0.5) = 8.974e-5 s per prompt token ...
    assert params.tail_slope_s == pytest.approx(14e9 / 156e12, rel=1e-12)
    # ... but never faster than one read of the weights: memory-bound below ~95.6 tokens.
    assert params.first_token(50) == pytest.approx(8.5826e-3, rel=1e-4)
    assert params.knots_tokens[1] == pytest.approx(95.64, abs=0.01)
    # T(1000, 101) = 1000 * 8.974e-5 + 100 * 8.5826e-3 = 0.08974 + 0.85826 = 0.94801 s.
    assert params.runtime(1000, 101) == pytest.approx(0.948008, rel=1e-5)
    assert params.source == "analytic"


def test_seventy_b_needs_two_a100s() -> None:
    gqa_kv = 2 * 80 * 1024 * 2  # Llama-2-70B: 80 layers, 8 KV heads x 128
    params = analytic_runtime(70.0, A100, context_tokens=4096, kv_per_token=gqa_kv)
    # (140e9 + 327680 * 4096) / 72e9 = 1.96 -> 2; decode reads half the weights per GPU.
    assert params.accelerators == 2
    assert params.per_token_s == pytest.approx(140e9 / (1631.2e9 * 2), rel=1e-12)


def test_kv_estimate_is_close_to_llama2_7b() -> None:
    assert kv_bytes_per_token(7.0) == pytest.approx(LLAMA2_7B_KV, rel=0.1)


def test_first_token_is_piecewise_linear_and_monotone() -> None:
    params = analytic_runtime(13.0, ACCELERATORS["l4"])
    prompts = np.linspace(0, 8000, 50)
    values = np.array([params.first_token(p) for p in prompts])
    assert np.all(np.diff(values) >= 0)
    assert params.runtime(10, 0) == params.first_token(10)


def _synthetic(rng: np.random.Generator, n: int, first_token, per_token: float):
    prompt = rng.uniform(10, 4000, n)
    completion = rng.uniform(1, 500, n).round()
    latency = first_token(prompt) + per_token * (completion - 1) + rng.normal(0, 0.02, n)
    outliers = rng.random(n) < 0.1
    latency[outliers] += rng.uniform(2, 10, outliers.sum())  # queueing spikes
    return prompt, completion, latency


def test_fit_recovers_linear_f_and_g_despite_outliers() -> None:
    rng = np.random.default_rng(7)
    prompt, completion, latency = _synthetic(rng, 400, lambda p: 0.25 + 2e-4 * p, 0.03)
    fitted = fit_runtime(prompt, completion, latency)
    assert fitted.source == "fitted"
    assert fitted.per_token_s == pytest.approx(0.03, rel=0.02)
    assert fitted.first_token(0) == pytest.approx(0.25, abs=0.02)
    assert fitted.tail_slope_s == pytest.approx(2e-4, rel=0.05)
    # Plain least squares is dragged by the outliers; the robust fit is not.
    ols = np.linalg.lstsq(
        np.column_stack([np.ones_like(prompt), prompt, completion - 1]), latency, rcond=None
    )[0]
    assert abs(ols[0] - 0.25) > abs(fitted.first_token(0) - 0.25)


def test_fit_recovers_a_knee_in_f() -> None:
    rng = np.random.default_rng(3)

    def first_token(p):
        return 0.1 + 1e-4 * p + 3e-4 * np.maximum(p - 1000, 0)

    prompt, completion, latency = _synthetic(rng, 600, first_token, 0.02)
    fitted = fit_runtime(prompt, completion, latency, knots=[1000])
    assert fitted.knots_tokens == (0.0, 1000.0)
    assert fitted.first_token(1000) == pytest.approx(0.2, abs=0.02)
    assert fitted.tail_slope_s == pytest.approx(4e-4, rel=0.05)
    assert fitted.first_token(3000) == pytest.approx(float(first_token(3000)), rel=0.03)


def test_fit_needs_enough_points() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        fit_runtime([1, 2], [1, 2], [0.1, 0.2])


def test_priors_use_own_accelerator_or_the_reference() -> None:
    local = ModelEconomics("l", None, None, is_local=True, params_b=7.0, accelerator="l4")
    hosted = ModelEconomics("h", 1e-6, 2e-6, params_b=None)
    assert prior_runtime(local).source == "analytic"
    assert prior_runtime(hosted).source == "default"
    expected = analytic_runtime(DEFAULT_PARAMS_B, ACCELERATORS["h100-80gb"], source="default")
    assert prior_runtime(hosted) == expected
    # A local model with no accelerator (quality-only, no price) runs on the reference.
    assert prior_runtime(ModelEconomics("x", None, None, is_local=True)) == expected
    with pytest.raises(ValueError, match="unknown accelerator"):
        prior_runtime(ModelEconomics("y", None, None, is_local=True, accelerator="abacus"))


def test_estimator_refits_from_observations_in_a_bounded_window() -> None:
    local = ModelEconomics("l", None, None, is_local=True, params_b=7.0, accelerator="l4")
    estimator = RuntimeEstimator.from_economics([local], window=64, refit_every=16)
    prior = estimator.params("l")
    rng = np.random.default_rng(1)
    prompt, completion, latency = _synthetic(rng, 200, lambda p: 0.5 + 1e-4 * p, 0.05)
    for p, o, t in zip(prompt[:15], completion[:15], latency[:15], strict=True):
        estimator.observe("l", p, o, t)
    assert estimator.params("l") == prior  # not enough observations yet
    for p, o, t in zip(prompt[15:], completion[15:], latency[15:], strict=True):
        estimator.observe("l", p, o, t)
    fitted = estimator.params("l")
    assert fitted.source == "fitted"
    assert fitted.accelerators == prior.accelerators
    assert fitted.per_token_s == pytest.approx(0.05, rel=0.05)
    assert len(estimator._seen["l"]) == 64


def test_unknown_models_get_the_default_runtime() -> None:
    params = RuntimeEstimator().params("never-seen")
    assert params.source == "default"
    assert params.per_token_s > 0


def test_refits_can_run_elsewhere_on_a_snapshot_one_at_a_time():
    queued: list[Callable[[], None]] = []
    estimator = RuntimeEstimator(refit_every=8, min_observations=8, min_refit_interval_s=0.0)
    estimator.run_refit = queued.append
    for i in range(8):
        estimator.observe("m", 10.0, 10.0 + i, 0.1 + 0.01 * (10.0 + i))
    assert len(queued) == 1 and estimator.params("m").source != "fitted"  # not yet run
    for i in range(8, 24):  # two more refits due while the first is still in flight
        estimator.observe("m", 10.0, 10.0 + i, 5.0)
    assert len(queued) == 1
    queued.pop()()  # the fit of the first 8 observations, not of the 24 held now
    fitted = estimator.params("m")
    assert fitted.source == "fitted" and abs(fitted.per_token_s - 0.01) < 1e-6
    for i in range(8):
        estimator.observe("m", 10.0, 10.0 + i, 5.0)
    assert len(queued) == 1  # free again: the next due refit is handed over


def test_background_refits_start_at_most_once_per_interval_per_model():
    queued: list[Callable[[], None]] = []
    now = [100.0]
    estimator = RuntimeEstimator(
        refit_every=4, min_observations=4, min_refit_interval_s=1.0, clock=lambda: now[0]
    )
    estimator.run_refit = queued.append

    def observe(model: str, count: int) -> None:
        for i in range(count):
            estimator.observe(model, 10.0, 10.0 + i, 0.1 + 0.01 * (10.0 + i))

    observe("m", 4)
    queued.pop()()
    observe("m", 40)  # ten refits due, all within the interval of the first
    assert queued == []
    observe("other", 4)  # the interval is per model
    assert len(queued) == 1
    queued.pop()()
    now[0] += 0.999
    observe("m", 1)
    assert queued == []
    now[0] += 0.001
    observe("m", 1)  # due for 41 observations now: handed over once the interval is up
    assert len(queued) == 1


def test_a_pause_between_iterations_leaves_the_fit_unchanged():
    rng = np.random.default_rng(11)
    prompt, completion, latency = _synthetic(rng, 300, lambda p: 0.2 + 1e-4 * p, 0.02)
    pauses: list[None] = []
    paused = fit_runtime(prompt, completion, latency, pause=lambda: pauses.append(None))
    assert paused == fit_runtime(prompt, completion, latency)
    assert len(pauses) >= 2
