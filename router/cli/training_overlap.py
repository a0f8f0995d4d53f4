"""Does the calibration data overlap the data the steering predictor was trained on?

A weight calibrated on the predictor's own training data is in-sample: its savings
figure is optimistic. The artifact's manifest records the SHA-256 of the training data
file; when that file is at hand (the shipped artifact's ``data/routerbench.jsonl.gz``
in a checkout) the overlap is counted in prompt ids.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

SHIPPED_DATA = Path(__file__).resolve().parents[2] / "data" / "routerbench.jsonl.gz"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _ids(path: Path) -> set[str]:
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        return {str(json.loads(line)["id"]) for line in lines if line.strip()}


def overlap_note(data: Path, manifest: dict[str, Any], data_ids: set[str]) -> str:
    """One sentence saying whether ``data`` is in the predictor's training data."""
    trained = manifest.get("data", {})
    if trained.get("sha256") == file_sha256(data):
        return "in-sample: this is the data the steering predictor was trained on"
    if SHIPPED_DATA.exists() and trained.get("sha256") == file_sha256(SHIPPED_DATA):
        shared = len(data_ids & _ids(SHIPPED_DATA))
        share = shared / max(len(data_ids), 1)
        if shared:
            return (
                f"{shared} of {len(data_ids)} prompts ({share:.0%}) are in the steering "
                "predictor's training data: the savings figure is partly in-sample"
            )
        return "held out: no prompt of this data is in the steering predictor's training data"
    return "overlap with the steering predictor's training data is unknown"
