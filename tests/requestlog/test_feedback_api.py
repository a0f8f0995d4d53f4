"""``POST /v1/feedback`` against a live router: stored, replaced, counted, validated."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from predictors.prior import PriorScorer
from router.app import create_app
from router.catalog import Catalog
from router.requestlog.database import create_log_engine
from router.requestlog.schema import FeedbackRow
from router.settings import Settings
from tests.requestlog.helpers import MESSAGES, sqlite_write_lock
from tests.router.servers import live_server


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("feedback")


@pytest.fixture(scope="module")
def router_url(catalog: Catalog, data_dir: Path) -> Iterator[str]:
    app = create_app(Settings(data_dir=data_dir), catalog=catalog, scorer=PriorScorer())
    with live_server(app) as url:
        yield url


def _served(router_url: str, model: str = "auto") -> tuple[str, str]:
    client = openai.OpenAI(base_url=router_url + "/v1", api_key="unused", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(model=model, messages=MESSAGES)
    return raw.headers["x-paretoroute-request-id"], raw.headers["x-paretoroute-model"]


def _feedback(router_url: str, **body: Any) -> httpx.Response:
    return httpx.post(router_url + "/v1/feedback", json=body, timeout=30)


def _stored(data_dir: Path, request_id: str) -> list[FeedbackRow]:
    engine = create_log_engine(f"sqlite:///{data_dir / 'paretoroute.db'}")
    query = select(FeedbackRow).where(FeedbackRow.request_id == request_id)
    with engine.connect() as connection:
        return list(connection.execute(query).all())


def _samples(router_url: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    text = httpx.get(router_url + "/metrics").text
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def test_score_then_thumbs_updates_and_counts(router_url: str, data_dir: Path) -> None:
    request_id, model = _served(router_url)
    first = _feedback(router_url, request_id=request_id, score=0.8, comment="good")
    assert first.status_code == 200, first.text
    expected = {"object": "feedback", "request_id": request_id, "model": model}
    assert first.json() == {**expected, "updated": False}
    second = _feedback(router_url, request_id=request_id, thumbs="up")
    assert second.json() == {**expected, "updated": True}
    rows = _stored(data_dir, request_id)
    assert len(rows) == 1
    assert (rows[0].score, rows[0].thumbs, rows[0].comment) == (None, "up", None)
    assert rows[0].updated_at > rows[0].created_at
    counted = _samples(router_url, "paretoroute_feedback_total")
    labels = (("model", model), ("profile", "best"))
    assert counted[(("kind", "score"), *labels, ("updated", "false"))] == 1
    assert counted[(("kind", "thumbs_up"), *labels, ("updated", "true"))] == 1
    assert _samples(router_url, "paretoroute_feedback_score_total")[labels] == pytest.approx(0.8)
    for key in counted:
        assert request_id not in str(key)


def test_label_on_a_named_request(router_url: str, data_dir: Path) -> None:
    request_id, model = _served(router_url, "gpt-3.5-turbo-1106")
    response = _feedback(router_url, request_id=request_id, label="too-verbose")
    assert response.json()["model"] == "gpt-3.5-turbo-1106" == model
    assert _stored(data_dir, request_id)[0].label == "too-verbose"
    counted = _samples(router_url, "paretoroute_feedback_total")
    key = (("kind", "label"), ("model", model), ("profile", ""), ("updated", "false"))
    assert counted[key] == 1


def test_feedback_for_a_request_still_queued(router_url: str, data_dir: Path) -> None:
    """The writer cannot commit while the test holds the lock; feedback waits for it."""
    with sqlite_write_lock(data_dir / "paretoroute.db"):
        request_id, _ = _served(router_url)  # answered although the log cannot write
        result: list[httpx.Response] = []
        sender = threading.Thread(
            target=lambda: result.append(_feedback(router_url, request_id=request_id, score=1))
        )
        sender.start()
        sender.join(0.5)
        assert sender.is_alive(), "feedback must wait for the queued row, not answer 404"
    sender.join(30)
    assert result[0].status_code == 200, result[0].text
    assert result[0].json()["updated"] is False


def test_unknown_request_is_404(router_url: str) -> None:
    response = _feedback(router_url, request_id="pr-doesnotexist", thumbs="down")
    assert response.status_code == 404
    error = response.json()["error"]
    assert (error["code"], error["param"], error["type"]) == (
        "request_not_found",
        "request_id",
        "invalid_request_error",
    )
    assert "pr-doesnotexist" in error["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"score": 1.5}, "score"),
        ({"score": -0.1}, "score"),
        ({"score": "0.5"}, "score"),
        ({"thumbs": "sideways"}, "thumbs"),
        ({"label": "x" * 65}, "label"),
        ({"label": ""}, "label"),
        ({"score": 0.5, "comment": "y" * 2001}, "comment"),
        ({}, "score"),
        ({"score": 0.5, "label": "ok"}, "label"),
        ({"score": 0.5, "stars": 5}, "stars"),
    ],
)
def test_bad_bodies_are_400_with_param(router_url: str, body: dict[str, Any], param: str) -> None:
    request_id, _ = _served(router_url)
    response = _feedback(router_url, request_id=request_id, **body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["param"], error["type"]) == (param, "invalid_request_error")
    assert error["message"]


def test_missing_request_id_is_400(router_url: str) -> None:
    response = _feedback(router_url, score=0.5)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "request_id"


def test_log_off_answers_404_saying_why(catalog: Catalog, tmp_path: Path) -> None:
    app = create_app(
        Settings(data_dir=tmp_path, request_log=False), catalog=catalog, scorer=PriorScorer()
    )
    with live_server(app) as url:
        response = _feedback(url, request_id="pr-x", score=0.5)
    assert response.status_code == 404
    assert "PARETOROUTE_REQUEST_LOG" in response.json()["error"]["message"]


def test_feedback_with_the_openai_client(router_url: str) -> None:
    """The README's way: id from the response header, feedback with ``client.post``."""
    client = openai.OpenAI(base_url=router_url + "/v1", api_key="unused", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(model="auto", messages=MESSAGES)
    request_id = raw.headers["x-paretoroute-request-id"]
    answer = client.post("/feedback", body={"request_id": request_id, "score": 0.9}, cast_to=object)
    assert answer == {
        "object": "feedback",
        "request_id": request_id,
        "model": raw.parse().model,
        "updated": False,
    }
    with pytest.raises(openai.NotFoundError) as raised:
        client.post("/feedback", body={"request_id": "pr-none", "score": 0.9}, cast_to=object)
    assert raised.value.code == "request_not_found"
