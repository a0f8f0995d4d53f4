"""Ordinary mistakes on the real ``paretoroute`` console script: one line, exit 1, no trace."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).with_name("paretoroute")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def bad_catalog(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text("models:\n  - name: x\n    litellm_model: openai/x\n    colour: red\n")
    return path


MISSING = "missing.jsonl"
CASES = {
    "import-missing": (["data", "import-routerbench", "gone.csv", "--out", "o"], "gone.csv"),
    "train-missing": (["train", "--data", MISSING, "--out", "art"], MISSING),
    "eval-missing": (["eval", "--data", MISSING, "--report", "r"], MISSING),
    "route-bad-artifact": (["route", "--artifact", ".", "hello"], "manifest.json"),
    "route-missing-input": (["route", "--input", MISSING, "--output", "o"], MISSING),
    "serve-bad-artifact": (["serve", "--artifact", ".", "--port", "0"], "manifest.json"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_mistakes_are_one_clean_line(case: str, tmp_path: Path):
    args, named = CASES[case]
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("paretoroute: error: ")
    assert named in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_bad_catalog_names_file_model_and_field(tmp_path: Path, bad_catalog: Path):
    result = run("models", "--catalog", str(bad_catalog), cwd=tmp_path)
    assert result.returncode == 1
    assert "colour" in result.stderr and str(bad_catalog) in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_2(tmp_path: Path):
    result = run("route", "--no-such-flag", cwd=tmp_path)
    assert result.returncode == 2 and "No such option" in result.stderr


def test_debug_shows_the_traceback(tmp_path: Path):
    result = run("--debug", "train", "--data", "missing.jsonl", "--out", "art", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" in result.stderr
