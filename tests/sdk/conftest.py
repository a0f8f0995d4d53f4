"""Fixtures: the router on loopback (fake upstream, feedback stub) and scripted stub servers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest

from paretoroute import AsyncClient, Client
from predictors.prior import PriorScorer
from router.app import create_app
from router.catalog import Catalog

# The router's own fixtures: a fake OpenAI upstream on loopback and a catalog pointing at it.
from tests.router.conftest import _reset_upstream, catalog, upstream_state, upstream_url
from tests.router.servers import live_server
from tests.sdk.stubs import (
    FeedbackStore,
    Reply,
    Script,
    isolated_settings,
    scripted_app,
    with_feedback,
)

__all__ = ["_reset_upstream", "catalog", "upstream_state", "upstream_url"]


@pytest.fixture(scope="module")
def feedback_store() -> FeedbackStore:
    return FeedbackStore()


@pytest.fixture(scope="module")
def router_url(
    catalog: Catalog, feedback_store: FeedbackStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    settings = isolated_settings(tmp_path_factory.mktemp("data"), max_body_bytes=64 * 1024)
    app = create_app(settings, catalog=catalog, scorer=PriorScorer())
    with live_server(with_feedback(app, feedback_store)) as url:
        yield url


@pytest.fixture
def client(router_url: str) -> Iterator[Client]:
    with Client(router_url, max_retries=0, timeout=10) as sdk:
        yield sdk


@pytest.fixture
async def async_client(router_url: str) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(router_url, max_retries=0, timeout=10) as sdk:
        yield sdk


Scripted = Callable[..., AbstractContextManager[tuple[str, Script]]]


@pytest.fixture
def scripted() -> Scripted:
    """``with scripted(Reply(...), ...) as (url, script)``: a stub server on loopback."""

    @contextmanager
    def serve(*replies: Reply) -> Iterator[tuple[str, Script]]:
        script = Script(list(replies))
        with live_server(scripted_app(script)) as url:
            yield url, script

    return serve
