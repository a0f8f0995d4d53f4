"""A growing conversation: what counting its tokens costs per turn, with and without
remembering the counts of messages already seen (``predictors.text_memo``).

A chat client resends the whole history every turn. The conversation here is real
RouterBench prompts (user) and one model's real answers (assistant), one pair per turn.
For every ``--every``-th turn the bench times ``count_message_tokens`` on the history so
far, whose last user message is new on every call (so never remembered): with a fresh
table (every message counted, as before the cache) and with the shared table as a server
holds it after the earlier turns. Then the whole server decision
(``DecisionEngine.decide_prompt``) on the last turn, both ways.

    .venv/bin/python bench/chat_history_tokens.py [--turns 20] [--calls 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from overhead_lib import load_line  # noqa: E402


def _median_ms(call: Callable[[int], object], calls: int) -> float:
    times = []
    for number in range(calls):
        started = time.perf_counter()
        call(number)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _with_new_last(history: list[dict[str, Any]], number: int) -> list[dict[str, Any]]:
    """``history`` whose last (user) message is one no count has seen: this turn's news."""
    last = history[-1]
    return [*history[:-1], {**last, "content": f"{last['content']} (call {number})"}]


def _conversation(turns: int) -> list[dict[str, Any]]:
    from router.replay.data import ReplayDataset

    records = ReplayDataset.load().records
    messages: list[dict[str, Any]] = []
    for record in records[: turns * 7 : 7]:
        answer = next(iter(record.responses.values()))
        messages.append({"role": "user", "content": record.prompt})
        messages.append({"role": "assistant", "content": str(answer)})
    return messages


def main(argv: list[str] | None = None) -> int:
    """Print one markdown table: per turn, the count's time uncached and cached."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args(argv)
    from decision_latency import server_engine

    from predictors import tokens
    from predictors.text_memo import TextMemo
    from router.process import prepare_environment

    prepare_environment(compute_threads=1)
    print(f"at start: {load_line()}")
    conversation = _conversation(args.turns)
    shared = tokens.MESSAGE_COUNTS

    def fresh_table(call: Callable[[], object]) -> object:
        tokens.MESSAGE_COUNTS = TextMemo(tokens.count_tokens)
        try:
            return call()
        finally:
            tokens.MESSAGE_COUNTS = shared

    print("\n| turn | messages | prompt tokens | count, every message ms | history remembered ms |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for turn in range(1, args.turns + 1):
        history = conversation[: 2 * turn - 1]  # up to this turn's user message
        tokens.count_message_tokens(history[:-1])  # the server saw the earlier turns
        if turn % args.every and turn != 1:
            continue
        cold = _median_ms(
            lambda n, h=history: fresh_table(
                lambda: tokens.count_message_tokens(_with_new_last(h, n))
            ),
            args.calls,
        )
        warm = _median_ms(
            lambda n, h=history: tokens.count_message_tokens(_with_new_last(h, n)), args.calls
        )
        count = tokens.count_message_tokens(history)
        assert fresh_table(lambda h=history: tokens.count_message_tokens(h)) == count
        print(f"| {turn} | {len(history)} | {count} | {cold:.3f} | {warm:.3f} |")
    engine, prefs = server_engine()
    last = conversation[: 2 * args.turns - 1]

    def decide(number: int) -> object:
        return engine.decide_prompt(_with_new_last(last, number), prefs, profile="balanced")

    cold = _median_ms(lambda n: fresh_table(lambda: decide(n)), args.calls)
    warm = _median_ms(decide, args.calls)
    print(
        f"\nwhole decision at turn {args.turns}: {cold:.3f} ms counting every message, "
        f"{warm:.3f} ms with the earlier turns remembered"
    )
    print(f"at end: {load_line()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
