"""``PriorScorer``: each model's mean score and completion length, regardless of prompt.

The foundation scorer the server uses when no trained artifact is configured. Its
numbers come from ``prior_stats.json`` shipped next to this module (computed from
``data/routerbench.jsonl.gz`` by ``build_prior_stats``; regenerate with
``python -m predictors.prior data/routerbench.jsonl.gz``). Models the file does not
know get ``predictors.metadata.metadata_prior`` (``source="metadata-prior"``); models
with fewer than ``min_records`` records shrink toward it (``"shrunk"``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from predictors.base import ModelCard, Prompt, QualitySource, ScoreTable
from predictors.metadata import (
    DEFAULT_MIN_RECORDS,
    DEFAULT_SHRINK_STRENGTH,
    metadata_prior,
    shrink,
)
from predictors.records import EvalRecord, load_records

DEFAULT_STATS_PATH = Path(__file__).with_name("prior_stats.json")


@dataclass(frozen=True, slots=True)
class ModelStats:
    """What the records say about one model, independent of the prompt."""

    n_records: int
    mean_score: float
    mean_completion_tokens: float


def build_prior_stats(records: Sequence[EvalRecord]) -> dict[str, ModelStats]:
    """Per-model record count, mean score and mean completion tokens."""
    grouped: dict[str, list[EvalRecord]] = {}
    for record in records:
        grouped.setdefault(record.model, []).append(record)
    stats = {}
    for model, rows in sorted(grouped.items()):
        lengths = [r.completion_tokens for r in rows if r.completion_tokens is not None]
        stats[model] = ModelStats(
            n_records=len(rows),
            mean_score=float(np.mean([r.score for r in rows])),
            mean_completion_tokens=float(np.mean(lengths)) if lengths else float("nan"),
        )
    return stats


def save_prior_stats(stats: Mapping[str, ModelStats], path: Path) -> None:
    """Write stats as JSON (sorted, human-readable)."""
    body = {"models": {name: asdict(value) for name, value in sorted(stats.items())}}
    path.write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")


def load_prior_stats(path: Path = DEFAULT_STATS_PATH) -> dict[str, ModelStats]:
    """Read stats written by ``save_prior_stats``."""
    body = json.loads(path.read_text(encoding="utf-8"))
    return {name: ModelStats(**value) for name, value in body["models"].items()}


def _default_length(stats: Mapping[str, ModelStats]) -> float:
    lengths = [
        s.mean_completion_tokens
        for s in stats.values()
        if s.n_records > 0 and np.isfinite(s.mean_completion_tokens)
    ]
    return float(np.median(lengths)) if lengths else 256.0


def _length(stats: ModelStats | None, default: float) -> float:
    if stats is None or stats.n_records == 0 or not np.isfinite(stats.mean_completion_tokens):
        return default
    return float(stats.mean_completion_tokens)


def prior_lengths(
    cards: Sequence[ModelCard], stats: Mapping[str, ModelStats] | None = None
) -> np.ndarray:
    """Mean completion tokens per model from the prior stats (median for unknown models)."""
    table = load_prior_stats() if stats is None else stats
    default = _default_length(table)
    return np.array([_length(table.get(card.name), default) for card in cards], dtype=np.float64)


class PriorScorer:
    """Prompt-independent scorer: per-model means, metadata prior for unknown models."""

    def __init__(
        self,
        stats: Mapping[str, ModelStats] | None = None,
        *,
        min_records: int = DEFAULT_MIN_RECORDS,
        shrink_strength: float = DEFAULT_SHRINK_STRENGTH,
    ) -> None:
        self.stats = dict(load_prior_stats() if stats is None else stats)
        self.min_records = min_records
        self.shrink_strength = shrink_strength
        known = [s for s in self.stats.values() if s.n_records > 0]
        self._population_mean = float(np.mean([s.mean_score for s in known])) if known else 0.5
        self._default_tokens = _default_length(self.stats)

    @property
    def name(self) -> str:
        """Identifier shown by the server."""
        return f"prior:{len(self.stats)}-models"

    def column(self, card: ModelCard) -> tuple[float, float, QualitySource]:
        """(quality, completion tokens, source) for one catalog model."""
        prior = metadata_prior(card, self._population_mean)
        stats = self.stats.get(card.name)
        tokens = _length(stats, self._default_tokens)
        if stats is None or stats.n_records == 0:
            return prior, tokens, "metadata-prior"
        if stats.n_records >= self.min_records:
            return stats.mean_score, tokens, "learned"
        quality = shrink(stats.mean_score, stats.n_records, prior, self.shrink_strength)
        return float(quality), tokens, "shrunk"

    def score(self, prompts: Sequence[Prompt], cards: Sequence[ModelCard]) -> ScoreTable:
        """Every prompt gets the same row: the per-model priors."""
        columns = [self.column(card) for card in cards]
        n = len(prompts)
        quality = np.tile(np.array([c[0] for c in columns], dtype=np.float64), (n, 1))
        tokens = np.tile(np.array([c[1] for c in columns], dtype=np.float64), (n, 1))
        return ScoreTable(
            models=tuple(card.name for card in cards),
            quality=quality.reshape(n, len(cards)),
            completion_tokens=tokens.reshape(n, len(cards)),
            source=tuple(c[2] for c in columns),
        )


if __name__ == "__main__":
    save_prior_stats(build_prior_stats(load_records(Path(sys.argv[1]))), DEFAULT_STATS_PATH)
