"""The replay upstream: dataset lookup, OpenAI wire format, errors, a real server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import orjson
import pytest
import uvicorn

from predictors.tokens import count_message_tokens, count_tokens
from router.replay import ReplayDataset, ReplayRecord, create_replay_app
from router.replay.answers import SIMULATED_PREFIX

PROMPT = "Which planet is largest?\nA) Mars\nB) Jupiter\nAnswer:"
CODE_PROMPT = "Write a function that adds two numbers."
CODE_ANSWER = "Here is the function:\n\n```python\ndef add(a, b):\n    return a + b\n```\n"


def make_record(prompt: str, responses: dict[str, str], record_id: str = "r") -> ReplayRecord:
    return ReplayRecord(
        id=record_id,
        task="test",
        prompt=prompt,
        responses=responses,
        scores=dict.fromkeys(responses, 1),
        cost_usd=dict.fromkeys(responses, 1e-4),
        prompt_tokens=count_tokens(prompt),
        completion_tokens={m: count_tokens(t) for m, t in responses.items()},
    )


@pytest.fixture
def dataset() -> ReplayDataset:
    return ReplayDataset(
        [
            make_record(PROMPT, {"big": "B", "small": "A"}, "q1"),
            make_record(CODE_PROMPT, {"big": CODE_ANSWER}, "q2"),
        ]
    )


@pytest.fixture
def post(dataset: ReplayDataset) -> Callable[..., httpx.Response]:
    transport = httpx.ASGITransport(app=create_replay_app(dataset))

    async def _post(path: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        content = body if isinstance(body, bytes) else orjson.dumps(body)
        async with httpx.AsyncClient(transport=transport, base_url="http://replay") as client:
            return await client.post(path, content=content, headers=headers or {})

    return _post


def chat(model: str, content: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": content}], **extra}


def sse_payloads(text: str) -> list[str]:
    return [line[len("data: ") :] for line in text.split("\n\n") if line.startswith("data: ")]


# --- the packaged dataset -------------------------------------------------------------


def test_packaged_dataset_indexes_every_prompt_with_consistent_counts() -> None:
    packaged = ReplayDataset.load()
    assert len(packaged) > 2000
    assert len(packaged.models) == 11
    for record in packaged.records[::97]:
        assert packaged.lookup(f"  {record.prompt}\n") is record
        assert record.prompt_tokens == count_tokens(record.prompt)
        for model, text in record.responses.items():
            assert record.completion_tokens[model] == count_tokens(text)
            assert record.scores[model] in (0, 1)
            assert record.cost_usd[model] > 0


def test_lookup_uses_last_user_message(dataset: ReplayDataset) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "something else"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [{"type": "text", "text": PROMPT + "  "}]},
    ]
    record = dataset.lookup_messages(messages)
    assert record is not None and record.id == "q1"
    assert dataset.lookup("Which planet") is None


# --- chat completions -------------------------------------------------------------------


async def test_known_prompt_returns_recorded_answer_and_usage(post, dataset) -> None:
    response = await post("/v1/chat/completions", chat("openai/big", CODE_PROMPT))
    assert response.status_code == 200
    body = response.json()
    record = dataset.lookup(CODE_PROMPT)
    assert body["object"] == "chat.completion"
    assert body["model"] == "big"
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": CODE_ANSWER,
        "refusal": None,
    }
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["prompt_tokens"] == record.prompt_tokens
    assert body["usage"]["completion_tokens"] == record.completion_tokens["big"]
    assert body["usage"]["total_tokens"] == record.prompt_tokens + count_tokens(CODE_ANSWER)


async def test_unknown_prompt_gets_labelled_simulated_answer_with_reason(post) -> None:
    headers = {"x-paretoroute-reason": "cheapest model above min_quality"}
    response = await post("/v1/chat/completions", chat("small", "Hello there"), headers)
    body = response.json()
    text = body["choices"][0]["message"]["content"]
    assert text.startswith(SIMULATED_PREFIX)
    assert "Model small was chosen" in text
    assert "cheapest model above min_quality" in text
    messages = [{"role": "user", "content": "Hello there"}]
    assert body["usage"]["prompt_tokens"] == count_message_tokens(messages)
    assert body["usage"]["completion_tokens"] == count_tokens(text)


async def test_known_prompt_without_recording_for_model_is_simulated(post) -> None:
    response = await post("/v1/chat/completions", chat("small", CODE_PROMPT))
    text = response.json()["choices"][0]["message"]["content"]
    assert text.startswith(SIMULATED_PREFIX)
    assert "no recorded answer from small" in text


async def test_n_choices_and_usage_sum(post, dataset) -> None:
    response = await post("/v1/chat/completions", chat("big", CODE_PROMPT, n=3))
    body = response.json()
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert {c["message"]["content"] for c in body["choices"]} == {CODE_ANSWER}
    record = dataset.lookup(CODE_PROMPT)
    assert body["usage"]["prompt_tokens"] == record.prompt_tokens
    assert body["usage"]["completion_tokens"] == 3 * record.completion_tokens["big"]


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
async def test_max_tokens_truncates_with_length_finish(post, field) -> None:
    response = await post("/v1/chat/completions", chat("big", CODE_PROMPT, **{field: 4}))
    choice = response.json()["choices"][0]
    assert choice["finish_reason"] == "length"
    assert CODE_ANSWER.startswith(choice["message"]["content"])
    assert count_tokens(choice["message"]["content"]) <= 4
    assert response.json()["usage"]["completion_tokens"] == 4


async def test_stream_has_role_content_finish_usage_and_done(post) -> None:
    body = chat("big", CODE_PROMPT, stream=True, stream_options={"include_usage": True})
    response = await post("/v1/chat/completions", body)
    assert response.headers["content-type"].startswith("text/event-stream")
    payloads = sse_payloads(response.text)
    assert payloads[-1] == "[DONE]"
    chunks = [orjson.loads(p) for p in payloads[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks[:-1])
    assert content == CODE_ANSWER
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == count_tokens(CODE_ANSWER)


async def test_stream_without_usage_option_has_no_usage_chunk(post) -> None:
    response = await post("/v1/chat/completions", chat("big", PROMPT, stream=True))
    chunks = [orjson.loads(p) for p in sse_payloads(response.text)[:-1]]
    assert all("usage" not in c for c in chunks)
    assert all(c["choices"] for c in chunks)


# --- legacy completions and models --------------------------------------------------------


async def test_completions_with_string_and_list_prompts(post, dataset) -> None:
    single = (await post("/v1/completions", {"model": "big", "prompt": PROMPT})).json()
    assert single["object"] == "text_completion"
    assert single["choices"][0]["text"] == "B"
    both = (await post("/v1/completions", {"model": "big", "prompt": [PROMPT, "unseen"]})).json()
    assert both["choices"][0]["text"] == "B"
    assert both["choices"][1]["text"].startswith(SIMULATED_PREFIX)
    expected_prompt = dataset.lookup(PROMPT).prompt_tokens + count_tokens("unseen")
    assert both["usage"]["prompt_tokens"] == expected_prompt


async def test_completions_stream_reassembles_text(post) -> None:
    response = await post(
        "/v1/completions", {"model": "big", "prompt": CODE_PROMPT, "stream": True}
    )
    chunks = [orjson.loads(p) for p in sse_payloads(response.text)[:-1]]
    assert "".join(c["choices"][0]["text"] for c in chunks) == CODE_ANSWER
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_models_lists_dataset_models(dataset) -> None:
    transport = httpx.ASGITransport(app=create_replay_app(dataset))
    async with httpx.AsyncClient(transport=transport, base_url="http://replay") as client:
        body = (await client.get("/v1/models")).json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == list(dataset.models)


# --- errors -----------------------------------------------------------------------------

BAD_REQUESTS = [
    pytest.param(b"{not json", 400, None, id="malformed-json"),
    pytest.param(b"[1, 2]", 400, None, id="not-an-object"),
    pytest.param({"model": "big"}, 400, "messages", id="missing-messages"),
    pytest.param({"model": "big", "messages": []}, 400, "messages", id="empty-messages"),
    pytest.param({"model": "big", "messages": ["hi"]}, 400, "messages", id="message-not-object"),
    pytest.param(chat("", "hi"), 400, "model", id="empty-model"),
    pytest.param(chat("nope", "hi"), 404, "model", id="unknown-model"),
    pytest.param(chat("big", "hi", n="2"), 400, "n", id="n-string"),
    pytest.param(chat("big", "hi", n=0), 400, "n", id="n-zero"),
    pytest.param(chat("big", "hi", max_tokens=True), 400, "max_tokens", id="max-tokens-bool"),
    pytest.param(chat("big", "hi", stream="yes"), 400, "stream", id="stream-string"),
    pytest.param(chat("big", "hi", stream_options=1), 400, "stream_options", id="bad-options"),
]


@pytest.mark.parametrize(("body", "status", "param"), BAD_REQUESTS)
async def test_bad_requests_get_openai_error_shape(post, body, status, param) -> None:
    response = await post("/v1/chat/completions", body)
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] == param
    assert error["message"]


async def test_bad_completions_prompt_and_unknown_route(post) -> None:
    response = await post("/v1/completions", {"model": "big", "prompt": [1]})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "prompt"
    missing = await post("/v1/embeddings", {"model": "big"})
    assert missing.status_code == 404
    assert set(missing.json()["error"]) == {"message", "type", "param", "code"}


# --- a real server with the official client -----------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_url(dataset: ReplayDataset) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(
        create_replay_app(dataset), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "replay server did not start"
    yield f"http://127.0.0.1:{port}/v1"
    server.should_exit = True
    thread.join(timeout=10)


def test_openai_client_sync_and_stream_against_live_server(live_url) -> None:
    client = openai.OpenAI(base_url=live_url, api_key="unused", max_retries=0)
    completion = client.chat.completions.create(
        model="big", messages=[{"role": "user", "content": CODE_PROMPT}]
    )
    assert completion.choices[0].message.content == CODE_ANSWER
    assert completion.usage is not None
    assert completion.usage.completion_tokens == count_tokens(CODE_ANSWER)
    stream = client.chat.completions.create(
        model="openai/big",
        messages=[{"role": "user", "content": CODE_PROMPT}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == CODE_ANSWER
    assert chunks[-1].usage is not None
    assert [m.id for m in client.models.list()] == ["big", "small"]
    client.close()


async def test_async_openai_client_against_live_server(live_url) -> None:
    async with openai.AsyncOpenAI(base_url=live_url, api_key="unused", max_retries=0) as client:
        with pytest.raises(openai.NotFoundError):
            await client.chat.completions.create(
                model="missing", messages=[{"role": "user", "content": "hi"}]
            )
        completion = await client.completions.create(model="small", prompt=PROMPT)
    assert completion.choices[0].text == "A"
