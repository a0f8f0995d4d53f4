"""Honest error mapping, response caps and stream relay, through the live router and the
openai client.

One model (so no fallback hides the mapping) on a socket-level fake upstream. Each
upstream status class must come back as the right status and code, with no internal
address, traceback or credential in the message, and the openai SDK must not retry
what retrying cannot fix (upstream hits are counted). Chunks that arrive in one read
reach the caller in one HTTP chunk, in order, and a bad line after good ones in that read
still lets the good ones through.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11
import httpx
import openai
import orjson
import pytest

from predictors.prior import PriorScorer
from router.app import create_app
from router.catalog import parse_catalog
from router.resilience.config import ResilienceSettings
from router.settings import Settings
from tests.router.faulty import FaultState, FaultyUpstream, faulty_upstream
from tests.router.servers import live_server

MODEL = "gpt-4-1106-preview"
KEY = "sk-proj-Zq8Xw2Vb7Nc4Lm1Kj6Hg3Fd5Sa9Pq0Ow"
KEY_ENV = "PARETOROUTE_TEST_FAULTY_KEY"
MESSAGES = [{"role": "user", "content": "hello"}]
RESILIENCE = ResilienceSettings(
    connect_timeout_s=0.5,
    request_timeout_s=3.0,
    max_retries=1,
    backoff_base_s=0.01,
    backoff_max_s=0.02,
    retry_after_max_s=0.5,
    breaker_min_calls=1000,  # keep the circuit closed: this file tests the mapping
    max_response_bytes=1024 * 1024,
    max_sse_line_bytes=256 * 1024,
)


@dataclass
class Rig:
    url: str
    fake: FaultyUpstream

    @property
    def state(self) -> FaultState:
        return self.fake.state

    def client(self, retries: int = 2) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url + "/v1", api_key="caller-key", max_retries=retries)

    def post(self, **body: object) -> httpx.Response:
        return httpx.post(
            self.url + "/v1/chat/completions",
            json={"model": MODEL, "messages": MESSAGES, **body},
            timeout=20,
        )


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    monkey = pytest.MonkeyPatch()
    monkey.setenv(KEY_ENV, KEY)
    with faulty_upstream() as fake:
        document = {
            "upstream_timeout_s": 1.0,
            "models": [
                {
                    "name": MODEL,
                    "litellm_model": f"openai/{MODEL}",
                    "api_base": fake.url,
                    "api_key_env": KEY_ENV,
                    "input_usd_per_token": 1e-5,
                    "output_usd_per_token": 3e-5,
                    "context_window": 8192,
                }
            ],
        }
        catalog = parse_catalog(document, "errors-catalog")
        app = create_app(Settings(resilience=RESILIENCE), catalog=catalog, scorer=PriorScorer())
        with live_server(app) as url:
            yield Rig(url, fake)
    monkey.undo()


@pytest.fixture(autouse=True)
def _reset(rig: Rig) -> None:
    fresh = FaultState()
    names = ("mode", "status", "message", "retry_after", "fail_times", "echo_status", "hits")
    for name in names:
        setattr(rig.state, name, getattr(fresh, name))
    rig.state.auth.clear()
    rig.fake.listening(True)


def clean(message: str, rig: Rig) -> None:
    """No credential, address or traceback of the upstream side."""
    for leaked in (KEY, "127.0.0.1", str(rig.fake.port), "10.1.2.3", "8443"):
        assert leaked not in message, message
    assert "Traceback" not in message and 'File "' not in message


def error_of(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    return str(error["message"])


@pytest.mark.parametrize("status", [400, 404, 422])
def test_upstream_bad_request_is_400_and_not_retried(rig: Rig, status: int):
    rig.state.mode, rig.state.status = "status", status
    rig.state.message = f"'temperature' is invalid; see https://internal.example:9000/docs {KEY}"
    with pytest.raises(openai.BadRequestError) as caught:
        rig.client().chat.completions.create(model=MODEL, messages=MESSAGES)  # type: ignore[arg-type]
    assert rig.state.hits == 1, "retried a request the upstream refused"
    message = caught.value.message
    assert "'temperature' is invalid" in message
    clean(message, rig)
    assert "internal.example" not in message


def test_upstream_auth_error_is_502_never_retried(rig: Rig):
    rig.state.mode = "echo_auth"
    with pytest.raises(openai.APIStatusError) as caught:
        rig.client().chat.completions.create(model=MODEL, messages=MESSAGES)  # type: ignore[arg-type]
    assert caught.value.status_code == 502
    assert caught.value.code == "upstream_auth_error"
    assert "retry-after" not in caught.value.response.headers
    assert rig.state.hits == 1, "the router or the SDK retried an auth failure"
    assert rig.state.auth[-1] == f"Bearer {KEY}"  # the fake did see (and echo) the key
    clean(caught.value.message, rig)


def test_echoed_authorization_in_a_relayed_message_is_scrubbed(rig: Rig):
    rig.state.mode, rig.state.echo_status = "echo_auth", 400
    message = error_of(rig.post(), 400, "upstream_bad_request")
    assert "Invalid credentials" in message and "[redacted]" in message
    clean(message, rig)


def test_upstream_429_is_429_with_retry_after(rig: Rig):
    rig.state.mode, rig.state.status, rig.state.retry_after = "status", 429, "7"
    response = rig.post()
    message = error_of(response, 429, "upstream_rate_limited")
    assert response.headers["retry-after"] == "7"
    assert rig.state.hits == 1  # 7 s is over the 0.5 s cap: no retry, no fallback to wait for
    clean(message, rig)


def test_upstream_5xx_is_502_after_one_router_retry(rig: Rig):
    rig.state.mode, rig.state.status = "status", 503
    rig.state.message = "backend 10.1.2.3:8443 is down"
    message = error_of(rig.post(), 502, "upstream_error")
    assert rig.state.hits == 2
    assert "backend" in message
    clean(message, rig)


def test_upstream_timeout_is_504(rig: Rig):
    rig.state.mode, rig.state.hang_s = "hang", 3.0
    message = error_of(rig.post(), 504, "upstream_timeout")
    assert rig.state.hits == 1  # a timeout is not retried on the same model
    clean(message, rig)


def test_unreachable_upstream_names_no_host_or_port(rig: Rig):
    rig.fake.listening(False)
    message = error_of(rig.post(), 502, "upstream_unreachable")
    assert MODEL in message
    clean(message, rig)


def test_oversized_body_is_502_without_reading_it_all(rig: Rig):
    rig.state.mode, rig.state.big_bytes, rig.state.sent_bytes = "big_body", 64 << 20, 0
    error_of(rig.post(), 502, "upstream_response_too_large")
    assert rig.state.sent_bytes < 32 << 20, "the router kept reading past its cap"


def test_oversized_sse_line_ends_with_error_event_and_done(rig: Rig):
    rig.state.mode, rig.state.big_bytes = "long_line", 4 << 20
    response = rig.post(stream=True)
    assert response.status_code == 200
    events = [line for line in response.text.split("\n\n") if line]
    assert "first" in events[0]
    assert "upstream_response_too_large" in events[-2]
    assert events[-1] == "data: [DONE]"


def test_bad_usage_counts_are_ignored_not_a_500(rig: Rig):
    rig.state.mode = "bad_usage"
    response = rig.post()
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "hi"


def http_chunks(url: str, body: dict[str, object]) -> list[bytes]:
    """A chat completion's response body, as the HTTP chunks the router framed it in."""
    address = urlsplit(url)
    payload = orjson.dumps(body)
    client = h11.Connection(h11.CLIENT)
    request = h11.Request(
        method="POST",
        target="/v1/chat/completions",
        headers=[
            ("host", address.netloc),
            ("content-type", "application/json"),
            ("content-length", str(len(payload))),
        ],
    )
    frames: list[bytes] = []
    current = b""
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(
            client.send(request)
            + client.send(h11.Data(data=payload))
            + client.send(h11.EndOfMessage())
        )
        while True:
            event = client.next_event()
            if event is h11.NEED_DATA:
                client.receive_data(sock.recv(65536))
            elif isinstance(event, h11.Response):
                assert event.status_code == 200, event
            elif isinstance(event, h11.Data):
                current += event.data
                if event.chunk_end:
                    frames.append(current)
                    current = b""
            elif isinstance(event, h11.EndOfMessage):
                return frames


