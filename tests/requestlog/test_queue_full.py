"""A full queue drops rows instead of waiting, and counts every drop in /metrics."""

from __future__ import annotations

from pathlib import Path

import httpx
import openai
from prometheus_client.parser import text_string_to_metric_families

from predictors.prior import PriorScorer
from router.app import create_app
from router.catalog import Catalog
from router.requestlog.database import create_log_engine
from router.settings import Settings
from tests.requestlog.helpers import MESSAGES, read_rows, sqlite_write_lock
from tests.router.servers import live_server

SENT = 12


def _counter(url: str, name: str, **labels: str) -> float:
    text = httpx.get(url + "/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def test_queue_full_drops_are_counted(catalog: Catalog, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, request_log_queue_size=1)
    app = create_app(settings, catalog=catalog, scorer=PriorScorer())
    with live_server(app) as url:
        # No lingering for more rows: the writer takes one and then waits on the lock.
        app.state.services.request_log.linger_s = 0.0
        client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)
        with sqlite_write_lock(tmp_path / "paretoroute.db"):
            # The writer is stuck on the lock with what it took; the queue holds one more.
            for _ in range(SENT):
                client.chat.completions.create(model="auto", messages=MESSAGES, timeout=10)
            dropped = _counter(url, "paretoroute_request_log_dropped_total", reason="queue_full")
        assert app.state.services.request_log.flush(30)
        written = _counter(url, "paretoroute_request_log_rows_total")
    # However the writer thread was scheduled, most rows found the queue full.
    assert SENT // 2 <= dropped <= SENT - 1
    rows = read_rows(create_log_engine(f"sqlite:///{tmp_path / 'paretoroute.db'}"))
    assert len(rows) == written == SENT - dropped
