"""Shipped artifact as a Scorer, clear load errors, and the CLI commands end to end."""

import json
from datetime import date

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from predictors.artifact import load_scorer
from predictors.base import ModelCard, Scorer
from predictors.errors import ArtifactError
from predictors.records import write_records
from router.cli import app as cli_app
from router.cli.predict import data_app, eval_command, train_command


@pytest.fixture(scope="module")
def shipped():
    return load_scorer()


def test_shipped_scorer_sources_and_shapes(shipped) -> None:
    assert isinstance(shipped, Scorer)
    cards = [
        ModelCard("gpt-4-1106-preview"),
        ModelCard("new-model", params_b=70, release_date=date(2024, 5, 1)),
    ]
    table = shipped.score(["Write a python function to add two numbers.", "Hi"], cards)
    assert table.source == ("learned", "metadata-prior")
    assert table.quality.shape == table.completion_tokens.shape == (2, 2)
    assert np.all((table.quality > 0) & (table.quality < 1))


def test_missing_and_incompatible_artifacts_fail_clearly(tmp_path) -> None:
    with pytest.raises(ArtifactError, match=r"manifest\.json"):
        load_scorer(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"format_version": 99}))
    with pytest.raises(ArtifactError, match="format_version"):
        load_scorer(tmp_path)


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("train")(train_command)
    app.command("eval")(eval_command)
    app.add_typer(data_app, name="data")
    return app


@pytest.mark.slow
def test_train_eval_route_round_trip(tmp_path, make_records) -> None:
    data = tmp_path / "r.jsonl"
    write_records(make_records(n_prompts=80), data)
    runner = CliRunner()
    art = tmp_path / "art"
    result = runner.invoke(
        _app(), ["train", "--data", str(data), "--out", str(art), "--folds", "2"]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        _app(),
        [
            "eval",
            "--artifact",
            str(art),
            "--data",
            str(data),
            "--report",
            str(tmp_path / "rep"),
            "--strong",
            "big-model",
            "--weak",
            "small-model",
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "rep" / "metrics.json").read_text())
    assert (
        metrics["overall"]["routers"]["oracle"]["aiq"]
        >= metrics["overall"]["routers"]["learned"]["aiq"]
    )
    assert (tmp_path / "rep" / "pareto.png").stat().st_size > 0
    prompts = tmp_path / "p.jsonl"
    prompts.write_text(
        '{"id": "a", "prompt": "Write a python function"}\n'
        '{"id": "b", "messages": [{"role": "user", "content": "Which planet?"}]}\n'
    )
    out = tmp_path / "d.jsonl"
    result = runner.invoke(
        cli_app,
        [
            "route",
            "--artifact",
            str(art),
            "--input",
            str(prompts),
            "--cost-weights",
            "0,1e9",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["id"], r["cost_weight"]) for r in rows] == [
        ("a", 0),
        ("a", 1e9),
        ("b", 0),
        ("b", 1e9),
    ]
    cheap = [r["predicted_cost_usd"] for r in rows if r["cost_weight"] == 1e9]
    dear = [r["predicted_cost_usd"] for r in rows if r["cost_weight"] == 0]
    assert all(c <= d for c, d in zip(cheap, dear, strict=True))


def test_data_import_routerbench(tmp_path, routerbench_csv) -> None:
    out = tmp_path / "o.jsonl"
    result = CliRunner().invoke(
        _app(), ["data", "import-routerbench", str(routerbench_csv), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 3
