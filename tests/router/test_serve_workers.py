"""``paretoroute serve --workers``: the per-run metrics directory and the exported settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from router.cli.workers import export_settings, metrics_directory
from router.metrics import MULTIPROC_ENV
from router.settings import Settings


def test_a_temporary_directory_is_made_and_removed(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(MULTIPROC_ENV, "")  # recorded, so the test leaves the env as it was
    monkeypatch.delenv(MULTIPROC_ENV)
    with metrics_directory() as directory:
        assert directory.is_dir() and not any(directory.iterdir())
        assert Path(os.environ[MULTIPROC_ENV]) == directory
        (directory / "counter_123.db").write_bytes(b"x")
    assert not directory.exists()
    assert MULTIPROC_ENV not in os.environ


def test_an_operator_directory_is_emptied_of_earlier_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    given = tmp_path / "multiproc"
    given.mkdir()
    (given / "counter_1.db").write_bytes(b"stale")
    (given / "gauge_livesum_1.db").write_bytes(b"stale")
    (given / "notes.txt").write_text("kept")
    monkeypatch.setenv(MULTIPROC_ENV, str(given))
    with metrics_directory() as directory:
        assert directory == given
        assert sorted(p.name for p in directory.iterdir()) == ["notes.txt"]
    assert given.is_dir()  # the operator's directory stays


def test_command_line_settings_reach_the_workers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    for name in ("HOST", "PORT", "CATALOG", "ARTIFACT", "WORKERS"):
        monkeypatch.setenv(f"PARETOROUTE_{name}", "")  # recorded, so restored afterwards
        monkeypatch.delenv(f"PARETOROUTE_{name}")
    catalog = tmp_path / "catalog.yaml"
    export_settings(Settings(port=9123, catalog=catalog, workers=3))
    seen = Settings()
    assert (seen.port, seen.catalog, seen.workers, seen.artifact) == (9123, catalog, 3, None)
