"""A throwaway PostgreSQL server (Debian's binaries) in a temp dir on a free loopback port."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.router.servers import free_port


def postgres_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/<v>/bin`` that has ``initdb``, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    return Path(found[-1]).parent if found else None


def _version(path: str) -> float:
    try:
        return float(Path(path).parts[-3])
    except ValueError:
        return 0.0


def _runner() -> dict[str, Any]:
    """initdb refuses to run as root: then run the server as the ``postgres`` user."""
    if os.geteuid() != 0:
        return {}
    account = pwd.getpwnam("postgres")
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _run(args: list[str], runner: dict[str, Any]) -> None:
    subprocess.run(args, check=True, capture_output=True, cwd="/", **runner)


@contextmanager
def postgres_server(bin_dir: Path) -> Iterator[str]:
    """Start a server; yield its SQLAlchemy URL; stop it and delete its files."""
    runner = _runner()
    root = Path(tempfile.mkdtemp(prefix="paretoroute-pg-"))
    data = root / "data"
    if runner:
        os.chown(root, runner["user"], runner["group"])
    port = free_port()
    try:
        _run([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"], runner)
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        start = [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-t", "60"]
        _run([*start, "-l", str(root / "server.log"), "start"], runner)
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], runner)
    finally:
        shutil.rmtree(root, ignore_errors=True)
