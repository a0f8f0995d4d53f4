"""``/v1/route`` details: unknown models flagged, runtime sources, fallback headers."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from router.app import create_app
from router.catalog import parse_catalog
from router.settings import Settings
from tests.router.conftest import catalog_document
from tests.router.servers import live_server

MESSAGES = [{"role": "user", "content": "Write a function that adds two numbers."}]


def extended_catalog(api_base: str) -> dict:
    document = catalog_document(api_base)
    document["models"].append(
        {
            "name": "my-local-llama",
            "litellm_model": "hosted_vllm/meta-llama/Llama-3.1-8B-Instruct",
            "api_base": api_base,
            "provider": "local",
            "params_b": 8,
            "accelerator": "l4",
            "context_window": 8192,
            "release_date": "2024-07-23",
        }
    )
    document["profiles"]["strict-or-fallback"] = {
        "min_quality": 0.999,
        "fallback_on_infeasible": True,
    }
    return document


def test_route_flags_priors_runtime_sources_and_fallback(upstream_url: str, tmp_path: Path):
    records = tmp_path / "latency.jsonl"
    lines = [
        {
            "id": f"r{i}",
            "prompt": "x",
            "model": "gpt-3.5-turbo-1106",
            "score": 1.0,
            "prompt_tokens": 10 + (7 * i) % 40,
            "completion_tokens": 5 + 3 * i,
            "latency_s": 0.1 + 0.02 * (5 + 3 * i),
        }
        for i in range(40)
    ]
    records.write_text("".join(json.dumps(line) + "\n" for line in lines))
    catalog = parse_catalog(extended_catalog(upstream_url), "extended")
    app = create_app(Settings(runtime_records=records), catalog=catalog)  # shipped predictor
    with live_server(app) as url:
        decision = httpx.post(url + "/v1/route", json={"messages": MESSAGES}).json()
        rows = {row["model"]: row for row in decision["models"]}
        assert rows["my-local-llama"]["quality_source"] == "metadata-prior"
        assert rows["gpt-4-1106-preview"]["quality_source"] == "learned"
        assert rows["gpt-3.5-turbo-1106"]["runtime_source"] == "fitted"
        assert rows["my-local-llama"]["runtime_source"] == "analytic"
        local = rows["my-local-llama"]
        assert (
            local["predicted_accelerator_s"] == local["predicted_runtime_s"] * local["accelerators"]
        )
        assert local["predicted_cost_usd"] > 0  # priced from runtime x L4 $/hour
        ready = httpx.get(url + "/readyz").json()
        assert ready["quality_sources"]["my-local-llama"] == "metadata-prior"
        assert ready["quality_sources"]["gpt-4-1106-preview"] == "learned"

        body = {"model": "auto:strict-or-fallback", "messages": MESSAGES}
        response = httpx.post(url + "/v1/chat/completions", json=body)
        assert response.status_code == 200, response.text
        assert response.headers["x-paretoroute-fallback"] == "no model met min_quality"
        route = httpx.post(url + "/v1/route", json=body).json()
        assert route["fell_back"] is True
        assert not any(row["feasible"] for row in route["models"])
