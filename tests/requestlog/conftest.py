"""Fixtures: a fake upstream on loopback and a catalog of three models pointing at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from router.catalog import Catalog, parse_catalog
from tests.router.conftest import catalog_document
from tests.router.servers import FakeUpstreamState, fake_openai_app, live_server


@pytest.fixture(scope="module")
def upstream_state() -> FakeUpstreamState:
    return FakeUpstreamState()


@pytest.fixture(scope="module")
def upstream_url(upstream_state: FakeUpstreamState) -> Iterator[str]:
    with live_server(fake_openai_app(upstream_state)) as url:
        yield url + "/v1"


@pytest.fixture(autouse=True)
def _reset_upstream(request: pytest.FixtureRequest) -> None:
    if "upstream_state" in request.fixturenames:
        state: FakeUpstreamState = request.getfixturevalue("upstream_state")
        state.fail_status, state.delay_s = None, 0.0


@pytest.fixture(scope="module")
def catalog(upstream_url: str) -> Catalog:
    return parse_catalog(catalog_document(upstream_url), "test-catalog")
