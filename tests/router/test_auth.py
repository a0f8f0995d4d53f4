"""Callers with keys, through the openai client against a live router on loopback:
401 / 403 / 429 / budget paths, admin endpoints, per-key spend controllers."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from predictors.prior import PriorScorer
from router.app import create_app
from router.catalog import Catalog
from router.settings import Settings
from tests.router.servers import FakeUpstreamState, live_server

MASTER = "master-test-secret-0123456789"
PROMPT = [{"role": "user", "content": "Say hello."}]


@pytest.fixture(scope="module")
def auth_url(catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(master_key=MASTER, data_dir=tmp_path_factory.mktemp("data"))
    with live_server(create_app(settings, catalog=catalog, scorer=PriorScorer())) as url:
        yield url


@pytest.fixture
def admin(auth_url: str) -> Iterator[httpx.Client]:
    headers = {"authorization": f"Bearer {MASTER}"}
    with httpx.Client(base_url=auth_url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
def new_key(admin: httpx.Client) -> Callable[..., dict[str, Any]]:
    def create(**limits: Any) -> dict[str, Any]:
        response = admin.post("/admin/keys", json={"name": "test", **limits})
        assert response.status_code == 200, response.text
        return dict(response.json())

    return create


def caller(auth_url: str, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=auth_url + "/v1", api_key=key, max_retries=0)


def metric(auth_url: str, name: str, labels: dict[str, str] | None = None) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(auth_url + "/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and (labels or {}).items() <= sample.labels.items():
                return float(sample.value)
    return 0.0


def test_missing_or_wrong_key_is_401(auth_url: str) -> None:
    before = metric(auth_url, "paretoroute_auth_failures_total", {"reason": "invalid"})
    for key in ("wrong", "pr-sk-not-a-real-key"):
        with pytest.raises(openai.AuthenticationError) as raised:
            caller(auth_url, key).chat.completions.create(model="auto", messages=PROMPT)
        error = raised.value.body
        assert isinstance(error, dict)
        assert error["code"] == "invalid_api_key"
        assert error["type"] == "invalid_request_error"
        assert key not in str(error)
    missing = httpx.post(auth_url + "/v1/chat/completions", json={"messages": PROMPT})
    assert missing.status_code == 401
    assert "didn't provide an API key" in missing.json()["error"]["message"]
    assert httpx.get(auth_url + "/v1/models").status_code == 401
    assert httpx.post(auth_url + "/v1/route", json={"messages": PROMPT}).status_code == 401
    after = metric(auth_url, "paretoroute_auth_failures_total", {"reason": "invalid"})
    assert after == before + 2
    assert httpx.get(auth_url + "/healthz").status_code == 200


def test_keys_are_created_once_listed_shown_and_revoked(
    auth_url: str, admin: httpx.Client, new_key: Callable[..., dict[str, Any]]
) -> None:
    created = new_key(rpm=100, allowed_models=["gpt-3.5-turbo-1106"])
    secret = created["key"]
    assert secret.startswith("pr-sk-") and len(secret) > 40
    assert created["hint"] == "pr-sk-..." + secret[-4:]
    reply = caller(auth_url, secret).chat.completions.create(
        model="gpt-3.5-turbo-1106", messages=PROMPT
    )
    assert reply.choices[0].message.content
    assert caller(auth_url, secret).models.list().data
    listed = admin.get("/admin/keys").json()["data"]
    assert created["id"] in [k["id"] for k in listed]
    assert all(k["key"] is None for k in listed)
    shown = admin.get(f"/admin/keys/{created['id']}").json()
    assert shown["limits"]["rpm"] == 100 and shown["key"] is None
    assert secret not in admin.get("/admin/keys").text
    revoked = admin.delete(f"/admin/keys/{created['id']}").json()
    assert revoked["revoked_at"] is not None
    with pytest.raises(openai.AuthenticationError):
        caller(auth_url, secret).chat.completions.create(model="auto", messages=PROMPT)
    assert admin.get("/admin/keys/key_nope").status_code == 404


def test_admin_needs_the_master_key(auth_url: str, new_key: Callable[..., dict[str, Any]]) -> None:
    secret = new_key()["key"]
    for headers in ({}, {"authorization": f"Bearer {secret}"}):
        response = httpx.post(auth_url + "/admin/keys", json={"name": "x"}, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"


def test_model_not_allowed_is_403_and_auto_stays_in_the_allowed_pool(
    auth_url: str, upstream_state: FakeUpstreamState, new_key: Callable[..., dict[str, Any]]
) -> None:
    key = new_key(allowed_models=["gpt-3.5-turbo-1106"], allowed_profiles=["best", "gpt4only"])
    client = caller(auth_url, key["key"])
    denied = {"reason": "model"}
    before = metric(auth_url, "paretoroute_auth_failures_total", denied)
    with pytest.raises(openai.PermissionDeniedError) as raised:
        client.chat.completions.create(model="gpt-4-1106-preview", messages=PROMPT)
    assert raised.value.body["code"] == "model_not_allowed"  # type: ignore[index]
    # "best" alone would pick GPT-4; the key narrows the pool to what it may use.
    response = client.chat.completions.with_raw_response.create(model="auto", messages=PROMPT)
    assert response.headers["x-paretoroute-model"] == "gpt-3.5-turbo-1106"
    assert upstream_state.requests[-1]["model"] == "gpt-3.5-turbo-1106"
    with pytest.raises(openai.PermissionDeniedError):  # the profile allows only GPT-4
        client.chat.completions.create(model="auto:gpt4only", messages=PROMPT)
    with pytest.raises(openai.PermissionDeniedError):  # profile not allowed
        client.chat.completions.create(model="auto:cheap", messages=PROMPT)
    route = httpx.post(
        auth_url + "/v1/route",
        json={"messages": PROMPT},
        headers={"authorization": f"Bearer {key['key']}"},
    )
    assert route.json()["model"] == "gpt-3.5-turbo-1106"
    assert route.json()["preferences"]["allowed_models"] == ["gpt-3.5-turbo-1106"]
    # The caller's own list is intersected with the key's, never widened by it.
    with pytest.raises(openai.PermissionDeniedError) as raised:
        client.chat.completions.create(
            model="auto",
            messages=PROMPT,
            extra_body={"router": {"allowed_models": ["gpt-4-1106-preview"]}},
        )
    assert raised.value.body["param"] == "router.allowed_models"  # type: ignore[index]
    assert metric(auth_url, "paretoroute_auth_failures_total", denied) == before + 4


def test_requests_per_minute_is_429_with_retry_after(
    auth_url: str, new_key: Callable[..., dict[str, Any]]
) -> None:
    client = caller(auth_url, new_key(rpm=2)["key"])
    for _ in range(2):
        client.chat.completions.create(model="gpt-3.5-turbo-1106", messages=PROMPT)
    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(model="gpt-3.5-turbo-1106", messages=PROMPT)
    assert raised.value.body["code"] == "rate_limit_exceeded"  # type: ignore[index]
    assert 1 <= int(raised.value.response.headers["retry-after"]) <= 60
    assert metric(auth_url, "paretoroute_limit_rejections_total", {"reason": "rpm"}) >= 1


def test_tokens_per_minute(auth_url: str, new_key: Callable[..., dict[str, Any]]) -> None:
    client = caller(auth_url, new_key(tpm=10)["key"])
    client.chat.completions.create(model="gpt-3.5-turbo-1106", messages=PROMPT)  # 11 tokens
    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(model="gpt-3.5-turbo-1106", messages=PROMPT)
    assert "tokens per minute" in raised.value.message


def test_parallel_requests_over_the_limit_are_429(
    auth_url: str, upstream_state: FakeUpstreamState, new_key: Callable[..., dict[str, Any]]
) -> None:
    client = caller(auth_url, new_key(max_parallel=1)["key"])
    upstream_state.delay_s = 0.6
    outcomes: list[str] = []

    def call() -> None:
        try:
            client.chat.completions.create(model="gpt-3.5-turbo-1106", messages=PROMPT)
            outcomes.append("ok")
        except openai.RateLimitError as error:
            assert error.response.headers["retry-after"] == "1"
            outcomes.append("429")

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
        time.sleep(0.1)
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(outcomes) == ["429", "429", "ok"]
    upstream_state.delay_s = 0.0
    client.chat.completions.create(model="gpt-3.5-turbo-1106", messages=PROMPT)  # slot freed


def test_budget_exceeded(auth_url: str, admin: httpx.Client, new_key: Callable[..., Any]) -> None:
    request = {"model": "gpt-3.5-turbo-1106", "prompt": "hi", "max_tokens": 4}
    probe = caller(auth_url, MASTER).completions.with_raw_response.create(**request)
    predicted = float(probe.headers["x-paretoroute-predicted-cost-usd"])
    # gpt-3.5: 1e-6 in + 2e-6 out per token; the fake upstream reports 5 + 6 tokens.
    served = 5 * 1e-6 + 6 * 2e-6
    assert served < predicted
    # Room for one request's predicted cost, but not for a second after the first's spend.
    key = new_key(budget_usd_per_day=1.0, budget_usd_per_month=predicted + served / 2)
    client = caller(auth_url, key["key"])
    client.completions.create(**request)
    shown = admin.get(f"/admin/keys/{key['id']}").json()["spent_usd"]
    assert list(shown.values()) == pytest.approx([served, served])
    with pytest.raises(openai.RateLimitError) as raised:
        client.completions.create(**request)
    assert raised.value.body["code"] == "budget_exceeded"  # type: ignore[index]
    assert raised.value.body["type"] == "insufficient_quota"  # type: ignore[index]
    assert "monthly" in raised.value.message
    assert int(raised.value.response.headers["retry-after"]) > 0
    assert metric(auth_url, "paretoroute_limit_rejections_total", {"reason": "budget_month"}) >= 1


def test_a_predicted_cost_over_the_budget_is_refused_up_front(
    auth_url: str, upstream_state: FakeUpstreamState, new_key: Callable[..., Any]
) -> None:
    client = caller(auth_url, new_key(budget_usd_per_day=1e-7)["key"])
    seen = len(upstream_state.requests)
    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(model="gpt-4-1106-preview", messages=PROMPT)
    assert raised.value.body["code"] == "budget_exceeded"  # type: ignore[index]
    assert len(upstream_state.requests) == seen  # no upstream call was made


def _spend_target(url: str, profile: str) -> float:
    return metric(url, "paretoroute_spend_target_usd_per_hour", {"profile": profile})


def test_only_the_master_key_moves_a_shared_spend_controller(
    auth_url: str, new_key: Callable[..., Any]
) -> None:
    key_client = caller(auth_url, new_key()["key"])
    router = {"target_spend_usd_per_hour": 0.0001}
    key_client.chat.completions.create(model="auto", messages=PROMPT, extra_body={"router": router})
    assert _spend_target(auth_url, "best") == 0.0  # the key's own controller, not exported
    master = caller(auth_url, MASTER)
    master.chat.completions.create(
        model="auto", messages=PROMPT, extra_body={"router": {"target_spend_usd_per_hour": 7.0}}
    )
    assert _spend_target(auth_url, "best") == 7.0
    key_client.chat.completions.create(model="auto", messages=PROMPT, extra_body={"router": router})
    assert _spend_target(auth_url, "best") == 7.0


def test_anonymous_callers_cannot_overwrite_a_catalog_target(
    catalog: Catalog, tmp_path: Path
) -> None:
    from dataclasses import replace

    profiles = dict(catalog.profiles)
    profiles["capped"] = profiles["best"].model_copy(update={"target_spend_usd_per_hour": 5.0})
    capped = replace(catalog, profiles=profiles)
    app = create_app(Settings(data_dir=tmp_path), catalog=capped, scorer=PriorScorer())
    with live_server(app) as url:
        client = caller(url, "anything")
        for target in (0.0001, 3.0):
            client.chat.completions.create(
                model="auto:capped",
                messages=PROMPT,
                extra_body={"router": {"target_spend_usd_per_hour": target}},
            )
            assert _spend_target(url, "capped") == 5.0
        client.chat.completions.create(
            model="auto:cheap",
            messages=PROMPT,
            extra_body={"router": {"target_spend_usd_per_hour": 3.0}},
        )
        assert _spend_target(url, "cheap") == 3.0  # no catalog target: as before
        admin = httpx.post(url + "/admin/keys", json={"name": "x"})
        assert admin.status_code == 403
        assert admin.json()["error"]["code"] == "admin_disabled"
    # Auth off: the shared database (the request log's, whose migrations make the key
    # table) never gets a key.
    database = tmp_path / "paretoroute.db"
    if database.exists():
        import sqlite3

        with sqlite3.connect(database) as connection:
            keys = connection.execute("select count(*) from paretoroute_api_keys").fetchone()
        assert keys == (0,)


def test_keys_never_reach_logs_or_metrics(
    auth_url: str, new_key: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = new_key(rpm=1)["key"]
    client = caller(auth_url, secret)
    client.chat.completions.create(model="auto", messages=PROMPT)
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="auto", messages=PROMPT)
    with pytest.raises(openai.AuthenticationError):
        caller(auth_url, secret + "x").chat.completions.create(model="auto", messages=PROMPT)
    assert secret not in httpx.get(auth_url + "/metrics").text
    assert secret[6:20] not in caplog.text
    assert MASTER not in caplog.text


def test_keys_cli_manages_the_same_database_the_server_reads(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from typer.testing import CliRunner

    from router.cli import app as cli

    monkeypatch.setenv("PARETOROUTE_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    made = runner.invoke(cli, ["keys", "create", "team-a", "--rpm", "5", "--budget-day", "2"])
    assert made.exit_code == 0, made.output
    created = json.loads(made.output)
    assert created["key"].startswith("pr-sk-") and created["rpm"] == 5
    listed = runner.invoke(cli, ["keys", "list"])
    assert created["id"] in listed.output and created["key"] not in listed.output
    shown = json.loads(runner.invoke(cli, ["keys", "show", created["id"]]).output)
    assert shown["budget_usd_per_day"] == 2.0 and "key" not in shown
    settings = Settings(master_key=MASTER, data_dir=tmp_path, key_cache_s=0)
    with live_server(create_app(settings, catalog=catalog, scorer=PriorScorer())) as url:
        client = caller(url, created["key"])
        assert client.chat.completions.create(model="auto", messages=PROMPT).choices
        assert runner.invoke(cli, ["keys", "revoke", created["id"]]).exit_code == 0
        with pytest.raises(openai.AuthenticationError):
            client.chat.completions.create(model="auto", messages=PROMPT)
    assert runner.invoke(cli, ["keys", "show", "key_missing"]).exit_code == 1


def test_streams_are_charged_and_failures_are_not(
    auth_url: str,
    admin: httpx.Client,
    upstream_state: FakeUpstreamState,
    new_key: Callable[..., Any],
) -> None:
    key = new_key(budget_usd_per_day=1.0)
    headers = {"authorization": f"Bearer {key['key']}"}
    body = {"model": "gpt-3.5-turbo-1106", "messages": PROMPT, "stream": True}
    with httpx.stream(
        "POST", auth_url + "/v1/chat/completions", json=body, headers=headers
    ) as response:
        assert response.status_code == 200
        predicted = float(response.headers["x-paretoroute-predicted-cost-usd"])
        next(response.iter_lines())  # the caller leaves after the first event
    time.sleep(0.3)
    spent = admin.get(f"/admin/keys/{key['id']}").json()["spent_usd"]
    # The fake stream reports no usage: the predicted cost is charged.
    assert list(spent.values()) == [pytest.approx(predicted, abs=1e-8)]
    upstream_state.fail_status = 500
    failed = httpx.post(
        auth_url + "/v1/chat/completions", json={**body, "stream": False}, headers=headers
    )
    assert failed.status_code == 502
    spent_after = admin.get(f"/admin/keys/{key['id']}").json()["spent_usd"]
    assert spent_after == spent
