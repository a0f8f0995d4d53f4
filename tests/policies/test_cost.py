"""The cost model: hosted per-token prices and local accelerator-time, hand-computed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from policies.cost import estimate
from policies.economics import ACCELERATORS, ModelEconomics
from policies.runtime import RuntimeParams, prior_runtime

FLAT = RuntimeParams((0.0,), (0.5,), 0.0, 0.01, accelerators=2, source="fitted")


def test_hosted_cost_is_tokens_times_prices_plus_per_request() -> None:
    hosted = ModelEconomics("h", 1e-6, 3e-6, usd_per_request=1e-4)
    result = estimate([hosted], [FLAT], 1000, np.array([201.0]))
    # 1000 * 1e-6 + 201 * 3e-6 + 1e-4 = 1.703e-3 USD; runtime 0.5 + 0.01 * 200 = 2.5 s.
    assert result.cost_usd[0] == pytest.approx(1.703e-3, rel=1e-12)
    assert result.runtime_s[0] == pytest.approx(2.5)
    assert result.runtime_source == ("fitted",)
    assert result.accelerator_s[0] == pytest.approx(5.0)


def test_local_cost_is_runtime_times_accelerators_times_hourly_price() -> None:
    local = ModelEconomics("l", None, None, is_local=True, params_b=7.0, accelerator="l4")
    result = estimate([local], [FLAT], 1000, [201.0])
    # 2.5 s * 2 accelerators * $0.71/h / 3600 s/h.
    expected = 2.5 * 2 * ACCELERATORS["l4"].usd_per_hour / 3600
    assert result.cost_usd[0] == pytest.approx(expected, rel=1e-12)


def test_unpriced_or_unknown_hardware_is_nan() -> None:
    unpriced = ModelEconomics("h", None, 1e-6)
    odd = ModelEconomics("l", None, None, is_local=True, params_b=7.0, accelerator="tpu")
    result = estimate([unpriced, odd], [FLAT, FLAT], 10, [5.0, 5.0])
    assert math.isnan(result.cost_usd[0]) and math.isnan(result.cost_usd[1])


def test_local_and_hosted_compare_in_dollars() -> None:
    local = ModelEconomics("l", None, None, is_local=True, params_b=7.0, accelerator="h100-80gb")
    hosted = ModelEconomics("h", 2e-7, 2e-7)
    runtimes = [prior_runtime(local), prior_runtime(hosted)]
    result = estimate([local, hosted], runtimes, 500, [300.0, 300.0])
    assert np.all(result.cost_usd > 0)
    # Default 70B hosted model: 140e9 weight bytes + ~2.57e6 KV bytes/token (no GQA)
    # * 4096 tokens = 150.5e9 bytes over 72e9 usable per H100 -> 3 accelerators.
    assert result.accelerators.tolist() == [1, 3]


def test_lengths_must_agree() -> None:
    with pytest.raises(ValueError, match="equal lengths"):
        estimate([ModelEconomics("h", 1e-6, 1e-6)], [FLAT, FLAT], 1, [1.0])


def test_one_hosted_cost_in_python_floats_has_the_same_bits_as_estimate() -> None:
    from policies.cost import hosted_cost_one

    rng = np.random.default_rng(0)
    models = [
        ModelEconomics("a", 1e-6, 3e-6, usd_per_request=1e-4),
        ModelEconomics("b", 2.5e-7, 1.25e-6),
        ModelEconomics("c", 0.0, 6e-5),
    ]
    for model in models:
        for _ in range(200):
            prompt = int(rng.integers(1, 200_000))
            completion = float(rng.uniform(0, 8192))
            expected = estimate([model], [FLAT], prompt, [completion]).cost_usd[0]
            assert hosted_cost_one(model, prompt, completion) == expected
    assert math.isnan(hosted_cost_one(ModelEconomics("u", None, None), 10, 10.0))
