"""``import paretoroute`` pulls in httpx and pydantic, nothing of the server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import paretoroute

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "fastapi",
    "uvicorn",
    "starlette",
    "torch",
    "lightgbm",
    "sentence_transformers",
    "model2vec",
    "litellm",
    "sklearn",
    "aiohttp",
    "router",
    "predictors",
    "policies",
)


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return {name.split(".")[0] for name in json.loads(out.splitlines()[-1])}


def test_sdk_imports_without_server_modules():
    loaded = _modules_after("import paretoroute\nfrom paretoroute import Client, AsyncClient")
    assert {"paretoroute", "httpx", "pydantic"} <= loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_a_client_call_loads_nothing_more(tmp_path):
    # Building clients and parsing an answer must not lazily import the server either.
    code = (
        "import paretoroute as pr\n"
        "pr.Client('http://127.0.0.1:9').close()\n"
        "pr.ChatCompletion.model_validate({'id': 'x', 'model': 'm', 'choices': []})\n"
        "pr.RouterPreferences(max_cost_usd=1).wire()"
    )
    loaded = _modules_after(code)
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_public_names_are_exported():
    assert set(paretoroute.__all__) == {n for n in dir(paretoroute) if not n.startswith("_")} - {
        "async_client",
        "client",
        "errors",
        "preferences",
        "streaming",
        "types",
    }
