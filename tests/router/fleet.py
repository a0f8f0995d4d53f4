"""A real ``paretoroute serve --workers N`` process on loopback, and traffic for it.

The catalog is the embedded default (replay upstream, no keys) plus two models on fake
upstreams the test runs: ``flaky`` answers 500, ``slow`` answers after the router's
upstream timeout. Every profile blocks both, so routed requests never reach them, and a
``budget`` profile has a spend target so the spend controllers export their state.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import yaml
from prometheus_client.parser import text_string_to_metric_families

from router.catalog import default_catalog_path
from tests.router.servers import FakeUpstreamState, fake_openai_app, free_port, live_server

ROOT = Path(__file__).resolve().parents[2]
FAKE_MODELS = ("flaky", "slow")
NAMED = "gpt-3.5-turbo-1106"
MAX_BODY_BYTES = 20_000
UPSTREAM_TIMEOUT_S = 1.0
START_TIMEOUT_S = 240.0

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@dataclass(frozen=True)
class Router:
    """A running router: its base URL, its metrics directory and its log file."""

    url: str
    metrics_dir: Path
    log: Path


def _fake_model(name: str, api_base: str) -> dict[str, Any]:
    return {
        "name": name,
        "litellm_model": f"openai/{name}",
        "api_base": api_base,
        "input_usd_per_token": 1e-6,
        "output_usd_per_token": 2e-6,
        "context_window": 8192,
    }


def write_catalog(path: Path, flaky_url: str, slow_url: str) -> Path:
    """The default catalog plus the two fake-upstream models and a spend-targeted profile."""
    document = yaml.safe_load(default_catalog_path().read_text())
    document["upstream_timeout_s"] = UPSTREAM_TIMEOUT_S
    document["models"] += [_fake_model("flaky", flaky_url), _fake_model("slow", slow_url)]
    document["profiles"]["budget"] = {"cost_weight": 50.0, "target_spend_usd_per_hour": 0.5}
    for profile in document["profiles"].values():
        profile["blocked_models"] = list(FAKE_MODELS)
    path.write_text(yaml.safe_dump(document))
    return path


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"router exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"router not ready in {START_TIMEOUT_S:.0f} s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def router_process(workdir: Path, workers: int = 2) -> Iterator[Router]:
    """Fake upstreams in this process, the router in a subprocess with ``workers``."""
    with ExitStack() as stack:
        flaky = stack.enter_context(
            live_server(fake_openai_app(FakeUpstreamState(fail_status=500)))
        )
        slow_state = FakeUpstreamState(delay_s=UPSTREAM_TIMEOUT_S + 2)
        slow = stack.enter_context(live_server(fake_openai_app(slow_state)))
        catalog = write_catalog(workdir / "catalog.yaml", flaky + "/v1", slow + "/v1")
        metrics_dir = workdir / "prometheus-multiproc"
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "HF_HUB_OFFLINE": "1",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_TELEMETRY": "False",
            "PARETOROUTE_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            # ``flaky`` fails on purpose, as often as the tests ask: its circuit must stay
            # closed, or which worker got how many failures would decide 502 or 503.
            "PARETOROUTE_RESILIENCE__BREAKER_MIN_CALLS": "1000000",
        }
        command = [sys.executable, "-m", "router.cli", "serve", "--workers", str(workers)]
        command += ["--port", str(port), "--catalog", str(catalog)]
        log = workdir / "router.log"
        with log.open("wb") as out:
            process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=out)
        stack.callback(_stop, process)
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, process, log)
        yield Router(url, metrics_dir, log)


def samples(text: str) -> Samples:
    """Every sample of a Prometheus exposition, keyed by name and sorted labels."""
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def total(found: Samples, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``."""
    return sum(
        value
        for (sample, keys), value in found.items()
        if sample == name and all((k, v) in keys for k, v in labels.items())
    )


Key = tuple[str, ...]


