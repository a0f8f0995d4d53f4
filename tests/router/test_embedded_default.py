"""The embedded default: no config, no keys, the RouterBench pool served by the replay upstream."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from router.app import create_app
from router.replay.data import ReplayDataset
from router.settings import Settings
from tests.router.servers import live_server


@pytest.fixture(scope="module")
def dataset() -> ReplayDataset:
    return ReplayDataset.load()


@pytest.fixture(scope="module")
def default_client() -> Iterator[openai.OpenAI]:
    # Settings() with nothing set: embedded catalog, shipped predictor, replay upstream.
    app = create_app(Settings())
    with live_server(app) as url:
        yield openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0)


def test_default_serves_with_the_shipped_predictor(default_client):
    ready = httpx.get(str(default_client.base_url).replace("/v1/", "/readyz")).json()
    assert ready["status"] == "ready" and ready["models"] == 11
    assert ready["scorer"].startswith("artifact:")


def test_benchmark_prompt_gets_recorded_answer(default_client, dataset: ReplayDataset):
    record = next(r for r in dataset.records if "gpt-3.5-turbo-1106" in r.responses)
    raw = default_client.chat.completions.with_raw_response.create(
        model="gpt-3.5-turbo-1106", messages=[{"role": "user", "content": record.prompt}]
    )
    completion = raw.parse()
    assert completion.model == "gpt-3.5-turbo-1106"
    assert completion.choices[0].message.content == record.responses["gpt-3.5-turbo-1106"]
    assert completion.usage is not None and completion.usage.completion_tokens > 0


def test_auto_on_unknown_prompt_is_labelled_simulation(default_client):
    raw = default_client.chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": "Plan a trip to the moon."}]
    )
    completion = raw.parse()
    text = completion.choices[0].message.content or ""
    chosen = raw.headers["x-paretoroute-model"]
    assert completion.model == chosen
    assert "simulated answer" in text and chosen in text and "Reason:" in text


def test_streaming_from_replay_ends_cleanly(default_client):
    stream = default_client.chat.completions.create(
        model="auto:cheap", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    chunks = list(stream)
    assert chunks and chunks[-1].choices[0].finish_reason in {"stop", "length"}
    assert "".join(c.choices[0].delta.content or "" for c in chunks)


def test_every_profile_in_default_catalog_routes(default_client):
    profiles = [m.id for m in default_client.models.list() if m.id.startswith("auto:")]
    assert {"auto:cheap", "auto:balanced", "auto:best", "auto:fast"} <= set(profiles)
    chosen = set()
    for profile in profiles:
        completion = default_client.chat.completions.create(
            model=profile, messages=[{"role": "user", "content": "What is 2 + 2?"}]
        )
        chosen.add(completion.model)
    assert len(chosen) >= 2  # the profiles really steer the choice
