"""``calibrate`` command: eval JSONL in, profile YAML and a per-model table out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import typer
import yaml
from typer.testing import CliRunner

from predictors.records import parse_record, pivot
from router.cli.calibrate import calibrate, calibrate_matrix, priced, prior_quality

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
    return records


def matrix_of(records: list[dict[str, object]]):
    return pivot([parse_record(r) for r in records])


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(calibrate)
    return app


def _write(tmp_path: Path, records: list[dict[str, object]]) -> Path:
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def test_records_pivot_into_matrices() -> None:
    matrix = matrix_of(_records(3))
    assert matrix.models == ("cheap", "reference")
    assert matrix.scores.shape == (3, 2)
    assert matrix.cost_usd[0].tolist() == [1e-4, 1e-2]


def test_missing_costs_are_priced_with_the_hosted_formula() -> None:
    records = [
        {"id": "a", "prompt": "q", "model": "m", "score": 1, "prompt_tokens": 10,
         "completion_tokens": 20},
        {"id": "a", "prompt": "q", "model": "n", "score": 0, "cost_usd": 0.5},
    ]  # fmt: skip
    matrix = priced(matrix_of(records), {"m": (1e-3, 2e-3), "n": (1.0, 1.0)})
    assert matrix.cost_usd[0].tolist() == [10 * 1e-3 + 20 * 2e-3, 0.5]


def test_malformed_record_is_a_clean_error(tmp_path: Path) -> None:
    data = _write(tmp_path, [*_records(2), {"id": "x", "prompt": "q", "model": "m"}])
    result = CliRunner().invoke(_app(), ["--data", str(data), "--reference", "reference"])
    assert result.exit_code != 0
    assert "score" in result.output and "Traceback" not in result.output


def test_prior_steering_uses_column_means() -> None:
    score = np.array([[1.0, np.nan], [0.0, 1.0]])
    assert prior_quality(score)[1].tolist() == [0.5, 1.0]
    assert np.isnan(prior_quality(score)[0, 1])


def test_oracle_reaches_target_cheaper_than_reference() -> None:
    matrix = matrix_of(_records())
    oracle = calibrate_matrix(matrix, "reference", 0.95, predicted=matrix.scores)
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
    # The sample is taken from the shipped predictor's own training data, and it says so.
    assert "partly in-sample" in result.output


def test_out_is_a_whole_loadable_catalog_with_comments_kept(tmp_path: Path) -> None:
    from router.catalog import load_catalog

    base = Path(__file__).resolve().parents[2] / "deploy/catalogs/hosted-openai-anthropic.yaml"
    first_comment = next(line for line in base.read_text().splitlines() if line.startswith("#"))
    data = _write(tmp_path, _records())
    out = tmp_path / "catalog.yaml"
    args = ["--data", str(data), "--reference", "reference", "--steer", "oracle"]
    result = CliRunner().invoke(_app(), [*args, "--catalog", str(base), "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = load_catalog(out)
    assert written.names() == load_catalog(base).names()
    assert written.profiles["quality-target"].cost_weight > 0
    assert first_comment in out.read_text()
    # Updating it again keeps the comments and the other profiles.
    again = CliRunner().invoke(_app(), [*args, "--out", str(out), "--profile", "second"])
    assert again.exit_code == 0, again.output
    assert first_comment in out.read_text()
    assert {"quality-target", "second"} <= set(load_catalog(out).profiles)
