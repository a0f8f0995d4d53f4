"""``calibrate`` command: eval JSONL in, profile YAML and a per-model table out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import typer
import yaml
from typer.testing import CliRunner

from router.cli.calibrate import calibrate, calibrate_matrix, eval_matrix, prior_quality

MODELS = {"cheap": 1e-4, "reference": 1e-2}


def _records(n: int = 200) -> list[dict[str, object]]:
    rng = np.random.default_rng(0)
    records: list[dict[str, object]] = []
    for i in range(n):
        easy = rng.random() < 0.6
        for name, cost in MODELS.items():
            good = easy or name == "reference"
            records.append(
                {
                    "id": f"p{i}",
                    "prompt": "q",
                    "model": name,
                    "score": float(good),
                    "cost_usd": cost,
                }
            )
    records.append({"id": "p0", "prompt": "q", "model": "ghost", "score": None})
    return records


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(calibrate)
    return app


def _write(tmp_path: Path, records: list[dict[str, object]]) -> Path:
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def test_records_pivot_into_matrices() -> None:
    matrix = eval_matrix(_records(3))
    assert matrix.models == ("cheap", "reference")
    assert matrix.score.shape == (3, 2)
    assert matrix.cost_usd[0].tolist() == [1e-4, 1e-2]


def test_prior_steering_uses_column_means() -> None:
    score = np.array([[1.0, np.nan], [0.0, 1.0]])
    assert prior_quality(score)[1].tolist() == [0.5, 1.0]
    assert np.isnan(prior_quality(score)[0, 1])


def test_oracle_reaches_target_cheaper_than_reference() -> None:
    matrix = eval_matrix(_records())
    oracle = calibrate_matrix(matrix, "reference", 0.95, predicted=matrix.score)
    assert oracle.reached
    assert oracle.expected_cost < oracle.reference_cost
    assert oracle.share[0] > 0.5  # the easy prompts go to the cheap model


def test_cli_writes_the_profile_and_prints_the_table(tmp_path: Path) -> None:
    data = _write(tmp_path, _records())
    out = tmp_path / "catalog.yaml"
    out.write_text(yaml.safe_dump({"profiles": {"quality-target": {"latency_weight": 0.1}}}))
    args = ["--data", str(data), "--reference", "reference", "--out", str(out)]
    result = CliRunner().invoke(_app(), [*args, "--steer", "oracle", "--profile", "quality-target"])
    assert result.exit_code == 0, result.output
    assert "share of traffic" in result.output
    profile = yaml.safe_load(out.read_text())["profiles"]["quality-target"]
    assert profile["latency_weight"] == 0.1
    assert profile["cost_weight"] > 0


def test_cli_rejects_an_unknown_reference(tmp_path: Path) -> None:
    data = _write(tmp_path, _records(5))
    result = CliRunner().invoke(_app(), ["--data", str(data), "--reference", "nope"])
    assert result.exit_code != 0
    assert "nope" in result.output


def test_artifact_steering_on_routerbench_sample(tmp_path: Path) -> None:
    import gzip

    source = Path(__file__).resolve().parents[2] / "data" / "routerbench.jsonl.gz"
    with gzip.open(source, "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for _, line in zip(range(1100), lines, strict=False)]
    data = tmp_path / "sample.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = tmp_path / "profiles.yaml"
    args = ["--data", str(data), "--reference", "gpt-4-1106-preview", "--out", str(out)]
    result = CliRunner().invoke(_app(), [*args, "--target", "0.9"])
    assert result.exit_code == 0, result.output
    weight = yaml.safe_load(out.read_text())["profiles"]["quality-target"]["cost_weight"]
    assert weight > 0
    assert "reached" in result.output and "share of traffic" in result.output
