"""Server limits against a live router: slow bodies and headers are cut off, requests
beyond the concurrency cap get 503 with retry-after, health stays reachable."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import orjson
import pytest
import uvicorn

from predictors.prior import PriorScorer
from router.app import create_app
from router.catalog import Catalog
from router.head_write import server_protocol
from router.settings import Settings
from tests.router.servers import FakeUpstreamState, free_port, live_server

JSON = {"content-type": "application/json"}
BODY = orjson.dumps({"model": "auto", "messages": [{"role": "user", "content": "hello"}]})


def _head(port: int, length: int) -> bytes:
    return (
        f"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n"
        f"content-type: application/json\r\ncontent-length: {length}\r\n\r\n"
    ).encode()


def _read_all(sock: socket.socket, limit_s: float) -> bytes:
    sock.settimeout(limit_s)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        pass
    return data


@contextmanager
def uvicorn_server(app: object, header_timeout_s: float) -> Iterator[int]:
    """The app under uvicorn with the protocol of ``paretoroute serve``."""
    port = free_port()
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
        log_level="warning",
        http=server_protocol(header_timeout_s),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def limited(catalog: Catalog) -> Iterator[int]:
    settings = Settings(body_timeout_s=2.0, max_concurrent_requests=2)
    app = create_app(settings, catalog=catalog, scorer=PriorScorer())
    with uvicorn_server(app, header_timeout_s=1.5) as port:
        yield port


def test_a_trickled_body_is_cut_off(limited: int) -> None:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", limited)) as sock:
        sock.sendall(_head(limited, len(BODY)))
        answer = b""
        for byte in BODY[:10]:  # one byte every 3 s would take 3 minutes for this body
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            # Longer than the 2-s deadline: a byte sent just as the server answers and
            # closes would make it reset the connection, losing the answer unread.
            answer = _read_all(sock, 3.0)
            if answer:
                break
    elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b'"code":"request_timeout"' in answer
    assert elapsed < 6.0
    metrics = httpx.get(f"http://127.0.0.1:{limited}/metrics").text
    assert "paretoroute_read_timeouts_total 1.0" in metrics


def _closed_by_peer(sock: socket.socket, wait_s: float) -> bool:
    sock.settimeout(wait_s)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def test_slow_headers_are_cut_off(limited: int) -> None:
    started = time.monotonic()
    closed = False
    with socket.create_connection(("127.0.0.1", limited)) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\n")
        for _ in range(10):  # a header line every 0.5 s: never complete within 1.5 s
            try:
                sock.sendall(b"x-slow: 1\r\n")
            except OSError:
                closed = True
                break
            if _closed_by_peer(sock, 0.5):
                closed = True
                break
    assert closed
    assert time.monotonic() - started < 4.0


def test_concurrency_cap_is_503_with_retry_after(
    limited: int, upstream_state: FakeUpstreamState
) -> None:
    upstream_state.delay_s = 1.0
    base = f"http://127.0.0.1:{limited}"
    statuses: list[int] = []
    retry_after: list[str | None] = []

    def call() -> None:
        response = httpx.post(base + "/v1/chat/completions", content=BODY, headers=JSON, timeout=10)
        statuses.append(response.status_code)
        if response.status_code == 503:
            assert response.json()["error"]["code"] == "server_overloaded"
            retry_after.append(response.headers.get("retry-after"))

    threads = [threading.Thread(target=call) for _ in range(5)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    assert httpx.get(base + "/healthz").status_code == 200  # not counted against the cap
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(statuses) == [200, 200, 503, 503, 503]
    assert retry_after == ["1", "1", "1"]
    metrics = httpx.get(base + "/metrics").text
    assert "paretoroute_concurrency_rejections_total 3.0" in metrics


def test_the_server_protocol_pickles_for_worker_processes() -> None:
    import pickle

    restored = pickle.loads(pickle.dumps(server_protocol(2.5)))
    assert restored.keywords == {"header_timeout_s": 2.5}


def test_cap_and_timeouts_leave_normal_requests_alone(catalog: Catalog) -> None:
    app = create_app(Settings(), catalog=catalog, scorer=PriorScorer())
    with live_server(app) as url:
        response = httpx.post(url + "/v1/chat/completions", content=BODY, headers=JSON, timeout=10)
    assert response.status_code == 200
