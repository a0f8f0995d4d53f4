"""Importers that turn other layouts into canonical eval records.

* **RouterBench CSV** (``import_routerbench``): one row per prompt with ``sample_id``,
  ``prompt`` (a Python-list literal of one string, unwrapped unchanged), ``eval_name``,
  one score column per model, ``<model>|model_response`` and ``<model>|total_cost``.
  ``sample_id`` becomes ``id``, ``eval_name`` ``task``, ``total_cost`` ``cost_usd``;
  ``prompt_tokens`` and ``completion_tokens`` are counted with ``predictors.tokens``
  (cl100k) from the prompt and the recorded response. Empty score cells are skipped.
* **Generic wide CSV** (``import_wide``): one row per prompt with an id column, a prompt
  column, an optional task column and one score column per model; optional
  ``<model>|cost_usd`` columns give the recorded cost. Every other column whose name
  contains no ``|`` is taken as a model's score column.
"""

from __future__ import annotations

import ast
import csv
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

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


def _drop_none(obj: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in obj.items() if value is not None}


def import_routerbench(paths: Sequence[Path]) -> list[EvalRecord]:
    """Records from RouterBench-layout CSV files (see the module docstring)."""
    return [record for path in paths for record in _routerbench_rows(path)]


def import_wide(
    path: Path,
    *,
    id_column: str = "id",
    prompt_column: str = "prompt",
    task_column: str | None = "task",
) -> list[EvalRecord]:
    """Records from a wide CSV: one row per prompt, one score column per model."""
    records: list[EvalRecord] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        for needed in (id_column, prompt_column):
            if needed not in header:
                raise RecordError(str(path), 1, needed, "column is missing from the header")
        fixed = {id_column, prompt_column, task_column}
        models = [name for name in header if name not in fixed and "|" not in name]
        for line, row in enumerate(reader, start=2):
            for model in models:
                score = _float_or_none(row.get(model))
                if score is None:
                    continue
                obj = {
                    "id": row[id_column],
                    "prompt": row[prompt_column],
                    "model": model,
                    "score": score,
                    "cost_usd": _float_or_none(row.get(f"{model}|cost_usd")),
                    "task": (row.get(task_column) or None) if task_column else None,
                }
                records.append(parse_record(_drop_none(obj), source=str(path), line=line))
    return records
