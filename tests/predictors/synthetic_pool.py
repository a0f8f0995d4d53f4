"""A synthetic "bring your own" pool: 5 models, 3 tasks, written as a wide CSV.

Tasks: ``trivia`` (binary, no signal inside the task: the task prior is all there is),
``math`` (binary; ``geometry`` and ``algebra`` questions favour different models, a
signal only the prompt shows) and ``summary`` (graded in [0, 1]; long and short texts
favour different models). Prompts of different tasks look different, so a router can
recognise the task. Optional per-model ``|cost_usd``, ``|prompt_tokens`` and
``|completion_tokens`` columns (``with_prices``).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

MODELS = ("alpha-3b", "bravo-8b", "charlie-34b", "delta-70b", "echo-13b")
TASKS = ("trivia", "math", "summary")
#: Success probability (binary) or mean grade (graded) per model, per (task, subtopic).
SKILL = {
    ("trivia", 0): (0.35, 0.45, 0.60, 0.70, 0.50),
    ("trivia", 1): (0.35, 0.45, 0.60, 0.70, 0.50),
    ("math", 0): (0.20, 0.30, 0.85, 0.45, 0.40),  # geometry: charlie
    ("math", 1): (0.25, 0.35, 0.30, 0.50, 0.90),  # algebra: echo
    ("summary", 0): (0.55, 0.80, 0.50, 0.55, 0.45),  # short texts: bravo
    ("summary", 1): (0.40, 0.35, 0.55, 0.85, 0.50),  # long texts: delta
}
#: USD per token (input, output) and mean completion tokens per model.
PRICES = ((1e-7, 2e-7), (2e-7, 4e-7), (8e-7, 1.6e-6), (2e-6, 6e-6), (4e-7, 8e-7))
LENGTHS = (120, 200, 260, 320, 180)

_THINGS = (
    "river",
    "mountain",
    "painter",
    "novel",
    "planet",
    "empire",
    "bridge",
    "island",
    "composer",
    "desert",
    "volcano",
    "treaty",
    "cathedral",
    "glacier",
    "festival",
)
_PLACES = ("Peru", "Norway", "Kenya", "Japan", "Chile", "Egypt", "Canada", "India", "Spain")
_SHAPES = ("triangle", "circle", "square", "hexagon", "rectangle", "trapezoid", "cone")
_TOPICS = (
    "the harvest",
    "a town meeting",
    "a storm",
    "the market",
    "a new school",
    "the railway",
    "a museum opening",
    "the election",
    "a flood",
    "a football match",
)


def _trivia(rng: np.random.Generator) -> tuple[str, int]:
    thing, place = rng.choice(_THINGS), rng.choice(_PLACES)
    return f"Trivia question: which famous {thing} is found in {place}? Answer in one word.", 0


def _math(rng: np.random.Generator) -> tuple[str, int]:
    a, b = int(rng.integers(2, 90)), int(rng.integers(2, 90))
    if rng.random() < 0.5:
        shape = rng.choice(_SHAPES)
        return f"Geometry: a {shape} has sides {a} cm and {b} cm. Compute its area and angles.", 0
    return f"Algebra: solve for x where {a}x + {b} = {a * b} and simplify the equation.", 1


def _summary(rng: np.random.Generator) -> tuple[str, int]:
    topic = rng.choice(_TOPICS)
    sentences = int(rng.integers(1, 3)) if rng.random() < 0.5 else int(rng.integers(8, 14))
    body = " ".join(
        f"Report {k + 1} on {topic} in {rng.choice(_PLACES)}: residents described the "
        f"{rng.choice(_THINGS)} and the changes it brought." for k in range(sentences)
    )  # fmt: skip
    return f"Summarise the following text.\n\n{body}", int(sentences >= 8)


_MAKERS = {"trivia": _trivia, "math": _math, "summary": _summary}


def _score(task: str, p: float, rng: np.random.Generator) -> float:
    if task == "summary":
        return round(float(np.clip(rng.normal(p, 0.12), 0.0, 1.0)), 3)
    return float(rng.random() < p)


def _row(i: int, rng: np.random.Generator, with_prices: bool) -> dict[str, object]:
    task = TASKS[i % len(TASKS)]
    prompt, sub = _MAKERS[task](rng)
    row: dict[str, object] = {"id": f"q{i}", "prompt": prompt, "task": task}
    prompt_tokens = int(len(prompt.split()) * 1.3) + 4
    for j, model in enumerate(MODELS):
        row[model] = _score(task, SKILL[(task, sub)][j], rng)
        if with_prices:
            completion = int(rng.integers(LENGTHS[j] // 2, LENGTHS[j] * 3 // 2))
            row[f"{model}|prompt_tokens"] = prompt_tokens
            row[f"{model}|completion_tokens"] = completion
            row[f"{model}|cost_usd"] = PRICES[j][0] * prompt_tokens + PRICES[j][1] * completion
    return row


def write_pool(path: Path, n_prompts: int = 450, *, seed: int = 0, with_prices: bool = False,
               start: int = 0) -> Path:  # fmt: skip
    """Write ``n_prompts`` rows (ids ``q<start>``...) as a wide CSV and return ``path``."""
    rng = np.random.default_rng(seed)
    rows = [_row(start + i, rng, with_prices) for i in range(n_prompts)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path