def test_chunks_of_one_read_reach_the_caller_together_and_in_order(rig: Rig):
    rig.state.mode, rig.state.burst = "burst", 20
    frames = http_chunks(rig.url, {"model": MODEL, "messages": MESSAGES, "stream": True})
    events = [event for frame in frames for event in frame.split(b"\n\n") if event]
    assert len(events) == 21 and events[-1] == b"data: [DONE]"
    texts = [orjson.loads(event[6:])["choices"][0]["delta"]["content"] for event in events[:-1]]
    assert "".join(texts) == " ".join(f"w{index}" for index in range(20))
    # One upstream write of 20 events: one chunk for them, one for [DONE] (21 if relayed
    # event by event). A read split by the kernel may add one.
    assert len(frames) <= 3, [len(frame) for frame in frames]
    stream = rig.client().chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    assert "".join(chunk.choices[0].delta.content or "" for chunk in stream) == "".join(texts)


def test_a_bad_line_after_good_ones_in_one_read_relays_the_good_ones_first(rig: Rig):
    rig.state.mode = "burst_bad_line"
    response = rig.post(stream=True)
    assert response.status_code == 200
    events = [event for event in response.text.split("\n\n") if event]
    contents = [orjson.loads(event[6:])["choices"][0]["delta"]["content"] for event in events[:2]]
    assert contents == ["one ", "two "]
    error = orjson.loads(events[2][6:])["error"]
    assert "not JSON" in error["message"], error
    clean(error["message"], rig)
    assert events[3:] == ["data: [DONE]"]
