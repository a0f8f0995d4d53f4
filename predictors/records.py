"""The canonical eval-record format: JSONL, one line per (prompt, model).

Each line is an object::

    {"id": str, "prompt": str | [OpenAI messages], "model": str, "score": 0..1,
     "cost_usd"?: float >= 0, "prompt_tokens"?: int >= 0, "completion_tokens"?: int >= 0,
     "latency_s"?: float >= 0, "task"?: str}

``load_records`` validates strictly: unknown types, missing fields, scores outside
[0, 1], negative costs and duplicate ``(id, model)`` pairs raise ``RecordError`` naming
the file, the line and the field. Files ending in ``.gz`` are read and written gzipped.
``pivot`` turns records into prompt-by-model matrices for training and evaluation.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
from numpy.typing import NDArray

from predictors.base import Prompt
from predictors.errors import RecordError

_OPTIONAL_NUMBERS = ("cost_usd", "latency_s")
_OPTIONAL_COUNTS = ("prompt_tokens", "completion_tokens")
_KNOWN_FIELDS = {"id", "prompt", "model", "score", "task", *_OPTIONAL_NUMBERS, *_OPTIONAL_COUNTS}


@dataclass(frozen=True, slots=True)
class EvalRecord:
    """One model's graded outcome on one prompt."""

    id: str
    prompt: Prompt
    model: str
    score: float
    cost_usd: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float | None = None
    task: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON object, optional fields left out when unknown."""
        return {k: v for k, v in asdict(self).items() if v is not None}


def _open_text(path: Path, mode: str) -> IO[str]:
    if path.suffix == ".gz":
        return cast(IO[str], gzip.open(path, mode + "t", encoding="utf-8"))
    return path.open(mode, encoding="utf-8")


def _check_prompt(value: Any, fail: Any) -> Prompt:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(m, dict) for m in value):
        if all("role" in m and "content" in m for m in value):
            return value
        fail("prompt", "every message needs 'role' and 'content'")
    fail("prompt", "must be a string or a non-empty list of OpenAI messages")
    raise AssertionError  # unreachable: fail raises


def _check_number(obj: Mapping[str, Any], field: str, fail: Any) -> float | None:
    value = obj.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        fail(field, f"must be a finite number, got {value!r}")
    if value < 0:
        fail(field, f"must be >= 0, got {value!r}")
    return float(value)


def _check_count(obj: Mapping[str, Any], field: str, fail: Any) -> int | None:
    value = obj.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        fail(field, f"must be a non-negative integer, got {value!r}")
    return int(value)


def _check_string(obj: Mapping[str, Any], field: str, fail: Any, required: bool) -> str | None:
    value = obj.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        fail(field, "must be a non-empty string" if field in obj else "is missing")
    return value


def parse_record(obj: Any, *, source: str = "<memory>", line: int = 0) -> EvalRecord:
    """Validate one decoded JSON object and return it as an ``EvalRecord``."""

    def fail(field: str, problem: str) -> None:
        raise RecordError(source, line, field, problem)

    if not isinstance(obj, dict):
        fail("<line>", "must be a JSON object")
    unknown = sorted(set(obj) - _KNOWN_FIELDS)
    if unknown:
        fail(unknown[0], "unknown field")
    if "prompt" not in obj:
        fail("prompt", "is missing")
    score = obj.get("score")
    if isinstance(score, bool) or not isinstance(score, int | float):
        fail("score", "is missing" if score is None else f"must be a number, got {score!r}")
    if not 0.0 <= score <= 1.0:
        fail("score", f"must be within [0, 1], got {score!r}")
    return EvalRecord(
        id=str(_check_string(obj, "id", fail, required=True)),
        prompt=_check_prompt(obj["prompt"], fail),
        model=str(_check_string(obj, "model", fail, required=True)),
        score=float(score),
        cost_usd=_check_number(obj, "cost_usd", fail),
        prompt_tokens=_check_count(obj, "prompt_tokens", fail),
        completion_tokens=_check_count(obj, "completion_tokens", fail),
        latency_s=_check_number(obj, "latency_s", fail),
        task=_check_string(obj, "task", fail, required=False),
    )


def iter_records(path: Path) -> Iterator[EvalRecord]:
    """Yield validated records from a JSONL(.gz) file, rejecting duplicate (id, model)."""
    seen: set[tuple[str, str]] = set()
    with _open_text(path, "r") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise RecordError(str(path), number, "<line>", f"invalid JSON: {exc}") from exc
            record = parse_record(obj, source=str(path), line=number)
            key = (record.id, record.model)
            if key in seen:
                raise RecordError(str(path), number, "id", f"duplicate (id, model) {key}")
            seen.add(key)
            yield record


def load_records(paths: Path | Sequence[Path]) -> list[EvalRecord]:
    """Load and validate one or more JSONL(.gz) files (duplicates checked per file)."""
    files = [paths] if isinstance(paths, Path) else list(paths)
    return [record for path in files for record in iter_records(path)]


def write_records(records: Iterable[EvalRecord], path: Path) -> int:
    """Write records as JSONL (gzipped if ``path`` ends in ``.gz``); return the count."""
    count = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with _open_text(path, "w") as handle:
        for record in records:
            handle.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
            count += 1
    return count


@dataclass(frozen=True, slots=True)
class RecordMatrix:
    """Records pivoted to one row per prompt id and one column per model (NaN = missing)."""

    ids: tuple[str, ...]
    prompts: tuple[Prompt, ...]
    tasks: tuple[str, ...]
    models: tuple[str, ...]
    scores: NDArray[np.float64]
    cost_usd: NDArray[np.float64]
    prompt_tokens: NDArray[np.float64]
    completion_tokens: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, rows: NDArray[np.intp]) -> RecordMatrix:
        """The matrix restricted to ``rows`` (all models kept)."""
        return RecordMatrix(
            ids=tuple(self.ids[i] for i in rows),
            prompts=tuple(self.prompts[i] for i in rows),
            tasks=tuple(self.tasks[i] for i in rows),
            models=self.models,
            scores=self.scores[rows],
            cost_usd=self.cost_usd[rows],
            prompt_tokens=self.prompt_tokens[rows],
            completion_tokens=self.completion_tokens[rows],
        )


def pivot(records: Sequence[EvalRecord]) -> RecordMatrix:
    """Group records by prompt id (first-seen order) and model (sorted)."""
    ids = list(dict.fromkeys(r.id for r in records))
    models = sorted({r.model for r in records})
    row = {key: i for i, key in enumerate(ids)}
    col = {key: j for j, key in enumerate(models)}
    shape = (len(ids), len(models))
    scores, cost, completion = (np.full(shape, np.nan) for _ in range(3))
    prompt_tokens = np.full(len(ids), np.nan)
    prompts: list[Prompt] = [""] * len(ids)
    tasks = [""] * len(ids)
    for record in records:
        i, j = row[record.id], col[record.model]
        prompts[i], tasks[i] = record.prompt, record.task or tasks[i]
        scores[i, j] = record.score
        cost[i, j] = np.nan if record.cost_usd is None else record.cost_usd
        if record.completion_tokens is not None:
            completion[i, j] = record.completion_tokens
        if record.prompt_tokens is not None:
            prompt_tokens[i] = record.prompt_tokens
    return RecordMatrix(
        tuple(ids),
        tuple(prompts),
        tuple(tasks),
        tuple(models),
        scores,
        cost,
        prompt_tokens,
        completion,
    )
