"""One prompt's similarities to its group's training prompts, the old way and the new.

From the product with all 2,218 training vectors (then the group's entries), or from the
group's window of rows (``predictors.row_window``), alternating in one process. (At
47720c0 this file also timed a block memo for the structure counts, since reverted: it
was faster hot and slower after a cache flush.)

Inputs are the vectors of the 64 bench prompts, each made unique as in
``bench/overhead.py`` (``overhead_lib.bench_content``). Each way is timed hot (the same
call in a loop) and after writing a 24 MB buffer (the caches hold none of its data, as in
a server where the rest of each request runs between two decisions). Prints the median
µs per call of each round and the median of rounds.

    .venv/bin/python bench/stage_savings.py [--rounds 5] [--calls 640]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).parent)]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from overhead_lib import bench_content, bench_prompts  # noqa: E402

_FLUSH = np.zeros(24 * 2**20 // 8)


def _per_call_us(fn: Callable[[int], object], calls: int, flush: bool) -> float:
    times = []
    for i in range(calls):
        if flush:
            np.add(_FLUSH, 1.0, out=_FLUSH)
        started = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=640)
    args = parser.parse_args()

    from predictors.artifact import load_scorer
    from predictors.prompts import embedding_text, last_user_text
    from predictors.structure import structure_features

    scorer = load_scorer()
    model = scorer.model  # type: ignore[attr-defined]
    builder = model.features
    prompts = bench_prompts()
    table = builder._group_rows()
    messages = [[{"role": "user", "content": bench_content(p, i)}] for i, p in enumerate(prompts)]
    vectors = scorer.embedder.embed([embedding_text(m) for m in messages])  # type: ignore[attr-defined]
    structure = structure_features([last_user_text(m) for m in messages])  # type: ignore[arg-type]
    groups = np.argmax(model.prior.group_proba(vectors, structure), axis=1)
    train = builder.train_vectors_

    windowed = [table[int(g)] for g in groups]
    assert all(found.window is not None for found in windowed)
    whole = [found._replace(window=None) for found in windowed]  # the full product

    def full(i: int) -> np.ndarray:
        k = i % len(prompts)
        return whole[k].similarities(vectors[k : k + 1], train)

    def window(i: int) -> np.ndarray:
        k = i % len(prompts)
        return windowed[k].similarities(vectors[k : k + 1], train)

    for i in range(len(prompts)):  # the windows give the full product's bits
        assert np.array_equal(full(i), window(i))

    cases: dict[str, Callable[[int], object]] = {
        "similarities, full product": full,
        "similarities, group window": window,
    }
    results: dict[str, list[float]] = {}
    for r in range(args.rounds):
        for flush in (False, True):
            for name, fn in cases.items():
                key = f"{name}{' (after cache flush)' if flush else ''}"
                results.setdefault(key, []).append(_per_call_us(fn, args.calls, flush))
        print(f"round {r + 1}/{args.rounds} done", flush=True)
    print("\nmedian µs per call (rounds; median of rounds)")
    for key, values in results.items():
        rounds = ", ".join(f"{v:.1f}" for v in values)
        print(f"  {key:<46} {statistics.median(values):7.1f}   [{rounds}]")


if __name__ == "__main__":
    main()