@dataclass
class Tally:
    """What the test sent and what came back: the counters /metrics must show."""

    requests: Counter[Key] = field(default_factory=Counter)  # (endpoint, model, outcome)
    errors: Counter[Key] = field(default_factory=Counter)  # (status, code, model)
    upstream_errors: Counter[Key] = field(default_factory=Counter)  # (model, class)
    tokens: Counter[Key] = field(default_factory=Counter)  # (model, kind)
    routed: int = 0
    streams: int = 0
    fallbacks: int = 0

    def add(self, other: Tally) -> None:
        """Fold in what another thread sent."""
        for name in ("requests", "errors", "upstream_errors", "tokens"):
            getattr(self, name).update(getattr(other, name))
        self.routed += other.routed
        self.streams += other.streams
        self.fallbacks += other.fallbacks

    def ok(self, endpoint: str, response: httpx.Response, usage: Any, routed: bool) -> None:
        assert response.status_code == 200, response.text
        model = response.headers["x-paretoroute-model"]
        self.requests[endpoint, model, "ok"] += 1
        self.routed += routed
        self.fallbacks += "x-paretoroute-fallback" in response.headers
        if usage:
            self.tokens[model, "prompt"] += usage["prompt_tokens"]
            self.tokens[model, "completion"] += usage["completion_tokens"]

    def failed(self, response: httpx.Response, status: int, model: str, kind: str = "") -> None:
        assert response.status_code == status, response.text
        code = response.json()["error"]["code"] or ""
        self.requests["chat", model, "error"] += 1
        self.errors[str(status), code, model] += 1
        if kind:
            self.upstream_errors[model, kind] += 1


MESSAGES = [{"role": "user", "content": "Name three prime numbers."}]
CHAT, TEXT = "/v1/chat/completions", "/v1/completions"


def _chat(client: httpx.Client, model: str, **extra: Any) -> httpx.Response:
    return client.post(CHAT, json={"model": model, "messages": MESSAGES, **extra})


def routed_chat(client: httpx.Client, tally: Tally) -> None:
    response = _chat(client, "auto")
    tally.ok("chat", response, response.json().get("usage"), routed=True)


def routed_text(client: httpx.Client, tally: Tally) -> None:
    response = client.post(TEXT, json={"model": "auto:cheap", "prompt": "Say hi."})
    tally.ok("text", response, response.json().get("usage"), routed=True)


def budget_chat(client: httpx.Client, tally: Tally) -> None:
    response = _chat(client, "auto:budget")
    tally.ok("chat", response, response.json().get("usage"), routed=True)


def fallback_chat(client: httpx.Client, tally: Tally) -> None:
    response = _chat(client, "auto", router={"max_cost_usd": 1e-12, "fallback_on_infeasible": True})
    tally.ok("chat", response, response.json().get("usage"), routed=True)


def named_chat(client: httpx.Client, tally: Tally) -> None:
    response = _chat(client, NAMED)
    tally.ok("chat", response, response.json().get("usage"), routed=False)


def streamed_chat(client: httpx.Client, tally: Tally) -> None:
    body = {"model": NAMED, "messages": MESSAGES, "stream": True}
    body["stream_options"] = {"include_usage": True}
    usage = None
    with client.stream("POST", CHAT, json=body) as response:
        for line in response.iter_lines():
            if line.startswith("data: {"):
                usage = orjson.loads(line[6:]).get("usage") or usage
    tally.ok("chat", response, usage, routed=False)
    tally.streams += 1


def unknown_model(client: httpx.Client, tally: Tally) -> None:
    tally.failed(_chat(client, "no-such-model"), 404, "")


def invalid_body(client: httpx.Client, tally: Tally) -> None:
    tally.failed(client.post(CHAT, json={"model": NAMED}), 400, NAMED)


def too_large(client: httpx.Client, tally: Tally) -> None:
    content = "x" * (MAX_BODY_BYTES + 10)
    response = client.post(
        CHAT, json={"model": NAMED, "messages": [{"role": "user", "content": content}]}
    )
    tally.failed(response, 413, "")


def upstream_500(client: httpx.Client, tally: Tally) -> None:
    tally.failed(_chat(client, "flaky"), 502, "flaky", "server_error")


def upstream_timeout(client: httpx.Client, tally: Tally) -> None:
    tally.failed(_chat(client, "slow"), 504, "slow", "timeout")


Send = Callable[[httpx.Client, Tally], None]
#: One round of every kind of request the router serves or refuses.
ROUND: tuple[Send, ...] = (
    routed_chat,
    routed_text,
    budget_chat,
    fallback_chat,
    named_chat,
    streamed_chat,
    unknown_model,
    invalid_body,
    too_large,
    upstream_500,
)
