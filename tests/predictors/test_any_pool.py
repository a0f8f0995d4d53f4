"""Pools without prices or tokens: import, check, length priors, gate, reports, artifacts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from predictors.artifact import content_version, save_model
from predictors.datacheck import check_records
from predictors.errors import RecordError
from predictors.evaluate import json_safe, summarize
from predictors.importers import WideLayout, import_wide
from predictors.length import DEFAULT_COMPLETION_TOKENS, LengthPredictor
from predictors.pricing import resolve_prices
from predictors.records import EvalRecord, pivot
from predictors.stacked import correction_wins

WIDE = (
    "id,prompt,task,a,b,a|cost_usd,a|completion_tokens,b|prompt_tokens\n"
    "1,hi,t,1,0.5,0.25,12,3\n"
    "2,yo,u,0,,,,\n"
)


def test_wide_import_reads_per_model_columns_and_checks_score_types(tmp_path) -> None:
    path = tmp_path / "w.csv"
    path.write_text(WIDE)
    records = import_wide(path, WideLayout(score_types={"u": "binary"}))
    first = {r.model: r for r in records if r.id == "1"}
    assert first["a"].cost_usd == 0.25 and first["a"].completion_tokens == 12
    assert first["b"].prompt_tokens == 3 and first["b"].cost_usd is None
    with pytest.raises(RecordError, match="task 't' is binary"):
        import_wide(path, WideLayout(score_types={"*": "binary"}))
    path.write_text("id,prompt,a,a|price\n1,hi,1,2\n")
    with pytest.raises(RecordError, match=r"a\|price"):
        import_wide(path)


def _records(n: int = 40, cost: float | None = None) -> list[EvalRecord]:
    rng = np.random.default_rng(0)
    return [
        EvalRecord(
            f"p{i}",
            f"prompt {i}",
            model,
            float(rng.random() < 0.5),
            cost_usd=cost,
            task="even" if i % 2 else "odd",
        )
        for i in range(n)
        for model in ("m1", "m2")
    ]


def test_data_check_says_what_a_pool_without_prices_allows() -> None:
    report = check_records(_records())
    assert not report.has_costs and not report.has_completion_tokens
    assert report.tasks["even"].score_type == "binary"
    assert "quality-only" in report.capabilities["cost_routing"]
    assert "prior" in report.capabilities["length_model"]
    json.dumps(report.to_json(), allow_nan=False)


def test_length_model_falls_back_to_documented_priors() -> None:
    x = np.random.default_rng(0).random((30, 3))
    tokens = np.full((30, 3), np.nan)
    assert LengthPredictor().fit(x, tokens).length_source_ == ("default",) * 3
    tokens[:25, 0] = 40.0
    tokens[:2, 1] = 10.0
    model = LengthPredictor().fit(x, tokens)
    assert model.length_source_ == ("learned", "model-mean", "pool-mean")
    predicted = model.predict(x)
    assert np.allclose(predicted[:, 1], 10.0) and np.allclose(
        predicted[:, 2], (25 * 40 + 2 * 10) / 27
    )
    assert (
        LengthPredictor().fit(x, tokens * np.nan).constant_tokens_[0] == DEFAULT_COMPLETION_TOKENS
    )


@pytest.mark.parametrize("cost", [None, 0.0])
def test_reports_without_costs_or_with_equal_costs_are_quality_only(cost) -> None:
    matrix = pivot(_records(cost=cost))
    quality = {"learned": np.tile([0.2, 0.8], (len(matrix), 1))}
    tokens = np.full(matrix.scores.shape, 100.0)
    report = summarize(matrix, quality, tokens, {}, folds=np.arange(len(matrix)) % 2)
    assert report["cost_metrics"].startswith("skipped")
    learned = report["overall"]["routers"]["learned"]
    assert learned["accuracy_at_cost_weight_0"] == pytest.approx(np.nanmean(matrix.scores[:, 1]))
    assert "aiq" not in learned and "pair" not in report
    json.dumps(json_safe(report), allow_nan=False)


def test_prices_come_from_the_catalog_then_a_fit_then_nowhere() -> None:
    records = [
        EvalRecord(
            f"p{i}",
            "x",
            "fit-me",
            1.0,
            cost_usd=2e-6 * (10 + i),
            prompt_tokens=10 + i,
            completion_tokens=0,
        )
        for i in range(5)
    ]
    prices = resolve_prices(["listed", "fit-me", "unknown"], records, {"listed": (1e-6, 2e-6)})
    assert prices.source == {"listed": "catalog", "fit-me": "fitted", "unknown": "none"}
    assert prices.table["fit-me"][0] == pytest.approx(2e-6)
    assert "fallback" in prices.note()
    assert resolve_prices(["a"], []).quality_only


def test_the_gate_keeps_a_correction_only_beyond_chance() -> None:
    prior = np.zeros(100)
    assert correction_wins(prior.copy(), prior)  # the same choices: kept
    assert not correction_wins(np.r_[np.ones(10), -np.ones(10), np.zeros(80)], prior)  # noise
    assert not correction_wins(np.r_[np.ones(6), -np.ones(3), np.zeros(91)], prior)  # < 2 s.e.
    assert correction_wins(np.r_[np.ones(30), np.zeros(70)], prior)
    assert not correction_wins(np.r_[-np.ones(5), np.zeros(95)], prior)


class _Booster:
    def __init__(self, text: str) -> None:
        self.text = text

    def model_to_string(self) -> str:
        return self.text


def test_versions_change_with_content_and_ignore_timestamps() -> None:
    arrays = {"w": np.arange(3.0)}
    manifest = {"models": ["a"], "created": "today", "train_seconds": 1.0}
    base = content_version(manifest, arrays, {"length/0.txt": _Booster("tree")})
    later = {**manifest, "created": "tomorrow", "train_seconds": 9.0}
    assert content_version(later, arrays, {"length/0.txt": _Booster("tree")}) == base
    assert content_version(manifest, {"w": np.arange(4.0)}, {}) != base
    assert content_version(manifest, arrays, {"length/0.txt": _Booster("other")}) != base


def test_a_failed_save_leaves_the_old_artifact_and_no_staging(tmp_path, fitted_model) -> None:
    out = tmp_path / "artifact"
    out.mkdir()
    (out / "manifest.json").write_text("{}")
    with pytest.raises(OSError):
        save_model(fitted_model, out, {"models": ["m1", "m2"]}, tmp_path / "no-embedder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["artifact"]
    assert (out / "manifest.json").read_text() == "{}"
    written = save_model(fitted_model, out, {"models": ["m1", "m2"]})
    assert json.loads((out / "manifest.json").read_text())["version"] == written["version"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["artifact"]


def test_train_never_crashes_on_a_tiny_pool_without_tasks_prices_or_tokens(tmp_path) -> None:
    from typer.testing import CliRunner

    from router.cli import app

    rng = np.random.default_rng(1)
    lines = ["id,prompt,a,b,c"] + [
        f"{i},question {i} about {rng.choice(['cats', 'dogs', 'code'])},{i % 2},"
        f"{rng.random():.3f},{'' if i % 3 else 1}"
        for i in range(12)
    ]
    (tmp_path / "tiny.csv").write_text("\n".join(lines) + "\n")
    data, out = tmp_path / "tiny.jsonl", tmp_path / "art"
    runner = CliRunner()
    for args in (
        ["data", "import-wide", str(tmp_path / "tiny.csv"), "--out", str(data)],
        ["train", "--data", str(data), "--out", str(out), "--folds", "3"],
    ):
        result = runner.invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
    assert "nan" not in result.output.lower() and "quality-only" in result.output
    manifest = json.loads((out / "manifest.json").read_text(), parse_constant=float)
    json.dumps(manifest, allow_nan=False)
    assert set(manifest["length_source"].values()) == {"default"}
