"""The replay dataset: RouterBench prompts with every model's recorded answer and usage.

The packaged file ``routerbench_replay.jsonl.gz`` (next to this module) is built by
``scripts/build_replay_data.py`` (one JSON object per prompt). Lookup is by the exact
prompt text, normalised only by stripping surrounding whitespace.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

DATA_FILE = "routerbench_replay.jsonl.gz"


def default_data_path() -> Path:
    """The packaged replay file."""
    return Path(str(resources.files(__name__).joinpath(DATA_FILE)))


@dataclass(frozen=True, slots=True)
class ReplayRecord:
    """One benchmark prompt and what each model answered (models with no data omitted)."""

    id: str
    task: str
    prompt: str
    responses: Mapping[str, str]
    scores: Mapping[str, int]
    cost_usd: Mapping[str, float]
    prompt_tokens: int
    completion_tokens: Mapping[str, int]

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> ReplayRecord:
        """Build from one line of the replay file."""
        return cls(
            id=str(obj["id"]),
            task=str(obj["task"]),
            prompt=str(obj["prompt"]),
            responses=dict(obj["responses"]),
            scores=dict(obj["scores"]),
            cost_usd=dict(obj["cost_usd"]),
            prompt_tokens=int(obj["prompt_tokens"]),
            completion_tokens=dict(obj["completion_tokens"]),
        )


class ReplayDataset:
    """All replay records, indexed by stripped prompt text."""

    def __init__(self, records: Iterable[ReplayRecord]) -> None:
        self.records: tuple[ReplayRecord, ...] = tuple(records)
        self._by_prompt: dict[str, ReplayRecord] = {}
        for record in self.records:
            # First record wins; the shipped file has no duplicate prompts.
            self._by_prompt.setdefault(record.prompt.strip(), record)
        self.models: tuple[str, ...] = tuple(
            sorted({model for record in self.records for model in record.responses})
        )

    @classmethod
    def load(cls, path: Path | None = None) -> ReplayDataset:
        """Read a replay file (gzip JSONL); None reads the packaged RouterBench file."""
        with gzip.open(path or default_data_path(), "rb") as handle:
            return cls(ReplayRecord.from_json(orjson.loads(line)) for line in handle if line)

    def __len__(self) -> int:
        return len(self.records)

    def lookup(self, prompt: str) -> ReplayRecord | None:
        """The record whose prompt equals ``prompt`` up to surrounding whitespace."""
        return self._by_prompt.get(prompt.strip())

    def lookup_messages(self, messages: Iterable[Mapping[str, Any]]) -> ReplayRecord | None:
        """The record matching the text of the last user message of a chat request."""
        last_user = None
        for message in messages:
            if message.get("role") == "user":
                last_user = message
        return None if last_user is None else self.lookup(message_text(last_user))


def message_text(message: Mapping[str, Any]) -> str:
    """A chat message's text: the string content, or its text parts joined."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, Mapping) and part.get("type", "text") == "text"
        )
    return ""
