"""Running the server in N uvicorn worker processes with one set of metrics.

uvicorn starts each worker as a fresh interpreter that builds its app from the
``router.app:create_app`` factory, so what the command line set must reach the workers
through the environment: this is the one place that writes it, at process start.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from router.metrics import MULTIPROC_ENV
from router.settings import Settings


def export_settings(settings: Settings) -> None:
    """Put the settings given explicitly (the command line's) where the workers read them.

    Secrets are never rewritten: they reach the workers as they came, in the environment.
    Complex values are written as JSON, which pydantic-settings parses back.
    """
    for name in sorted(settings.model_fields_set):
        value = getattr(settings, name)
        if value is None or isinstance(value, SecretStr):
            continue
        dumped = settings.model_dump(mode="json", include={name})[name]
        text = dumped if isinstance(dumped, str) else json.dumps(dumped)
        os.environ[f"PARETOROUTE_{name.upper()}"] = text


@contextmanager
def metrics_directory() -> Iterator[Path]:
    """A clean per-run directory for prometheus-client's multiprocess mode.

    An operator's ``PROMETHEUS_MULTIPROC_DIR`` is used (emptied of earlier runs' files);
    otherwise a temporary directory is made and removed at exit.
    """
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        yield directory
        return
    directory = Path(tempfile.mkdtemp(prefix="paretoroute-metrics-"))
    os.environ[MULTIPROC_ENV] = str(directory)
    try:
        yield directory
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)


def run(settings: Settings) -> None:
    """Serve with ``settings.workers`` processes (one: in this process, as before)."""
    import uvicorn

    from router.head_write import server_protocol

    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "access_log": settings.access_log,
        "loop": "uvloop",
        # httptools with a header-read deadline (uvicorn has none of its own), each
        # response's head written with its body.
        "http": server_protocol(settings.header_timeout_s),
        "timeout_keep_alive": settings.keep_alive_timeout_s,
        "timeout_graceful_shutdown": settings.graceful_shutdown_s,
    }
    if settings.workers == 1:
        from router.app import create_app

        uvicorn.run(create_app(settings), **options)
        return
    export_settings(settings)
    with metrics_directory():
        uvicorn.run("router.app:create_app", factory=True, workers=settings.workers, **options)
