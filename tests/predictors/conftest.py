"""Factories shared by the predictors tests: synthetic records and CSV files."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from predictors.records import EvalRecord

MODELS = ("big-model", "small-model", "code-model")
TASKS = ("trivia", "code")


def _prompt(task: str, i: int) -> str:
    if task == "code":
        return f"Write a python function number {i} that sorts a list of tuples by key."
    return f"Question {i}: which planet is the largest in the solar system?\nA) Mars\nB) Jupiter"


@pytest.fixture
def make_records() -> Callable[..., list[EvalRecord]]:
    """Synthetic records where 'code-model' wins on code and 'big-model' everywhere else."""

    def build(n_prompts: int = 60, seed: int = 0) -> list[EvalRecord]:
        rng = np.random.default_rng(seed)
        records = []
        skill = {"big-model": (0.9, 0.7), "small-model": (0.5, 0.2), "code-model": (0.3, 0.95)}
        price = {"big-model": 1e-5, "small-model": 1e-7, "code-model": 1e-6}
        for i in range(n_prompts):
            task = TASKS[i % 2]
            prompt = _prompt(task, i)
            for model in MODELS:
                p = skill[model][task == "code"]
                completion = int(rng.integers(5, 60))
                records.append(
                    EvalRecord(
                        id=f"p{i}",
                        prompt=prompt,
                        model=model,
                        score=float(rng.random() < p),
                        cost_usd=price[model] * (40 + completion),
                        prompt_tokens=40,
                        completion_tokens=completion,
                        task=task,
                    )
                )
        return records

    return build


@pytest.fixture
def routerbench_csv(tmp_path: Path) -> Path:
    """A two-row CSV in RouterBench's layout (one empty score cell)."""
    path = tmp_path / "rb.csv"
    header = [
        "",
        "sample_id",
        "prompt",
        "eval_name",
        "m1",
        "m2",
        "m1|model_response",
        "m2|model_response",
        "m1|total_cost",
        "m2|total_cost",
        "oracle_model_to_route_to",
    ]
    rows = [
        [
            "0",
            "t.1",
            "['Say \"hi\"\\nnow']",
            "t",
            "1.0",
            "0.0",
            "['hi there']",
            "['no']",
            "0.001",
            "0.0001",
            "m2",
        ],
        ["1", "t.2", "['Add 1+1']", "t", "", "1.0", "", "['2']", "", "0.0002", "m2"],
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def fitted_model():
    """A small ``QualityModel`` fitted on random vectors (two tasks, no lengths)."""
    from predictors.features import FeatureBuilder
    from predictors.pipeline import QualityModel
    from predictors.stacked import StackedQualityPredictor

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(60, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = (rng.random((60, 2)) < 0.5).astype(float)
    model = QualityModel(
        features=FeatureBuilder(ks=(5,), n_clusters=3, n_components=4),
        quality=StackedQualityPredictor(max_rounds=10, min_child_samples=5),
    )
    tasks = ["even" if i % 2 else "odd" for i in range(60)]
    return model.fit(vectors, rng.random((60, 12)), scores, np.full((60, 2), np.nan), tasks)
