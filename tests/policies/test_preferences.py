"""Preferences: willingness-to-pay units and the one validated merge of layered sources."""

from __future__ import annotations

from datetime import date

import pytest

from policies.preferences import Preferences, merge, willingness_to_pay_to_cost_weight


def test_willingness_to_pay_is_the_inverse_of_cost_weight() -> None:
    # Paying up to $0.01 per request for +1.0 quality = 100 quality points per USD.
    assert willingness_to_pay_to_cost_weight(0.01) == pytest.approx(100.0)
    with pytest.raises(ValueError, match="willingness_to_pay"):
        willingness_to_pay_to_cost_weight(0.0)


def test_overrides_replace_profile_values_and_parse_header_strings() -> None:
    base = {"cost_weight": 50.0, "max_cost_usd": 0.01}
    merged = merge(
        base,
        {
            "latency_weight": "0.5",
            "local_only": "true",
            "blocked_models": "a, b",
            "min_release_date": "2024-01-31",
            "max_cost_usd": None,
        },
    )
    assert merged.cost_weight == 50.0
    assert merged.latency_weight == 0.5
    assert merged.local_only is True
    assert merged.blocked_models == frozenset({"a", "b"})
    assert merged.min_release_date == date(2024, 1, 31)
    assert merged.max_cost_usd is None


def test_willingness_to_pay_converts_unless_cost_weight_is_explicit() -> None:
    assert merge({"willingness_to_pay": 0.5}).cost_weight == 2.0
    both = merge({"willingness_to_pay": 0.5, "cost_weight": 7})
    assert both.cost_weight == 7.0
    # A higher layer's willingness_to_pay replaces a lower layer's cost_weight.
    assert merge({"cost_weight": 7}, None, {"willingness_to_pay": 0.25}).cost_weight == 4.0
    assert merge({"willingness_to_pay": 0.25}, {"cost_weight": 9}).cost_weight == 9.0


def test_layers_apply_lowest_first() -> None:
    merged = merge({"cost_weight": 1, "local_only": True}, {"cost_weight": "2"}, {"cost_weight": 3})
    assert merged == Preferences(cost_weight=3.0, local_only=True)
    assert merge() == Preferences()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"cost_wieght": 1.0}, "cost_wieght"),
        ({"cost_weight": -1.0}, "cost_weight"),
        ({"max_cost_usd": "cheap"}, "max_cost_usd"),
        ({"local_only": "maybe"}, "local_only"),
        ({"allowed_models": [1, 2]}, "allowed_models"),
        ({"min_release_date": "yesterday"}, "min_release_date"),
        ({"min_quality": 1.5}, "min_quality"),
        ({"latency_weight": True}, "latency_weight"),
        ({"cost_weight": "inf"}, "cost_weight"),
        ({"cost_weight": float("inf")}, "cost_weight"),
        ({"latency_weight": "nan"}, "latency_weight"),
        ({"max_cost_usd": 1e309}, "max_cost_usd"),
        ({"willingness_to_pay": 5e-324}, "willingness_to_pay"),
        ({"willingness_to_pay": "Infinity"}, "willingness_to_pay"),
        ({"target_spend_usd_per_hour": 0}, "target_spend_usd_per_hour"),
    ],
)
def test_bad_overrides_name_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        merge(overrides)
