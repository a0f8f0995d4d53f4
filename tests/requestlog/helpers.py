"""A known mix of requests (routed, named, streamed, legacy, failed) and the rows it must log."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
from sqlalchemy import Engine, select

from router.catalog import Catalog
from router.requestlog.schema import RequestRow
from tests.router.servers import FakeUpstreamState

REPLY = "Hello from the fake upstream."
MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


@dataclass(frozen=True)
class Sent:
    """One request the test sent and what its row must say."""

    request_id: str
    endpoint: str
    requested: str
    status: int
    stream: bool
    chosen: str | None
    routed: bool
    error_code: str | None = None


def _ok(raw: Any, requested: str, *, endpoint: str = "chat", stream: bool = False) -> Sent:
    headers = raw.headers
    routed = requested.startswith("auto")
    return Sent(
        headers["x-paretoroute-request-id"],
        endpoint,
        requested,
        200,
        stream,
        headers["x-paretoroute-model"],
        routed,
    )


def _failed(error: openai.APIStatusError, requested: str, chosen: str | None) -> Sent:
    body = error.response.json()["error"]
    return Sent(
        error.response.headers["x-paretoroute-request-id"],
        "chat",
        requested,
        error.status_code,
        False,
        chosen,
        requested.startswith("auto") and chosen is not None,
        body["code"] or body["type"],
    )


def send_mix(client: openai.OpenAI, upstream: FakeUpstreamState) -> list[Sent]:
    """Routed, named, streamed, legacy and failing requests; one ``Sent`` per request."""
    chat = client.chat.completions
    sent = [_ok(chat.with_raw_response.create(model="auto", messages=MESSAGES), "auto")]
    raw = chat.with_raw_response.create(model="auto:cheap", messages=MESSAGES)
    sent.append(_ok(raw, "auto:cheap"))
    raw = chat.with_raw_response.create(model="gpt-3.5-turbo-1106", messages=MESSAGES)
    sent.append(_ok(raw, "gpt-3.5-turbo-1106"))
    raw = chat.with_raw_response.create(model="auto", messages=MESSAGES, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in raw.parse()).strip() == REPLY
    sent.append(_ok(raw, "auto", stream=True))
    raw = client.completions.with_raw_response.create(model="auto", prompt="Say hi")
    sent.append(_ok(raw, "auto", endpoint="text"))
    try:
        chat.create(model="no-such-model", messages=MESSAGES)
    except openai.NotFoundError as error:
        sent.append(_failed(error, "no-such-model", None))
    try:
        chat.create(model="auto", messages=MESSAGES, temperature=5)
    except openai.BadRequestError as error:
        sent.append(_failed(error, "auto", None))
    upstream.fail_status = 500
    try:
        chat.create(model="gpt-4-1106-preview", messages=MESSAGES)
    except openai.APIStatusError as error:
        sent.append(_failed(error, "gpt-4-1106-preview", "gpt-4-1106-preview"))
    finally:
        upstream.fail_status = None
    assert len(sent) == 8, "every failing request must have failed"
    return sent


def read_rows(engine: Engine) -> dict[str, dict[str, Any]]:
    """Every logged row by request id."""
    with engine.connect() as connection:
        result = connection.execute(select(*RequestRow.__table__.columns)).mappings()
        return {row["id"]: dict(row) for row in result}


def _check_decision(row: dict[str, Any], sent: Sent, catalog: Catalog) -> None:
    if not sent.routed:
        assert row["predictions"] is None and row["preferences"] is None
        assert row["profile"] is None and row["decision_ms"] is None
        if sent.chosen is not None:
            assert row["decision_reason"] == "requested by name"
        return
    assert row["profile"] == (sent.requested.partition(":")[2] or "best")
    assert [p["model"] for p in row["predictions"]] == list(catalog.names())
    for entry in row["predictions"]:
        assert 0.0 <= entry["quality"] <= 1.0 and entry["cost_usd"] > 0
        assert entry["runtime_s"] > 0 and entry["completion_tokens"] > 0
        assert isinstance(entry["feasible"], bool)
    chosen = next(p for p in row["predictions"] if p["model"] == sent.chosen)
    assert chosen["feasible"] and chosen["reason"] is None
    assert row["decision_reason"] and row["decision_ms"] > 0
    assert row["preferences"]["cost_weight"] >= 0
    assert math.isclose(row["predicted_cost_usd"], chosen["cost_usd"])


def _check_usage(row: dict[str, Any], sent: Sent, catalog: Catalog, content: bool) -> None:
    if sent.status != 200 or sent.stream:
        # The fake upstream reports no usage in streams; failures have none.
        assert row["prompt_tokens"] is None and row["cost_usd"] is None
    else:
        assert (row["prompt_tokens"], row["completion_tokens"]) == (5, 6)
        model = catalog.models[catalog.positions[sent.chosen or ""]]
        expected = 5 * (model.input_usd_per_token or 0) + 6 * (model.output_usd_per_token or 0)
        assert math.isclose(row["cost_usd"], expected, rel_tol=1e-9)
    if not content:
        assert row["prompt_text"] is None and row["completion_text"] is None
    elif sent.status == 200:
        assert ("capital of France" in row["prompt_text"]) or row["prompt_text"] == "Say hi"
        assert row["completion_text"].strip() == REPLY


def check_rows(
    rows: dict[str, dict[str, Any]], sent: list[Sent], catalog: Catalog, *, content: bool
) -> None:
    """Exactly one complete row per sent request, saying what happened."""
    assert set(rows) == {s.request_id for s in sent}
    for item in sent:
        row = rows[item.request_id]
        assert row["created_at"].tzinfo is not None
        assert (row["endpoint"], row["requested_model"]) == (item.endpoint, item.requested)
        assert (row["status_code"], row["error_code"]) == (item.status, item.error_code)
        assert (row["stream"], row["chosen_model"]) == (item.stream, item.chosen)
        assert row["fallback_chain"] == [] and row["caller_key_id"] is None
        assert row["total_ms"] > 0
        if item.chosen is not None:
            assert 0 < row["upstream_ms"] <= row["total_ms"]
        _check_decision(row, item, catalog)
        _check_usage(row, item, catalog, content)


@contextmanager
def sqlite_write_lock(path: Path) -> Iterator[None]:
    """Hold SQLite's write lock on ``path``: the log's writer waits until it is released."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        connection.execute("BEGIN IMMEDIATE")
        yield
        connection.execute("ROLLBACK")
    finally:
        connection.close()
