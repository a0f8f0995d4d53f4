"""Packaged replay data (``routerbench_replay.jsonl.gz``)."""
