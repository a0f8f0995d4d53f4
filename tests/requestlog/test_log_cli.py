"""``paretoroute log tail|export|stats`` on a database filled by a live router."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import openai
import orjson
import pytest
from typer.testing import CliRunner

from predictors.prior import PriorScorer
from router.app import create_app
from router.catalog import Catalog
from router.cli import app as cli
from router.settings import Settings
from tests.requestlog.helpers import Sent, send_mix
from tests.router.servers import FakeUpstreamState, live_server

WIDE = {"COLUMNS": "400"}


@pytest.fixture(scope="module")
def filled(
    catalog: Catalog, upstream_state: FakeUpstreamState, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, list[Sent]]:
    data_dir = tmp_path_factory.mktemp("cli")
    app = create_app(Settings(data_dir=data_dir), catalog=catalog, scorer=PriorScorer())
    with live_server(app) as url:
        client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)
        sent = send_mix(client, upstream_state)
        feedback = {"request_id": sent[0].request_id, "thumbs": "up", "comment": "right"}
        client.post("/feedback", body=feedback, cast_to=object)
    return f"sqlite:///{data_dir / 'paretoroute.db'}", sent


def _run(*args: str) -> str:
    result = CliRunner().invoke(cli, ["log", *args], env=WIDE)
    assert result.exit_code == 0, result.output
    return result.output


def _exported(database: str) -> list[dict[str, Any]]:
    output = _run("export", "--format", "jsonl", "--since", "1h", "--database-url", database)
    return [orjson.loads(line) for line in output.splitlines()]


def test_tail_shows_the_newest_rows(filled: tuple[str, list[Sent]]) -> None:
    database, sent = filled
    output = _run("tail", "-n", "3", "--database-url", database)
    newest = [s.request_id for s in sent[-3:]]
    assert all(request_id in output for request_id in newest)
    assert sent[0].request_id not in output
    assert output.index(newest[0]) < output.index(newest[2])
    assert "502 upstream_error" in output and "404 model_not_found" in output


def test_export_jsonl_has_every_row_and_column(filled: tuple[str, list[Sent]]) -> None:
    database, sent = filled
    rows = _exported(database)
    assert [row["id"] for row in rows] == [s.request_id for s in sent]
    assert rows[0]["chosen_model"] == sent[0].chosen
    assert len(rows[0]["predictions"]) == 3 and rows[0]["status_code"] == 200
    assert (rows[0]["feedback_thumbs"], rows[0]["feedback_comment"]) == ("up", "right")
    assert all(row["feedback_thumbs"] is None for row in rows[1:])
    future = _run(
        "export", "--format", "jsonl", "--since", "2999-01-01", "--database-url", database
    )
    assert future == ""


def test_export_csv_to_a_file(
    filled: tuple[str, list[Sent]], catalog: Catalog, tmp_path: Path
) -> None:
    database, sent = filled
    out = tmp_path / "log.csv"
    _run(
        "export", "--format", "csv", "--since", "1d", "--out", str(out), "--database-url", database
    )
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [row["id"] for row in rows] == [s.request_id for s in sent]
    assert [p["model"] for p in orjson.loads(rows[0]["predictions"])] == list(catalog.names())
    assert rows[-1]["status_code"] == "502"
    assert (rows[0]["feedback_thumbs"], rows[1]["feedback_thumbs"]) == ("up", "")


def test_stats_spend_savings_and_mix(filled: tuple[str, list[Sent]]) -> None:
    database, sent = filled
    rows = _exported(database)
    spend = sum(row["cost_usd"] or 0 for row in rows if row["cost_usd"] is not None)
    spend += sum(
        row["predicted_cost_usd"]
        for row in rows
        if row["cost_usd"] is None and row["status_code"] < 400
    )
    routed = [row for row in rows if row["predictions"] and row["status_code"] == 200]
    reference = sum(max(p["cost_usd"] for p in row["predictions"]) for row in routed)
    paid = sum(
        row["cost_usd"] if row["cost_usd"] is not None else row["predicted_cost_usd"]
        for row in routed
    )
    output = _run("stats", "--since", "1h", "--database-url", database)
    assert f"spend ${spend:.6f}" in output
    assert f"routed answered requests: {len(routed)}" in output
    assert f"savings ${reference - paid:.6f}" in output
    for model in {s.chosen for s in sent if s.chosen}:
        count = sum(1 for s in sent if s.chosen == model)
        assert any(model in line and f" {count} " in line for line in output.splitlines())
    assert "(none)" in output  # the requests that failed before a model was chosen


def test_bad_since_and_missing_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["log", "stats", "--since", "yesterday"], env=WIDE)
    assert result.exit_code == 2 and "--since" in result.output
    missing = f"sqlite:///{tmp_path / 'nothing.db'}"
    result = CliRunner().invoke(cli, ["log", "tail", "--database-url", missing], env=WIDE)
    assert result.exit_code == 2 and "no request log" in result.output
    assert not (tmp_path / "nothing.db").exists()
