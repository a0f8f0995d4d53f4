"""Bring your own models and data, end to end, exactly as README.md's section says.

On a synthetic pool the test generates (5 models, 3 tasks, one of them graded), with no
prices and no tokens, and again with both: the README's shell commands run in order
(``import-wide`` → ``data check`` → ``train`` → ``eval`` → ``route --input``), then its
``serve`` line becomes ``create_app`` under a live uvicorn server and ``/v1/route``.
Every step must exit 0 and write valid JSON, and on held-out prompts the learned router's
accuracy at cost_weight 0 must reach the task prior's on every task.
"""

from __future__ import annotations

import csv
import json
import re
import shlex
from pathlib import Path

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from router.app import create_app
from router.cli import app as cli_app
from router.settings import Settings
from tests.predictors.synthetic_pool import MODELS, PRICES, TASKS, write_pool
from tests.router.servers import live_server

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_section() -> tuple[list[str], dict]:
    """The section's shell command lines and its catalog YAML."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Bring your own models and data", 1)[1].split("\n## ", 1)[0]
    shell = re.findall(r"```bash\n(.*?)```", section, re.S)[0]
    catalog = yaml.safe_load(re.findall(r"```yaml\n(.*?)```", section, re.S)[0])
    return [line for line in shell.splitlines() if line.strip()], catalog


def pool_catalog(template: dict, with_prices: bool) -> dict:
    """The README's catalog with one entry per synthetic model (hosted with list prices
    when the pool has prices, else local without a price, as the README shows)."""
    entry = template["models"][0]
    models = []
    for name, (input_price, output_price) in zip(MODELS, PRICES, strict=True):
        model = {**entry, "name": name, "litellm_model": f"openai/{name}"}
        if with_prices:
            model |= {"provider": "hosted", "input_usd_per_token": input_price,
                      "output_usd_per_token": output_price}  # fmt: skip
        models.append(model)
    return {**template, "models": models}


def run(args: list[str]) -> str:
    result = CliRunner().invoke(cli_app, args, catch_exceptions=False)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result.output


def serve_and_route(line: str, prompts: list[str], with_prices: bool) -> None:
    env = dict(token.split("=", 1) for token in shlex.split(line) if "=" in token)
    settings = Settings(artifact=Path(env["PARETOROUTE_ARTIFACT"]),
                        catalog=Path(env["PARETOROUTE_CATALOG"]))  # fmt: skip
    with live_server(create_app(settings)) as url:
        for prompt in prompts:
            messages = [{"role": "user", "content": prompt}]
            response = httpx.post(url + "/v1/route", json={"messages": messages}, timeout=60)
            assert response.status_code == 200, response.text
            body = json.loads(response.text)  # strict JSON: no NaN
            rows = {row["model"]: row for row in body["models"]}
            assert set(rows) == set(MODELS)
            assert {row["quality_source"] for row in rows.values()} == {"learned"}
            expected = "learned" if with_prices else "default"
            assert {row["length_source"] for row in rows.values()} == {expected}
            assert ("routed on quality only" in body["reason"]) is not with_prices
            best = max(rows.values(), key=lambda row: row["predicted_quality"])
            assert body["model"] == best["model"]  # the catalog's profile: cost_weight 0


def check_outputs(folder: Path, with_prices: bool) -> None:
    metrics = json.loads((folder / "my_report" / "metrics.json").read_text())
    assert (metrics["cost_metrics"] == "reported") is with_prices
    assert ("aiq" in metrics["overall"]["routers"]["learned"]) is with_prices
    for task in TASKS:
        routers = metrics["per_task"][task]["routers"]
        learned = routers["learned"]["accuracy_at_cost_weight_0"]
        assert learned >= routers["task-prior"]["accuracy_at_cost_weight_0"], task
    for name in ("best-single", "knn", "mlp", "oracle"):
        assert 0 <= metrics["overall"]["routers"][name]["accuracy_at_cost_weight_0"] <= 1
    rows = [json.loads(line) for line in (folder / "decisions.jsonl").read_text().splitlines()]
    assert len(rows) == 30 and {row["model"] for row in rows} <= set(MODELS)
    assert all((row["predicted_cost_usd"] is None) is not with_prices for row in rows)
    manifest = json.loads((folder / "my_router" / "manifest.json").read_text())
    assert manifest["score_types"] == {"math": "binary", "summary": "graded", "trivia": "binary"}
    assert set(manifest["task_gate"]) == set(TASKS)


@pytest.mark.slow
@pytest.mark.parametrize("with_prices", [False, True], ids=["no-prices", "prices-and-tokens"])
def test_readme_bring_your_own_runs_end_to_end(tmp_path, monkeypatch, with_prices) -> None:
    monkeypatch.chdir(tmp_path)
    write_pool(tmp_path / "my_results.csv", 300, with_prices=with_prices)
    write_pool(tmp_path / "my_test.csv", 120, seed=1, start=10_000, with_prices=with_prices)
    with (tmp_path / "my_test.csv").open(encoding="utf-8") as handle:
        prompts = [row["prompt"] for row in csv.DictReader(handle)][:30]
    (tmp_path / "prompts.jsonl").write_text(
        "".join(json.dumps({"id": f"p{i}", "prompt": p}) + "\n" for i, p in enumerate(prompts))
    )
    commands, template = readme_section()
    (tmp_path / "my_catalog.yaml").write_text(yaml.safe_dump(pool_catalog(template, with_prices)))
    serve = [line for line in commands if line.split()[-1] == "serve"]
    assert len(serve) == 1 and len(commands) == 7
    for line in commands:
        if line in serve:
            continue
        assert line.startswith("paretoroute ")
        output = run(shlex.split(line)[1:])
        if "train" in line.split()[:2]:
            assert "nan" not in output.lower()
            assert ("quality-only" in output) is not with_prices
    single = json.loads(run(["route", "--artifact", "my_router", "--json", prompts[0]]))
    assert single["model"] in MODELS  # no catalog: the artifact's own models
    report = json.loads(run(["data", "check", "my_data.jsonl.gz", "--json"]))
    assert report["has_costs"] is with_prices and report["has_completion_tokens"] is with_prices
    assert report["tasks"]["summary"]["score_type"] == "graded"
    check_outputs(tmp_path, with_prices)
    serve_and_route(serve[0], prompts[:6], with_prices)
