"""Offline replay upstream: an OpenAI-compatible server answering from RouterBench.

It backs the embedded default catalog (``api_base: builtin:replay``) so the router
answers real requests with no API keys: a benchmark prompt gets the chosen model's
recorded answer and usage, any other prompt a clearly labelled simulated answer.
"""

from router.replay.app import create_replay_app
from router.replay.data import ReplayDataset, ReplayRecord

__all__ = ["ReplayDataset", "ReplayRecord", "create_replay_app"]
