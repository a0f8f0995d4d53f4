"""Fixtures: a fake upstream on loopback, a catalog pointing at it, the router on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml

from predictors.prior import PriorScorer
from router.app import create_app
from router.catalog import Catalog, parse_catalog
from router.limits.memory import MemoryBackend
from router.limits.protocols import StateBackend
from router.limits.redis_store import RedisBackend
from router.settings import Settings
from tests.router.redis_server import RedisProcess, redis_server
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
        state.requests.clear()
        state.headers.clear()


def catalog_document(api_base: str) -> dict[str, Any]:
    """Three hosted models on the fake upstream, plus profiles."""

    def model(name: str, price_in: float, price_out: float, **extra: Any) -> dict[str, Any]:
        return {
            "name": name,
            "litellm_model": f"openai/{name}",
            "api_base": api_base,
            "input_usd_per_token": price_in,
            "output_usd_per_token": price_out,
            "context_window": 8192,
            **extra,
        }

    return {
        "upstream_timeout_s": 2.0,
        "models": [
            model("gpt-4-1106-preview", 1e-5, 3e-5, params_b=1000, release_date="2023-11-06"),
            model("gpt-3.5-turbo-1106", 1e-6, 2e-6, params_b=175, release_date="2023-11-06"),
            model("mistralai/mistral-7b-chat", 2e-7, 2e-7, params_b=7, context_window=64),
        ],
        "profiles": {
            "best": {"cost_weight": 0.0},
            "cheap": {"cost_weight": 10000.0},
            "gpt4only": {"allowed_models": ["gpt-4-1106-preview"]},
        },
        "default_profile": "best",
    }


@pytest.fixture(scope="module")
def catalog(upstream_url: str) -> Catalog:
    return parse_catalog(catalog_document(upstream_url), "test-catalog")


@pytest.fixture(scope="module")
def router_url(catalog: Catalog) -> Iterator[str]:
    settings = Settings(max_body_bytes=64 * 1024)
    app = create_app(settings, catalog=catalog, scorer=PriorScorer())
    with live_server(app) as url:
        yield url


@pytest.fixture(scope="module")
def client(router_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=router_url + "/v1", api_key="unused", max_retries=0)


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[[Any], Path]:
    def write(document: Any) -> Path:
        path = tmp_path / "catalog.yaml"
        path.write_text(yaml.safe_dump(document))
        return path

    return write


# One real redis-server per test module that asks for it (``redis_server`` stops it).
@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


#: Every shared-state test runs against both backends: in-process and a real Redis.
@pytest.fixture(params=["memory", "redis"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[StateBackend]:
    if request.param == "memory":
        yield MemoryBackend()
        return
    server: RedisProcess = request.getfixturevalue("redis")
    redis = RedisBackend(server.url, timeout_s=1.0)
    await redis.client.call("FLUSHALL")
    yield redis
    await redis.aclose()
