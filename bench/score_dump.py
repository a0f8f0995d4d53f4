"""Dump the shipped artifact's scores and decisions on every RouterBench prompt id.

Usage: ``python bench/score_dump.py OUT.npz`` (run once per checkout with
``PYTHONPATH=<checkout>``, then compare the two files array by array): the batch scores of
all 2,218 prompt ids, and the scores, costs, choices and rankings of the first 800 decided one
at a time through ``DecisionEngine.decide_prompt`` (the server path).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "data" / "routerbench.jsonl.gz"


def main(out: str) -> None:
    from predictors.records import load_records, pivot
    from router.cli.route import build_engine
    from router.selection import build_preferences, resolve_model_field
    from router.settings import Settings

    engine = build_engine(Settings())
    choice = resolve_model_field("auto", engine.catalog)
    _, prefs = build_preferences(choice, engine.catalog, None, None)
    texts = list(pivot(load_records(DATA)).prompts)
    batch = engine.scorer.score(texts, engine.cards)
    chats = [p if isinstance(p, list) else [{"role": "user", "content": p}] for p in texts[:800]]
    one = [engine.decide_prompt(chat, prefs, profile="balanced") for chat in chats]
    width = len(engine.cards)
    ranking = [[*o.decision.ranking, *[-1] * (width - len(o.decision.ranking))] for o in one]
    np.savez(
        out,
        quality=batch.quality,
        tokens=batch.completion_tokens,
        one_quality=np.vstack([o.scores.quality for o in one]),
        one_tokens=np.vstack([o.scores.completion_tokens for o in one]),
        one_cost=np.vstack([o.table.cost_usd for o in one]),
        choice=np.array([o.decision.index for o in one]),
        ranking=np.array(ranking),
    )
    print(f"{len(texts)} prompts scored, {len(one)} decided -> {out}")


if __name__ == "__main__":
    main(sys.argv[1])
