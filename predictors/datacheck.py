"""``paretoroute data check``: what a data set holds and what can be done with it.

``check_records`` summarises eval records: models (rows, missing cells, score range,
whether costs / prompt tokens / completion tokens exist), tasks (prompts, score type,
score range) and the *capabilities* that follow. The same facts drive training and
evaluation (``score_type``, ``has_costs``), so what ``data check`` promises is what
``train`` and ``eval`` do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from predictors.records import EvalRecord, RecordMatrix, pivot

#: Fewer known completion lengths than this per model: the length model uses a prior.
MIN_LENGTH_ROWS = 20


def score_type(scores: Sequence[float] | np.ndarray) -> str:
    """``binary`` when every (known) score is 0 or 1, else ``graded``."""
    values = np.asarray(scores, dtype=np.float64)
    values = values[~np.isnan(values)]
    return "binary" if np.isin(values, (0.0, 1.0)).all() else "graded"


def task_score_types(matrix: RecordMatrix) -> dict[str, str]:
    """Score type per task label (``""`` for prompts without one)."""
    tasks = np.array(matrix.tasks)
    return {task: score_type(matrix.scores[tasks == task]) for task in sorted(set(matrix.tasks))}


def has_costs(matrix: RecordMatrix) -> bool:
    """Every model has at least one recorded cost, and not all costs are equal."""
    cost = matrix.cost_usd
    per_model = np.isfinite(cost).any(axis=0).all()
    return bool(per_model and np.nanmax(cost) > np.nanmin(cost))


@dataclass(frozen=True, slots=True)
class ModelSummary:
    """One model's data."""

    rows: int
    missing_cells: int
    mean_score: float
    min_score: float
    max_score: float
    cost_rows: int
    prompt_token_rows: int
    completion_token_rows: int


@dataclass(frozen=True, slots=True)
class TaskSummary:
    """One task's data."""

    prompts: int
    score_type: str
    min_score: float
    max_score: float


@dataclass(frozen=True, slots=True)
class DataReport:
    """The summary ``data check`` prints (``to_json`` for ``--json``)."""

    n_records: int
    n_prompts: int
    models: dict[str, ModelSummary]
    tasks: dict[str, TaskSummary]
    has_costs: bool
    has_prompt_tokens: bool
    has_completion_tokens: bool
    #: Capability → what will happen (a sentence), e.g. "cost_routing".
    capabilities: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def _model_summary(records: Sequence[EvalRecord], n_prompts: int) -> ModelSummary:
    scores = [r.score for r in records]
    return ModelSummary(
        rows=len(records),
        missing_cells=n_prompts - len(records),
        mean_score=float(np.mean(scores)),
        min_score=float(min(scores)),
        max_score=float(max(scores)),
        cost_rows=sum(r.cost_usd is not None for r in records),
        prompt_token_rows=sum(r.prompt_tokens is not None for r in records),
        completion_token_rows=sum(r.completion_tokens is not None for r in records),
    )


def _capabilities(report: dict[str, Any], matrix: RecordMatrix) -> dict[str, str]:
    tasks = [t for t in report["tasks"] if t]
    few_lengths = [m for m, s in report["models"].items()
                   if s.completion_token_rows < MIN_LENGTH_ROWS]  # fmt: skip
    return {
        "quality_routing": f"yes: {len(matrix.models)} models, {len(matrix)} prompts",
        "task_prior": (f"yes: {len(tasks)} tasks" if len(tasks) > 1 and all(matrix.tasks)
                       else "no task labels on every prompt: groups are k-means clusters"),
        "cost_routing": ("yes: recorded costs (prices fitted from them are a fallback; "
                         "give --catalog for list prices)" if report["has_costs"] else
                         "only with --catalog prices; without them routing is quality-only "
                         "and AIQ/APGR/CPT are not reported"),
        "length_model": ("learned from completion tokens" if not few_lengths else
                         f"prior (per-model mean, else a default) for {len(few_lengths)} "
                         f"model(s) with fewer than {MIN_LENGTH_ROWS} completion lengths"),
    }  # fmt: skip


def check_records(records: Sequence[EvalRecord]) -> DataReport:
    """Summarise ``records`` (see the module docstring)."""
    matrix = pivot(records)
    by_model: dict[str, list[EvalRecord]] = {}
    for record in records:
        by_model.setdefault(record.model, []).append(record)
    models = {m: _model_summary(by_model[m], len(matrix)) for m in matrix.models}
    tasks = np.array(matrix.tasks)
    task_rows = {}
    for task, kind in task_score_types(matrix).items():
        values = matrix.scores[tasks == task]
        task_rows[task] = TaskSummary(
            int((tasks == task).sum()), kind, float(np.nanmin(values)), float(np.nanmax(values))
        )
    facts: dict[str, Any] = {
        "models": models,
        "tasks": task_rows,
        "has_costs": has_costs(matrix),
        "has_prompt_tokens": any(s.prompt_token_rows for s in models.values()),
        "has_completion_tokens": any(s.completion_token_rows for s in models.values()),
    }
    return DataReport(len(records), len(matrix), **facts,
                      capabilities=_capabilities(facts, matrix))  # fmt: skip


def report_lines(report: DataReport) -> list[str]:
    """The human-readable summary."""
    lines = [f"{report.n_records} records, {report.n_prompts} prompts, "
             f"{len(report.models)} models, {len(report.tasks)} tasks"]  # fmt: skip
    for name, m in report.models.items():
        lines.append(
            f"  model {name}: {m.rows} rows, {m.missing_cells} missing, score "
            f"{m.min_score:g}..{m.max_score:g} (mean {m.mean_score:.3f}), cost {m.cost_rows}, "
            f"prompt tokens {m.prompt_token_rows}, completion tokens {m.completion_token_rows}"
        )
    for name, t in report.tasks.items():
        lines.append(f"  task {name or '(none)'}: {t.prompts} prompts, {t.score_type}, "
                     f"score {t.min_score:g}..{t.max_score:g}")  # fmt: skip
    lines += [f"{key}: {value}" for key, value in report.capabilities.items()]
    return lines
