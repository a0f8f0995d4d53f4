"""The Grafana dashboards, proven against a real Prometheus scraping a 2-worker router.

A live ``paretoroute serve --workers 2`` serves routed, named, streamed and failing
requests; Debian's ``prometheus`` scrapes it every second with the shipped rules loaded;
then every PromQL expression of every panel of the committed dashboards (variables
substituted as Grafana would) must parse and return at least one series.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from scripts.grafana.build import ALL_MODELS, DASHBOARDS, OUT, render
from tests.router.fleet import NAMED, ROOT, Router, router_process, upstream_timeout
from tests.router.servers import free_port
from tests.router.test_workers import one_round

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
SHIPPED = ROOT / "deploy" / "prometheus"
WAIT_S = 90.0
# Grafana's own variables, as it would substitute them for a one-hour view.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range": "5m"}

needs_prometheus = pytest.mark.skipif(
    (PROMETHEUS is None or PROMTOOL is None) and not os.environ.get("CI"),
    reason="Debian's prometheus package is not installed (apt-get install prometheus)",
)


@dataclass(frozen=True)
class Expression:
    """One PromQL expression of one panel."""

    dashboard: str
    panel: str
    expr: str


def dashboard_files() -> list[dict[str, Any]]:
    return [json.loads((OUT / f"{spec.uid}.json").read_text()) for spec in DASHBOARDS]


def expressions() -> list[Expression]:
    found = [
        Expression(board["uid"], panel["title"], target["expr"])
        for board in dashboard_files()
        for panel in board["panels"]
        for target in panel.get("targets") or ()
    ]
    assert len(found) > 30
    return found


def substitute(expr: str, model: str) -> str:
    for name, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    return expr.replace("$model", model)


def test_committed_dashboards_are_what_the_generator_writes():
    for spec in DASHBOARDS:
        assert (OUT / f"{spec.uid}.json").read_text() == render(spec), spec.uid


def test_per_model_dashboard_has_a_model_variable():
    per_model = next(b for b in dashboard_files() if b["uid"] == "paretoroute-per-model")
    (variable,) = per_model["templating"]["list"]
    assert variable["name"] == "model" and variable["allValue"] == ALL_MODELS
    panels = [p for p in per_model["panels"] if p.get("targets")]
    assert all('model=~"$model"' in t["expr"] for p in panels for t in p["targets"])


@needs_prometheus
@pytest.mark.parametrize(
    "command",
    [
        ["check", "config", "prometheus.yml"],
        ["check", "rules", "paretoroute.rules.yml"],
        ["test", "rules", "paretoroute.rules.test.yml"],
    ],
    ids=["check-config", "check-rules", "test-rules"],
)
def test_shipped_prometheus_files_pass_promtool(command: list[str]):
    assert PROMTOOL is not None, "promtool is required in CI"
    done = subprocess.run(
        [PROMTOOL, *command], cwd=SHIPPED, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout + done.stderr


def scrape_config(path: Path, target: str) -> Path:
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(SHIPPED / "paretoroute.rules.yml")],
        "scrape_configs": [{"job_name": "paretoroute", "static_configs": [{"targets": [target]}]}],
    }
    path.write_text(yaml.safe_dump(config))
    return path


def query(url: str, expr: str) -> list[dict[str, Any]]:
    response = httpx.get(url + "/api/v1/query", params={"query": expr}, timeout=10)
    body = response.json()
    assert response.status_code == 200 and body["status"] == "success", (expr, body)
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def last_scrape(url: str) -> float:
    """Unix time of the newest sample scraped from the router (0 before the first)."""
    found = query(url, "timestamp(paretoroute_workers)")
    return float(found[0]["value"][1]) if found else 0.0


def wait_until(check: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (httpx.HTTPError, AssertionError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out after {WAIT_S:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Router]:
    with router_process(tmp_path_factory.mktemp("dashboards"), workers=2) as running:
        yield running


@pytest.fixture(scope="module")
def prometheus(router: Router, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Prometheus on a free loopback port, scraping the router every second."""
    assert PROMETHEUS is not None, "prometheus is required in CI"
    workdir = tmp_path_factory.mktemp("prometheus")
    config = scrape_config(workdir / "prometheus.yml", router.url.removeprefix("http://"))
    port = free_port()
    command = [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={workdir / 'data'}"]
    command += [f"--web.listen-address=127.0.0.1:{port}"]
    log = workdir / "prometheus.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(url + "/-/ready", timeout=2).status_code == 200, "ready")
        wait_until(lambda: last_scrape(url) > 0, "the first scrape")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def prometheus_url(router: Router, prometheus: str) -> str:
    """Prometheus after the router served every kind of request while being scraped."""
    with ThreadPoolExecutor(2) as pool:
        tallies = list(pool.map(one_round, [router.url] * 2))
    with httpx.Client(base_url=router.url, timeout=30) as client:
        upstream_timeout(client, tallies[0])
    assert sum(t.streams for t in tallies) > 0
    traffic_done = time.time()
    # two scrapes after the last request, so every rate() window holds its final values
    wait_until(lambda: last_scrape(prometheus) > traffic_done + 2.5, "two scrapes after traffic")
    return prometheus


@needs_prometheus
def test_the_router_is_scraped_with_both_workers(prometheus_url: str):
    (up,) = query(prometheus_url, 'up{job="paretoroute"}')
    assert up["value"][1] == "1"
    (workers,) = query(prometheus_url, "paretoroute_workers")
    assert workers["value"][1] == "2"


@needs_prometheus
def test_every_panel_expression_returns_series(prometheus_url: str):
    empty = []
    for item in expressions():
        if not query(prometheus_url, substitute(item.expr, ALL_MODELS)):
            empty.append(f"{item.dashboard} / {item.panel}: {item.expr}")
    assert not empty, "no series for:\n" + "\n".join(empty)


@needs_prometheus
def test_per_model_expressions_parse_for_one_model(prometheus_url: str):
    for item in expressions():
        if "$model" in item.expr:
            query(prometheus_url, substitute(item.expr, NAMED))  # asserts status success


@needs_prometheus
def test_model_variable_lists_the_served_models(prometheus_url: str):
    response = httpx.get(
        prometheus_url + "/api/v1/label/model/values",
        params={"match[]": 'paretoroute_requests_total{model!=""}'},
        timeout=10,
    )
    assert NAMED in response.json()["data"]


@needs_prometheus
def test_shipped_recording_rules_evaluate(prometheus_url: str):
    for record in ("spend_usd_per_hour", "savings_usd_per_hour", "error_ratio"):
        name = f"paretoroute:{record}:rate5m"
        wait_until(lambda name=name: query(prometheus_url, name), name)
