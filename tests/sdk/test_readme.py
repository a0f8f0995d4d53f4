"""The README's "Python SDK" section runs as written against the default router on loopback.

Each ```python block under that heading runs in its own fresh interpreter (as a reader
would paste it) with ``PARETOROUTE_BASE_URL`` pointing at ``create_app(Settings())``:
the embedded catalog, the shipped predictor and the replay upstream.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from router.app import create_app
from tests.router.servers import live_server
from tests.sdk.stubs import FeedbackStore, isolated_settings, with_feedback

ROOT = Path(__file__).resolve().parents[2]


def section_blocks(markdown: str, heading: str, language: str) -> list[str]:
    """The fenced ``language`` blocks between ``## heading`` and the next ``## ``."""
    start = markdown.index(f"\n## {heading}\n")
    end = markdown.find("\n## ", start + 1)
    section = markdown[start : end if end != -1 else None]
    return re.findall(rf"^```{language}\n(.*?)^```$", section, flags=re.S | re.M)


BLOCKS = section_blocks((ROOT / "README.md").read_text(), "Python SDK", "python")


def test_section_has_every_topic():
    text = "\n".join(BLOCKS)
    assert len(BLOCKS) >= 5
    for needle in ("Client()", "AsyncClient", "stream=True", ".routing", "Error", "feedback("):
        assert needle in text, needle


@pytest.fixture(scope="module")
def default_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(isolated_settings(tmp_path_factory.mktemp("data")))
    with live_server(with_feedback(app, FeedbackStore())) as url:
        yield url


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_block_runs(default_url: str, index: int):
    env = {**os.environ, "PARETOROUTE_BASE_URL": default_url}
    env.pop("PARETOROUTE_API_KEY", None)
    done = subprocess.run(
        [sys.executable, "-c", BLOCKS[index]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines
    for marker, expected in PROMISED.items():
        if marker in BLOCKS[index]:
            assert expected(lines), done.stdout


#: What the README's comments promise a block prints.
PROMISED = {
    "NoFeasibleModelError": lambda lines: (
        lines == ["400 no_feasible_model router.max_cost_usd", "404 model_not_found"]
    ),
    "client.feedback(": lambda lines: lines[-2].endswith(" False") and lines[-1] == "True",
    'print("routed to"': lambda lines: lines[0].startswith("routed to ") and len(lines) > 1,
}
