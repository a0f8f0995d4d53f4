"""The SDK's ``RouterPreferences`` against the live server's ``router`` object.

The server's schema is read from ``/openapi.json`` of a running router, found through the
chat request's ``router`` property, so renaming the server-side class does not matter.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError

import paretoroute as pr

HI = [{"role": "user", "content": "Say hello."}]
_KEYWORDS = ("type", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return _resolve(defs[ref.rsplit("/", 1)[-1]], defs) if ref else schema


def _variants(schema: dict[str, Any], defs: dict[str, Any]) -> list[tuple[Any, ...]]:
    schema = _resolve(schema, defs)
    if "anyOf" in schema:
        return sorted(v for part in schema["anyOf"] for v in _variants(part, defs))
    items = _variants(schema["items"], defs) if "items" in schema else None
    return [(*(schema.get(key) for key in _KEYWORDS), repr(items))]


def _canonical(model: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    model = _resolve(model, defs)
    fields = {name: _variants(prop, defs) for name, prop in model["properties"].items()}
    return {
        "fields": fields,
        "required": sorted(model.get("required", [])),
        "additionalProperties": model.get("additionalProperties"),
    }


@pytest.fixture(scope="module")
def server_preferences(router_url: str) -> dict[str, Any]:
    spec = httpx.get(router_url + "/openapi.json", timeout=10).json()
    defs = spec["components"]["schemas"]
    router_prop = defs["ChatCompletionRequest"]["properties"]["router"]
    nullable = router_prop.get("anyOf", [router_prop])
    model = next(part for part in nullable if part.get("type") != "null")
    return _canonical(model, defs)


def test_same_fields_types_and_bounds_as_the_server(server_preferences):
    sdk_schema = pr.RouterPreferences.model_json_schema()
    sdk = _canonical(sdk_schema, sdk_schema.get("$defs", {}))
    assert list(sdk["fields"]) == list(server_preferences["fields"])
    for name, variants in server_preferences["fields"].items():
        assert sdk["fields"][name] == variants, name
    assert sdk == server_preferences


BAD = [
    ("cost_weight", -1),
    ("latency_weight", -0.5),
    ("willingness_to_pay", 0),
    ("max_cost_usd", -0.01),
    ("max_latency_s", 0),
    ("min_quality", 1.5),
    ("max_params_b", 0),
    ("min_release_date", "last tuesday"),
    ("local_only", "perhaps"),
    ("allowed_models", 7),
    ("target_spend_usd_per_hour", -1),
    ("worst_case_cost", "sometimes"),
    ("no_such_preference", 1),
]


@pytest.mark.parametrize(("field", "value"), BAD)
def test_sdk_and_server_reject_the_same_values(router_url: str, field: str, value: Any):
    with pytest.raises(ValidationError) as caught:
        pr.RouterPreferences.model_validate({field: value})
    assert caught.value.errors()[0]["loc"][0] == field
    raw = {"model": "auto", "messages": HI, "router": {field: value}}
    answer = httpx.post(router_url + "/v1/route", json=raw, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == f"router.{field}"


def test_sdk_and_server_accept_the_same_values(client: pr.Client):
    good = pr.RouterPreferences(
        profile="best",
        cost_weight=0.0,
        latency_weight=0.0,
        max_cost_usd=1.0,
        max_latency_s=60,
        min_quality=0.0,
        allowed_models="gpt-4-1106-preview, gpt-3.5-turbo-1106",
        blocked_models=[],
        local_only=False,
        max_params_b=2000,
        min_release_date="2023-01-01",
        fallback_on_infeasible=False,
        target_spend_usd_per_hour=10.0,
        worst_case_cost=True,
    )
    assert good.allowed_models == ["gpt-4-1106-preview", "gpt-3.5-turbo-1106"]
    decision = client.route(HI, router=good)
    assert decision.model == "gpt-4-1106-preview"
    assert decision.preferences["min_release_date"] == "2023-01-01"
    assert pr.RouterPreferences(willingness_to_pay=0.5).wire() == {"willingness_to_pay": 0.5}
