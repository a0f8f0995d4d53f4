"""A live router on loopback logs exactly one complete row per request it answered."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from fastapi import FastAPI

from predictors.prior import PriorScorer
from router.app import create_app
from router.catalog import Catalog
from router.errors import UpstreamError
from router.requestlog.database import create_log_engine
from router.settings import Settings
from tests.requestlog.helpers import MESSAGES, check_rows, read_rows, send_mix
from tests.router.servers import FakeUpstreamState, live_server


def _serve(catalog: Catalog, settings: Settings) -> Iterator[tuple[str, FastAPI]]:
    app = create_app(settings, catalog=catalog, scorer=PriorScorer())
    with live_server(app) as url:
        yield url, app


@pytest.mark.parametrize("content", [True, False], ids=["content", "metadata-only"])
def test_every_request_is_one_complete_row(
    catalog: Catalog, upstream_state: FakeUpstreamState, tmp_path: Path, content: bool
) -> None:
    settings = Settings(data_dir=tmp_path, log_content=content)
    for url, app in _serve(catalog, settings):
        client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)
        sent = send_mix(client, upstream_state)
        assert app.state.services.request_log.flush(10)
    engine = create_log_engine(f"sqlite:///{tmp_path / 'paretoroute.db'}")
    check_rows(read_rows(engine), sent, catalog, content=content)


def test_too_large_body_is_logged_with_an_id(catalog: Catalog, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, max_body_bytes=256)
    for url, app in _serve(catalog, settings):
        body = {"model": "auto", "messages": [{"role": "user", "content": "x" * 1000}]}
        response = httpx.post(url + "/v1/chat/completions", json=body)
        assert response.status_code == 413
        assert app.state.services.request_log.flush(10)
    rows = read_rows(create_log_engine(f"sqlite:///{tmp_path / 'paretoroute.db'}"))
    row = rows[response.headers["x-paretoroute-request-id"]]
    assert (row["status_code"], row["error_code"]) == (413, "request_too_large")
    assert row["chosen_model"] is None


def test_log_off_writes_nothing(catalog: Catalog, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, request_log=False)
    for url, app in _serve(catalog, settings):
        client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)
        client.chat.completions.create(model="auto", messages=MESSAGES)
        assert app.state.services.request_log is None
    assert not (tmp_path / "paretoroute.db").exists()


class _FailingStream:
    """Streams one chunk, then fails the way an upstream dropping mid-stream does."""

    async def complete(self, target: Any, endpoint: Any, body: Any) -> dict[str, Any]:
        raise UpstreamError("not used")

    async def stream(
        self, target: Any, endpoint: Any, body: Any
    ) -> AsyncIterator[list[dict[str, Any]]]:
        chunk = {
            "id": "c",
            "object": "chat.completion.chunk",
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": "Hel"},
                    "finish_reason": None,
                }
            ],
        }
        yield [chunk]
        raise UpstreamError("connection reset mid-stream")

    async def aclose(self) -> None:
        return None


def test_stream_failing_midway_is_logged_when_it_ends(catalog: Catalog, tmp_path: Path) -> None:
    app = create_app(
        Settings(data_dir=tmp_path, log_content=True),
        catalog=catalog,
        scorer=PriorScorer(),
        upstream=_FailingStream(),
    )
    with live_server(app) as url:
        client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)
        raw = client.chat.completions.with_raw_response.create(
            model="auto", messages=MESSAGES, stream=True
        )
        with pytest.raises(openai.APIError):
            for _ in raw.parse():
                pass
        assert app.state.services.request_log.flush(10)
    rows = read_rows(create_log_engine(f"sqlite:///{tmp_path / 'paretoroute.db'}"))
    row = rows[raw.headers["x-paretoroute-request-id"]]
    assert (row["status_code"], row["error_code"], row["stream"]) == (200, "upstream_error", True)
    assert (
        row["completion_text"] == "Hel"
        and row["chosen_model"] == raw.headers["x-paretoroute-model"]
    )


class _BrokenUpstream(_FailingStream):
    """A bug rather than an upstream failure: the edge's catch-all answers 500."""

    async def complete(self, target: Any, endpoint: Any, body: Any) -> dict[str, Any]:
        raise RuntimeError("bug in an upstream adapter")


def test_unexpected_error_is_logged_as_internal(catalog: Catalog, tmp_path: Path) -> None:
    app = create_app(
        Settings(data_dir=tmp_path),
        catalog=catalog,
        scorer=PriorScorer(),
        upstream=_BrokenUpstream(),
    )
    with live_server(app) as url:
        response = httpx.post(
            url + "/v1/chat/completions", json={"model": "gpt-3.5-turbo-1106", "messages": MESSAGES}
        )
        assert response.status_code == 500
        assert app.state.services.request_log.flush(10)
    rows = list(read_rows(create_log_engine(f"sqlite:///{tmp_path / 'paretoroute.db'}")).values())
    assert len(rows) == 1
    row = rows[0]
    assert (row["status_code"], row["error_code"]) == (500, "internal")
    assert row["chosen_model"] == "gpt-3.5-turbo-1106" and row["upstream_ms"] is None
