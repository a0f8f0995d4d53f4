"""Convert the RouterBench CSVs into the compact replay file shipped with the router.

Reads ``<source>/*.csv`` (RouterBench train splits, see ``/work/shared/data/README.md``)
and writes ``router/replay/data/routerbench_replay.jsonl.gz``: one JSON object per prompt
with the prompt text, every model's recorded response, score, recorded cost and token
counts (``predictors.tokens.count_tokens``, cl100k_base).

Cleaning, all of it:

* ``prompt`` and ``<model>|model_response`` cells are Python list literals of one string;
  they are unwrapped with ``ast.literal_eval`` and otherwise left untouched.
* Rows whose prompt list holds more than one string are dropped. In these RouterBench
  files that is 8 ARC-Challenge rows that repeat the same prompt twice, have doubled
  costs and no score for 10 of the 11 models.
* An empty cell drops that model from that prompt's ``responses``/``scores``/``cost_usd``.

Usage: ``python scripts/build_replay_data.py [--source DIR] [--out FILE]``; it prints a
per-model price fit (least squares of recorded cost on prompt and completion tokens),
the numbers behind ``docs/default-catalog.md``.
"""

from __future__ import annotations

import argparse
import ast
import csv
import gzip
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from rich.console import Console
from rich.progress import track
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from predictors.tokens import count_tokens  # noqa: E402  (needs the repo on sys.path)

DEFAULT_SOURCE = Path("/work/shared/data/routerbench")
DEFAULT_OUT = ROOT / "router" / "replay" / "data" / "routerbench_replay.jsonl.gz"
FILES = {
    "arc_challenge_train.csv": "arc-challenge",
    "mbpp_train.csv": "mbpp",
    "winograde_train.csv": "winogrande",
}
RESPONSE_SUFFIX = "|model_response"
COST_SUFFIX = "|total_cost"


@dataclass(frozen=True, slots=True)
class PriceFit:
    """Per-token prices that best reproduce one model's recorded costs."""

    model: str
    input_usd_per_token: float
    output_usd_per_token: float
    median_abs_rel_error: float
    max_abs_rel_error: float
    rows: int


def unwrap_one(cell: str) -> str | None:
    """The single string inside a one-element list literal; None if it is not one."""
    value = ast.literal_eval(cell)
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        return value[0]
    return None


def model_names(header: list[str]) -> list[str]:
    """Models are the columns that have a matching ``|model_response`` column."""
    return [c[: -len(RESPONSE_SUFFIX)] for c in header if c.endswith(RESPONSE_SUFFIX)]


def convert_row(row: dict[str, str], task: str, models: list[str]) -> dict[str, Any] | None:
    """One replay record, or None for a row that is not a single prompt."""
    prompt = unwrap_one(row["prompt"])
    if prompt is None:
        return None
    record: dict[str, Any] = {
        "id": row["sample_id"],
        "task": task,
        "prompt": prompt,
        "responses": {},
        "scores": {},
        "cost_usd": {},
        "prompt_tokens": count_tokens(prompt),
        "completion_tokens": {},
    }
    for model in models:
        response_cell, cost, score = (
            row[model + RESPONSE_SUFFIX],
            row[model + COST_SUFFIX],
            row[model],
        )
        if not (response_cell and cost and score):
            continue
        response = unwrap_one(response_cell)
        if response is None:
            continue
        record["responses"][model] = response
        record["scores"][model] = int(float(score))
        record["cost_usd"][model] = float(cost)
        record["completion_tokens"][model] = count_tokens(response)
    return record


def read_task(path: Path, task: str) -> Iterator[dict[str, Any]]:
    """Replay records of one CSV file (prompts that are not a single string skipped)."""
    csv.field_size_limit(1 << 30)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        models = model_names(list(reader.fieldnames or []))
        rows = list(reader)
    for row in track(rows, description=f"{task:<14}", transient=True):
        record = convert_row(row, task, models)
        if record is not None:
            yield record


def dedupe_ids(records: list[dict[str, Any]]) -> None:
    """Make ``id`` unique (a safety net: in the shipped files only dropped rows reuse ids)."""
    seen: dict[str, int] = {}
    for record in records:
        count = seen.get(record["id"], 0)
        seen[record["id"]] = count + 1
        if count:
            record["id"] = f"{record['id']}#{count}"


def fit_prices(records: list[dict[str, Any]]) -> list[PriceFit]:
    """Least-squares per-token prices (no intercept) for every model in the records."""
    models = sorted({m for r in records for m in r["cost_usd"]})
    fits = []
    for model in models:
        rows = [r for r in records if model in r["cost_usd"]]
        tokens = np.array([[r["prompt_tokens"], r["completion_tokens"][model]] for r in rows])
        cost = np.array([r["cost_usd"][model] for r in rows])
        prices, *_ = np.linalg.lstsq(tokens.astype(float), cost, rcond=None)
        rel_error = np.abs(tokens @ prices - cost) / np.maximum(cost, 1e-12)
        fits.append(
            PriceFit(
                model=model,
                input_usd_per_token=float(prices[0]),
                output_usd_per_token=float(prices[1]),
                median_abs_rel_error=float(np.median(rel_error)),
                max_abs_rel_error=float(rel_error.max()),
                rows=len(rows),
            )
        )
    return fits


def print_fits(fits: list[PriceFit], console: Console) -> None:
    """Render the price fit as a table."""
    table = Table(title="Per-token prices fitted to RouterBench's recorded costs")
    columns = ("model", "input $/tok", "output $/tok", "median |rel err|", "max |rel err|", "rows")
    for column in columns:
        table.add_column(column)
    for fit in fits:
        table.add_row(
            fit.model,
            f"{fit.input_usd_per_token:.4g}",
            f"{fit.output_usd_per_token:.4g}",
            f"{fit.median_abs_rel_error:.2e}",
            f"{fit.max_abs_rel_error:.2e}",
            str(fit.rows),
        )
    console.print(table)


def write_records(records: list[dict[str, Any]], out: Path) -> None:
    """Write gzip JSONL, deterministic (mtime 0) so rebuilding gives identical bytes."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with (
        out.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        for record in records:
            gz.write(orjson.dumps(record) + b"\n")


def main(argv: list[str] | None = None) -> int:
    """Build the replay file and print the price fit."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    console = Console(width=120)
    records: list[dict[str, Any]] = []
    for filename, task in FILES.items():
        before = len(records)
        records.extend(read_task(args.source / filename, task))
        console.print(f"{task}: {len(records) - before} prompts")
    dedupe_ids(records)
    write_records(records, args.out)
    size_kib = args.out.stat().st_size / 1024
    console.print(f"wrote {len(records)} prompts to {args.out} ({size_kib:.0f} KiB)")
    print_fits(fit_prices(records), console)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
