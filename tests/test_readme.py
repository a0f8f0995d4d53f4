"""The README runs as written: its Quickstart blocks against a live router on a free port.

The Quickstart's ``make`` lines are what this suite itself is run by (``make test``) and
what the router below stands in for (``make serve``: ``create_app(Settings())``, the
embedded default); every other shell and Python block of that section runs unchanged
except for the address, ``127.0.0.1:8000`` → the live server's.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from router.app import create_app
from router.settings import Settings
from tests.router.servers import live_server

README = Path(__file__).resolve().parents[1] / "README.md"
DEFAULT_ADDRESS = "127.0.0.1:8000"
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def section(title: str) -> str:
    """The README text under ``## title`` up to the next ``## `` heading."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


def blocks(title: str, language: str) -> list[str]:
    """The fenced code blocks of one language in one section, in order."""
    return [code for lang, code in _FENCE.findall(section(title)) if lang == language]


@pytest.fixture(scope="module")
def address() -> Iterator[str]:
    with live_server(create_app(Settings())) as url:
        yield url.removeprefix("http://")


def test_quickstart_is_exactly_make_serve_and_make_test():
    commands = [line.strip() for code in blocks("Quickstart", "bash") for line in code.splitlines()]
    assert [c for c in commands if c.startswith("make ")] == ["make serve", "make test"]


def test_quickstart_shell_blocks(address: str):
    shell = [code for code in blocks("Quickstart", "bash") if not code.startswith("make ")]
    assert shell, "the Quickstart shows a request with curl"
    for code in shell:
        assert DEFAULT_ADDRESS in code
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", code.replace(DEFAULT_ADDRESS, address)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "HTTP/1.1 200" in result.stdout and "x-paretoroute-model:" in result.stdout


def test_quickstart_python_blocks(address: str):
    code_blocks = blocks("Quickstart", "python")
    assert code_blocks, "the Quickstart shows the openai client"
    for code in code_blocks:
        result = subprocess.run(
            [sys.executable, "-c", code.replace(DEFAULT_ADDRESS, address)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip(), "the example prints what it got"
