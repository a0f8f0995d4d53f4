"""``paretoroute route``: one prompt (table and front plot) and batch mode, via the real CLI app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from router.cli import app

runner = CliRunner()


def test_single_prompt_prints_table_and_writes_plot(tmp_path: Path):
    plot = tmp_path / "front.png"
    result = runner.invoke(
        app, ["route", "--profile", "cheap", "--plot", str(plot), "What is 17 * 23?"]
    )
    assert result.exit_code == 0, result.output
    assert "profile cheap" in result.output and "reason:" in result.output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cost_weight_override_changes_choice():
    def chosen(weight: str) -> str:
        result = runner.invoke(app, ["route", "--cost-weight", weight, "Sort a list in Python"])
        assert result.exit_code == 0, result.output
        return result.output.split("\n")[0]

    assert chosen("0") != chosen("1000000")


def test_batch_mode_writes_one_row_per_id_and_weight(tmp_path: Path):
    source = tmp_path / "prompts.jsonl"
    rows = [{"id": "a", "prompt": "Add two numbers"}, {"id": "b", "prompt": "Capital of Peru?"}]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "decisions.jsonl"
    args = ["route", "--input", str(source), "--output", str(out), "--cost-weights", "0,1e5"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    decisions = [json.loads(line) for line in out.read_text().splitlines()]
    assert {(d["id"], d["cost_weight"]) for d in decisions} == {
        ("a", 0.0),
        ("a", 1e5),
        ("b", 0.0),
        ("b", 1e5),
    }
    for decision in decisions:
        assert {"id", "cost_weight", "model", "predicted_quality", "predicted_cost_usd"} <= set(
            decision
        )
        assert 0 <= decision["predicted_quality"] <= 1 and decision["predicted_cost_usd"] > 0
        # The pre-unification names, kept for one release.
        assert decision["p_quality"] == decision["predicted_quality"]
        assert decision["cost_usd"] == decision["predicted_cost_usd"]


def test_route_without_prompt_or_input_fails_cleanly():
    result = runner.invoke(app, ["route"])
    assert result.exit_code != 0
    assert "PROMPT" in result.output


def test_catalog_models_unknown_to_the_predictor_are_flagged():
    catalog = Path(__file__).resolve().parents[2] / "deploy/catalogs/local-openai-compatible.yaml"
    result = runner.invoke(app, ["route", "--catalog", str(catalog), "--json", "Hi there"])
    assert result.exit_code == 0, result.output
    assert "4 of 4 catalog models are unknown to the predictor" in result.output
    assert "metadata prior, the same for every prompt" in result.output
