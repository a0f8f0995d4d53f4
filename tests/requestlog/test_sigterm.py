"""SIGTERM to a real ``paretoroute serve`` process: every answered request is in the file.

The test holds SQLite's write lock while it sends traffic, so the rows are still queued
when SIGTERM arrives; the server must wait for the writer instead of exiting.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
import yaml

from router.catalog import parse_catalog
from router.requestlog.database import create_log_engine
from tests.requestlog.helpers import check_rows, read_rows, send_mix, sqlite_write_lock
from tests.router.conftest import catalog_document
from tests.router.servers import FakeUpstreamState, free_port

ROUNDS = 3
_SERVE = "import sys; from router.cli import main; sys.argv[0] = 'paretoroute'; main()"


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with {process.returncode}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start")


@pytest.fixture
def server(upstream_url: str, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    catalog_path = tmp_path / "catalog.yaml"
    catalog_path.write_text(yaml.safe_dump(catalog_document(upstream_url)))
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "PARETOROUTE_CATALOG": str(catalog_path),
        "PARETOROUTE_SCORER": "prior",
        "PARETOROUTE_DATA_DIR": str(tmp_path / "data"),
        "PARETOROUTE_PORT": str(port),
        "PARETOROUTE_LOG_LEVEL": "warning",
    }
    process = subprocess.Popen([sys.executable, "-c", _SERVE, "serve"], env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, process)
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def _children(pid: int) -> list[int]:
    """Live processes whose parent is ``pid`` (the request log's writer process)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def test_sigterm_flushes_every_row(
    server: tuple[str, subprocess.Popen[bytes]],
    upstream_url: str,
    upstream_state: FakeUpstreamState,
    tmp_path: Path,
) -> None:
    url, process = server
    database = tmp_path / "data" / "paretoroute.db"
    client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=30)
    with sqlite_write_lock(database):
        sent = [item for _ in range(ROUNDS) for item in send_mix(client, upstream_state)]
        writers = _children(process.pid)
        assert len(writers) == 1, "one writer process per server"
        process.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        assert process.poll() is None, "the server exited with rows still queued"
    # uvicorn re-raises the signal it caught once shutdown (lifespan included) is done.
    assert process.wait(60) in (0, -signal.SIGTERM)
    assert not any(Path(f"/proc/{pid}").exists() for pid in writers), "writer outlived server"
    catalog = parse_catalog(catalog_document(upstream_url), "test-catalog")
    rows = read_rows(create_log_engine(f"sqlite:///{database}"))
    assert len(rows) == len(sent) == 8 * ROUNDS
    check_rows(rows, sent, catalog, content=False)
