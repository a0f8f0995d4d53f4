"""The request log's insert cost once it holds many rows: random ids against time-ordered ids.

The ``requests`` table's primary key is the request id. For each id scheme it builds a
SQLite log (the real schema, through Alembic) holding ``--rows`` rows with ids of that
scheme, then writes ``--inserts`` more exactly as the writer thread does at low load:
batches of ``--batch`` rows, one transaction each, through ``RowInserter``.
Reported per scheme: the writing thread's CPU and the wall time per row. Rows look like
an ``auto`` request's (eleven per-model predictions, ~2.6 KB); the schemes alternate
over ``--rounds``, each round on fresh copies.

    .venv/bin/python bench/request_log_ids.py [--rows 200000] [--inserts 4000] [--batch 8]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.progress import Progress

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from router.request_ids import request_id_at  # noqa: E402
from router.requestlog.database import open_database  # noqa: E402
from router.requestlog.row_insert import RowInserter  # noqa: E402
from router.requestlog.schema import REQUEST_COLUMNS  # noqa: E402

MODELS = [f"provider/model-{n}" for n in range(11)]


def random_id(_milliseconds: int) -> str:
    """The scheme before: ``pr-`` and a uuid4's 32 hex digits (no time in it)."""
    return f"pr-{uuid.uuid4().hex}"


#: Scheme name → the id of a request made at a given millisecond.
SCHEMES: dict[str, Callable[[int], str]] = {
    "random (uuid4)": random_id,
    "time-ordered": request_id_at,
}


def now_ms() -> int:
    """Milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def row(request_id: str, number: int) -> dict[str, Any]:
    """A routed request's row, with a prediction table of eleven models."""
    predictions = [
        {
            "model": name,
            "quality": 0.5 + 0.01 * k,
            "cost_usd": 1e-4 * (k + 1),
            "runtime_s": 0.2 * (k + 1),
            "completion_tokens": 180.0 + k,
            "utility": 0.4 + 0.01 * k,
            "on_front": k % 3 == 0,
            "feasible": True,
            "reason": None,
        }
        for k, name in enumerate(MODELS)
    ]
    values: dict[str, Any] = dict.fromkeys(REQUEST_COLUMNS)
    return values | {
        "id": request_id,
        "created_at": datetime.now(UTC),
        "endpoint": "chat",
        "requested_model": "auto",
        "profile": "balanced",
        "preferences": {"cost_weight": 0.5, "latency_weight": 0.0},
        "predictions": predictions,
        "scorer": "artifact",
        "chosen_model": MODELS[number % len(MODELS)],
        "decision_reason": "highest utility among 11 candidates",
        "fallback_chain": [],
        "predicted_cost_usd": 1e-4,
        "prompt_tokens": 220,
        "completion_tokens": 16,
        "cost_usd": 1e-4,
        "decision_ms": 0.9,
        "upstream_ms": 0.5,
        "total_ms": 2.0,
        "stream": False,
        "status_code": 200,
    }


def fill(path: Path, scheme: str, rows: int, progress: Progress) -> None:
    """A log at ``path`` holding ``rows`` rows whose ids follow ``scheme``."""
    engine = open_database(f"sqlite:///{path}")
    inserter = RowInserter(engine.dialect)
    make_id, start_ms = SCHEMES[scheme], now_ms() - rows  # one row per millisecond up to now
    task = progress.add_task(f"filling, {scheme}", total=rows)
    for first in range(0, rows, 1000):
        count = min(1000, rows - first)
        ids = [make_id(start_ms + first + n) for n in range(count)]
        with engine.begin() as connection:
            inserter.insert(connection, [row(i, first + n) for n, i in enumerate(ids)])
        progress.advance(task, count)
    engine.dispose()


def insert_cost(path: Path, scheme: str, inserts: int, batch: int) -> tuple[float, float]:
    """CPU and wall microseconds per row for ``inserts`` rows in ``batch``-row commits."""
    engine = open_database(f"sqlite:///{path}")
    inserter = RowInserter(engine.dialect)
    make_id = SCHEMES[scheme]
    batches = [
        [row(make_id(now_ms()), start + n) for n in range(batch)]
        for start in range(0, inserts, batch)
    ]
    cpu, wall = time.thread_time(), time.perf_counter()
    for rows in batches:
        with engine.begin() as connection:
            inserter.insert(connection, rows)
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    engine.dispose()
    written = len(batches) * batch
    return cpu / written * 1e6, wall / written * 1e6


def main(argv: list[str] | None = None) -> int:
    """Build one log per scheme, then time inserts into copies of it, alternating."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="rows already in the log")
    parser.add_argument("--inserts", type=int, default=4000, help="rows timed per round")
    parser.add_argument("--batch", type=int, default=8, help="rows per transaction")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    results: dict[str, list[tuple[float, float]]] = {scheme: [] for scheme in SCHEMES}
    with tempfile.TemporaryDirectory(prefix="pr-log-ids-") as name, Progress() as progress:
        folder = Path(name)
        for number, scheme in enumerate(SCHEMES):
            fill(folder / f"base-{number}.db", scheme, args.rows, progress)
        for round_number in range(args.rounds):
            order = list(enumerate(SCHEMES))
            for number, scheme in order if round_number % 2 == 0 else order[::-1]:
                copy = folder / "timed.db"
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{copy}{suffix}").unlink(missing_ok=True)
                shutil.copyfile(folder / f"base-{number}.db", copy)
                results[scheme].append(insert_cost(copy, scheme, args.inserts, args.batch))
    print(
        f"\nlog holding {args.rows:,} rows; {args.inserts:,} more per round in "
        f"{args.batch}-row transactions; median of {args.rounds} rounds\n"
    )
    print("| request ids | CPU us/row | wall us/row | rounds (CPU / wall) |")
    print("| --- | ---: | ---: | --- |")
    for scheme, runs in results.items():
        cpu = statistics.median(c for c, _ in runs)
        wall = statistics.median(w for _, w in runs)
        rounds = ", ".join(f"{c:.0f} / {w:.0f}" for c, w in runs)
        print(f"| {scheme} | {cpu:.1f} | {wall:.1f} | {rounds} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
