"""Property-based API test: schemathesis against ``/openapi.json`` of a live router.

Every documented operation, generated inputs, a fixed seed (``derandomize``) and a
bounded number of examples: no response may be a 5xx, and every response must match
the schema the router publishes for its status code. The schema is the app's own
OpenAPI document (built without starting the app, so operations are known at
collection); a test checks it is exactly what the live router serves.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from router.app import create_app
from router.settings import Settings

MAX_EXAMPLES = 60
DOCUMENT = create_app(Settings()).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT)


def test_the_schema_is_what_the_router_serves(router_url: str) -> None:
    assert httpx.get(router_url + "/openapi.json").json() == DOCUMENT


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_schema_conformance(case: schemathesis.Case, router_url: str) -> None:
    case.call_and_validate(
        base_url=router_url, checks=[not_a_server_error, response_schema_conformance]
    )


@pytest.mark.parametrize(
    "router",
    [
        pytest.param({"willingness_to_pay": 5e-324}, id="denormal-wtp"),
        pytest.param({"cost_weight": 1e308}, id="huge-cost-weight"),
        pytest.param(
            {"cost_weight": 1e308, "target_spend_usd_per_hour": 1.0},
            id="huge-cost-weight-with-target-spend",
        ),
        pytest.param({"latency_weight": 1e308}, id="huge-latency-weight"),
    ],
)
def test_preference_values_are_not_a_500(router_url: str, router: dict[str, Any]) -> None:
    body = {"messages": [{"role": "user", "content": "hi"}], "router": router}
    response = httpx.post(router_url + "/v1/chat/completions", json=body)
    assert response.status_code < 500, response.text


@pytest.mark.parametrize("value", ["inf", "1e-320"])
def test_preference_headers_are_not_a_500(router_url: str, value: str) -> None:
    body = {"messages": [{"role": "user", "content": "hi"}]}
    headers = {"x-paretoroute-cost-weight": value}
    response = httpx.post(router_url + "/v1/chat/completions", json=body, headers=headers)
    assert response.status_code < 500, response.text
