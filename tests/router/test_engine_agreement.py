"""One decision engine: ``/v1/route``, batch ``paretoroute route --input`` and single
``paretoroute route`` choose the same model for the same prompt, preferences and catalog.

The embedded default (catalog, shipped predictor) over a few hundred real RouterBench
prompts and several preference sets, each sent as the body's ``router`` object over HTTP
and as ``--pref`` flags to the CLI.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from router.app import create_app
from router.cli import app as cli_app
from router.settings import Settings
from tests.router.servers import live_server

DATA = Path(__file__).resolve().parents[2] / "data" / "routerbench.jsonl.gz"
N_PROMPTS = 240
PREFERENCE_SETS: list[dict[str, Any]] = [
    {},
    {"cost_weight": 300.0},
    {"cost_weight": 20000.0, "latency_weight": 0.02},
    {"willingness_to_pay": 0.002, "max_cost_usd": 0.0005, "fallback_on_infeasible": True},
    {"profile": "cheap", "blocked_models": ["gpt-3.5-turbo-1106"]},
]


def _prompts() -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    with gzip.open(DATA, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if isinstance(record["prompt"], str):
                seen.setdefault(str(record["id"]), record["prompt"])
            if len(seen) == N_PROMPTS:
                break
    return list(seen.items())


def _flags(prefs: dict[str, Any]) -> list[str]:
    flags: list[str] = []
    for name, value in prefs.items():
        if name == "profile":
            flags += ["--profile", str(value)]
        else:
            text = ",".join(value) if isinstance(value, list) else json.dumps(value)
            flags += ["--pref", f"{name}={text}"]
    return flags


@pytest.fixture(scope="module")
def router_url() -> Iterator[str]:
    with live_server(create_app(Settings())) as url:
        yield url


@pytest.fixture(scope="module")
def prompts() -> list[tuple[str, str]]:
    return _prompts()


def _http_choices(url: str, prompts: list[tuple[str, str]], prefs: dict[str, Any]) -> list:
    choices = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for _, prompt in prompts:
            body = {"messages": [{"role": "user", "content": prompt}], "router": prefs}
            response = client.post("/v1/route", json=body)
            assert response.status_code == 200, response.text
            choices.append(response.json()["model"])
    return choices


def _batch_choices(tmp_path: Path, prompts: list[tuple[str, str]], prefs: dict[str, Any]):
    source, out = tmp_path / "prompts.jsonl", tmp_path / "decisions.jsonl"
    lines = [
        {"id": item_id, "messages": [{"role": "user", "content": prompt}]}
        for item_id, prompt in prompts
    ]
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    args = ["route", "--input", str(source), "--output", str(out), *_flags(prefs)]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["id"] for row in rows] == [item_id for item_id, _ in prompts]
    return [row["model"] for row in rows]


@pytest.mark.slow
@pytest.mark.parametrize("prefs", PREFERENCE_SETS, ids=lambda p: ",".join(p) or "defaults")
def test_http_batch_and_single_agree(router_url, prompts, tmp_path, prefs):
    over_http = _http_choices(router_url, prompts, prefs)
    in_batch = _batch_choices(tmp_path, prompts, prefs)
    assert in_batch == over_http
    for (_, prompt), expected in list(zip(prompts, over_http, strict=True))[:6]:
        args = ["route", "--json", *_flags(prefs), "--", prompt]
        result = CliRunner().invoke(cli_app, args)
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["model"] == expected


def test_preference_sets_lead_to_different_choices(router_url, prompts):
    first = prompts[:40]
    choices = {json.dumps(p): tuple(_http_choices(router_url, first, p)) for p in PREFERENCE_SETS}
    assert len(set(choices.values())) >= 3
