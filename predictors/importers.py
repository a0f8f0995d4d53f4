"""Importers that turn other layouts into canonical eval records.

* **RouterBench CSV** (``import_routerbench``): one row per prompt with ``sample_id``,
  ``prompt`` (a Python-list literal of one string, unwrapped unchanged), ``eval_name``,
  one score column per model, ``<model>|model_response`` and ``<model>|total_cost``.
  ``sample_id`` becomes ``id``, ``eval_name`` ``task``, ``total_cost`` ``cost_usd``;
  ``prompt_tokens`` and ``completion_tokens`` are counted with ``predictors.tokens``
  (cl100k) from the prompt and the recorded response. Empty score cells are skipped.
* **Generic wide CSV** (``import_wide``): one row per prompt with an id column, a prompt
  column, an optional task column and one score column per model (empty cell: no
  result); optional per-model columns ``<model>|cost_usd``, ``<model>|prompt_tokens``,
  ``<model>|completion_tokens`` and ``<model>|latency_s``. Every other column whose name
  contains no ``|`` is a model's score column; a ``|`` column naming an unknown model or
  field is an error. A task may be declared ``binary`` (every score 0 or 1, checked) or
  ``graded`` (any score in [0, 1], the default).
"""

from __future__ import annotations

import ast
import csv
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from predictors.errors import RecordError
from predictors.records import EvalRecord, parse_record
from predictors.tokens import count_tokens

csv.field_size_limit(sys.maxsize)

_ROUTERBENCH_FIXED = {"", "sample_id", "prompt", "eval_name", "oracle_model_to_route_to"}


def unwrap_list_literal(cell: str) -> str:
    """``"['text']"`` → ``"text"``; a cell that is not such a literal is returned as is."""
    stripped = cell.strip()
    if not (stripped.startswith("[") and stripped.endswith("]")):
        return cell
    try:
        value = ast.literal_eval(stripped)
    except (ValueError, SyntaxError):
        return cell
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        return value[0]
    return cell


def _float_or_none(cell: str | None) -> float | None:
    return None if cell is None or not cell.strip() else float(cell)


def _routerbench_models(header: Sequence[str]) -> list[str]:
    return [name for name in header if name not in _ROUTERBENCH_FIXED and "|" not in name]


def _routerbench_rows(path: Path) -> Iterator[EvalRecord]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        models = _routerbench_models(reader.fieldnames or [])
        for line, row in enumerate(reader, start=2):
            prompt = unwrap_list_literal(row["prompt"])
            prompt_tokens = count_tokens(prompt)
            for model in models:
                score = _float_or_none(row.get(model))
                if score is None:
                    continue
                response = unwrap_list_literal(row.get(f"{model}|model_response") or "")
                obj = {
                    "id": row["sample_id"],
                    "prompt": prompt,
                    "model": model,
                    "score": score,
                    "cost_usd": _float_or_none(row.get(f"{model}|total_cost")),
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": count_tokens(response),
                    "task": row.get("eval_name") or None,
                }
                yield parse_record(_drop_none(obj), source=str(path), line=line)


def _drop_none(obj: Mapping[str, object]) -> dict[str, object]:
    return {key: value for key, value in obj.items() if value is not None}


def import_routerbench(paths: Sequence[Path]) -> list[EvalRecord]:
    """Records from RouterBench-layout CSV files (see the module docstring)."""
    return [record for path in paths for record in _routerbench_rows(path)]


#: Optional per-model columns of a wide CSV: ``<model>|<field>``.
WIDE_MODEL_FIELDS = ("cost_usd", "prompt_tokens", "completion_tokens", "latency_s")
#: Score types: ``binary`` (every score 0 or 1) or ``graded`` (any value in [0, 1]).
SCORE_TYPES = ("binary", "graded")


@dataclass(frozen=True, slots=True)
class WideLayout:
    """Which columns of a wide CSV mean what."""

    id_column: str = "id"
    prompt_column: str = "prompt"
    task_column: str | None = "task"
    #: Score type per task; the key ``"*"`` applies to every task not named.
    score_types: Mapping[str, str] = field(default_factory=dict)


def _wide_models(path: Path, header: Sequence[str], layout: WideLayout) -> list[str]:
    for needed in (layout.id_column, layout.prompt_column):
        if needed not in header:
            raise RecordError(str(path), 1, needed, "column is missing from the header")
    fixed = {layout.id_column, layout.prompt_column, layout.task_column}
    models = [name for name in header if name not in fixed and "|" not in name]
    for name in header:
        model, sep, suffix = name.partition("|")
        if sep and (model not in models or suffix not in WIDE_MODEL_FIELDS):
            raise RecordError(
                str(path), 1, name,
                f"expected <model>|<field> with a score column <model> and a field in "
                f"{list(WIDE_MODEL_FIELDS)}",
            )  # fmt: skip
    if not models:
        raise RecordError(str(path), 1, "<header>", "no score columns (one per model)")
    return models


def _check_score_type(score: float, task: str | None, layout: WideLayout, fail: Any) -> None:
    kind = layout.score_types.get(task or "", layout.score_types.get("*", "graded"))
    if kind == "binary" and score not in (0.0, 1.0):
        fail(f"task {task!r} is binary: scores must be 0 or 1, got {score!r}")


def _wide_cell(row: Mapping[str, str], model: str, name: str, count: bool) -> float | int | None:
    value = _float_or_none(row.get(f"{model}|{name}"))
    if value is None or not count:
        return value
    return int(value) if float(value).is_integer() else value


def _wide_records(path: Path, line: int, row: Mapping[str, str], models: Sequence[str],
                  layout: WideLayout) -> Iterator[EvalRecord]:  # fmt: skip
    task = (row.get(layout.task_column) or None) if layout.task_column else None
    for model in models:

        def fail(problem: str, column: str = model) -> NoReturn:
            raise RecordError(str(path), line, column, problem)

        try:
            score = _float_or_none(row.get(model))
            extra = {name: _wide_cell(row, model, name, name.endswith("tokens"))
                     for name in WIDE_MODEL_FIELDS}  # fmt: skip
        except ValueError as error:
            fail(f"not a number ({error})")
        if score is None:
            continue
        _check_score_type(score, task, layout, fail)
        obj = {"id": row[layout.id_column], "prompt": row[layout.prompt_column],
               "model": model, "score": score, "task": task, **extra}  # fmt: skip
        yield parse_record(_drop_none(obj), source=str(path), line=line)


def import_wide(path: Path, layout: WideLayout = WideLayout()) -> list[EvalRecord]:
    """Records from a wide CSV: one row per prompt, one score column per model, optional
    ``<model>|cost_usd``, ``|prompt_tokens``, ``|completion_tokens``, ``|latency_s``."""
    records: list[EvalRecord] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        models = _wide_models(path, reader.fieldnames or [], layout)
        for line, row in enumerate(reader, start=2):
            records.extend(_wide_records(path, line, row, models, layout))
    return records
