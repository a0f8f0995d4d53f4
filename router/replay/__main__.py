"""Serve the replay upstream on its own: ``python -m router.replay --port 9000``."""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from router.replay.app import create_replay_app
from router.replay.data import ReplayDataset


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and run uvicorn until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--data", type=Path, default=None, help="replay file (gzip JSONL)")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    app = create_replay_app(ReplayDataset.load(args.data))
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
