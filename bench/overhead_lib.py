"""The moving parts of ``bench/overhead.py``: processes, catalog, wrk runs, sanity check.

Kept apart from the script so each piece stays small; see ``overhead.py`` for the method.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Literal

import httpx
import orjson
import yaml
from rich.console import Console
from rich.progress import Progress
from server_view import describe, scrape

from router.replay.data import ReplayDataset

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CATALOG = ROOT / "router" / "data" / "default_catalog.yaml"
NAMED_MODEL = "mistralai/mixtral-8x7b-chat"
PROMPTS = 64
SENTINEL = "@@N@@"
Target = Literal["direct", "router", "litellm"]
#: Master key for the optional LiteLLM proxy baseline (it refuses to start without one).
PROXY_KEY = "sk-paretoroute-bench-0123456789abcdef"
Mode = Literal["named", "auto"]


@dataclass(frozen=True, slots=True)
class Scenario:
    """One wrk run: where to, which model field, streaming or not, how many connections."""

    target: Target
    mode: Mode
    stream: bool
    concurrency: int


@dataclass(frozen=True, slots=True)
class Result:
    """wrk's summary of one scenario (latencies in milliseconds)."""

    scenario: Scenario
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float
    #: The router's own view of the run (``server_view.describe``); None for other targets.
    server: dict[str, str] | None = None


def speed_probe_ms() -> float:
    """Milliseconds for a fixed pure-Python loop (best of three): how fast this machine is
    running right now. On a shared VM it moves by tens of percent from one hour to the
    next; figures from runs with different probes are not comparable."""
    best = math.inf
    for _ in range(3):
        started = time.perf_counter()
        sum(range(10_000_000))
        best = min(best, time.perf_counter() - started)
    return best * 1000.0


_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def _stat(path: Path) -> list[str]:
    """The fields of a /proc ``stat`` file after the command name (state first)."""
    return path.read_text().rsplit(")", 1)[1].split()


def cpu_s(pid: int, thread: int | None = None) -> float:
    """User + system CPU seconds so far of process ``pid`` (all its threads, ended ones
    included), or of its thread ``thread`` alone (``pid`` itself: the main thread)."""
    path = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    fields = _stat(Path(path))
    return (int(fields[11]) + int(fields[12])) * _TICK_S


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int(_stat(entry / "stat")[1])
            except OSError:
                continue
            if parent == pid:
                found.append(int(entry.name))
    return found


def tree_cpu_s(pid: int) -> float:
    """``cpu_s(pid)`` plus that of its child processes, running or ended and waited for:
    the router's CPU including its request-log writer process."""
    fields = _stat(Path(f"/proc/{pid}/stat"))
    seconds = sum(int(x) for x in fields[13:15]) * _TICK_S  # cutime, cstime: ended ones
    for child in [pid, *children(pid)]:
        try:
            seconds += cpu_s(child)
        except OSError:
            continue  # it ended between the listing and the read
    return seconds


def load_line() -> str:
    """``load 1, 5 and 15 min, speed probe N ms``: what the machine was doing, for a report."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"load {load}, speed probe {speed_probe_ms():.0f} ms"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Processes:
    """Child processes started in their own session and always stopped on exit."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: dict[str, subprocess.Popen[bytes]] = {}

    def __enter__(self) -> Processes:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for child in self.children.values():
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        for child in self.children.values():
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()

    def start(
        self,
        name: str,
        command: list[str],
        ready_url: str,
        timeout_s: float = 30,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        """Start ``command`` and wait until ``ready_url`` answers 200."""
        log = (self.log_dir / f"{name}.log").open("wb")
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
        env |= extra_env or {}
        child = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        self.children[name] = child
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if child.poll() is not None:
                break
            try:
                if httpx.get(ready_url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{name} did not become ready at {ready_url}:\n{tail}")


def write_catalog(folder: Path, upstream_port: int) -> Path:
    """The default catalog with every model pointed at the fixed upstream."""
    catalog = yaml.safe_load(DEFAULT_CATALOG.read_text())
    for model in catalog["models"]:
        model["api_base"] = f"http://127.0.0.1:{upstream_port}/v1"
        model["litellm_model"] = f"openai/{model['name']}"
    path = folder / "bench_catalog.yaml"
    path.write_text(yaml.safe_dump(catalog, sort_keys=False))
    return path


def router_command(
    port: int,
    catalog: Path,
    artifact: str | None,
    workers: int = 1,
    checkout: Path | None = None,
) -> list[str]:
    """``paretoroute serve`` (``workers`` uvicorn workers) from ``checkout``, else this one.

    The checkout goes first on ``sys.path`` inside the command: ``PYTHONPATH`` is not
    enough, because ``python -c`` puts the working directory ahead of it.
    """
    first = str(checkout or ROOT)
    boot = f"import sys; sys.path.insert(0, {first!r}); from router.cli import main; main()"
    command = [sys.executable, "-c", boot, "serve"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--catalog", str(catalog)]
    command += ["--workers", str(workers)]
    return command + (["--artifact", artifact] if artifact else [])


def proxy_command(litellm_bin: str, folder: Path, upstream_port: int, port: int) -> list[str]:
    """The LiteLLM proxy (one worker, no routing) serving the named model from the upstream."""
    config = {
        "model_list": [
            {
                "model_name": NAMED_MODEL,
                "litellm_params": {
                    "model": "openai/bench-fixed",
                    "api_base": f"http://127.0.0.1:{upstream_port}/v1",
                    "api_key": "unused",
                },
            }
        ],
        "litellm_settings": {"telemetry": False},
    }
    path = folder / "litellm_proxy.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    command = [litellm_bin, "--config", str(path), "--host", "127.0.0.1", "--port", str(port)]
    return [*command, "--num_workers", "1"]


def _long_string(text: str) -> str:
    level = "=" * 4
    while f"]{level}]" in text:
        level += "="
    return f"[{level}[{text}]{level}]"


def bench_prompts() -> list[str]:
    """``PROMPTS`` real RouterBench prompts, evenly spaced over the replay data."""
    records = ReplayDataset.load().records
    return [r.prompt for r in records[:: max(1, len(records) // PROMPTS)]][:PROMPTS]


def bench_content(prompt: str, counter: object) -> str:
    """``prompt`` made unique by ``counter``, which ends its last block (its question), so
    no request's question was seen before while its template and worked examples repeat,
    as in real traffic: a cache of whole prompts never hits, one of repeated blocks hits
    as it would in use."""
    return f"{prompt} [bench request {counter}]"


def wrk_script(mode: Mode, stream: bool) -> str:
    """A wrk Lua script posting real RouterBench prompts, each made unique by a counter
    (``bench_content``)."""
    model = "auto" if mode == "auto" else NAMED_MODEL
    prefixes, suffixes = [], []
    for prompt in bench_prompts():
        message = {"role": "user", "content": bench_content(prompt, SENTINEL)}
        body = {"model": model, "messages": [message], "max_tokens": 64, "stream": stream}
        prefix, suffix = orjson.dumps(body).decode().split(SENTINEL)
        prefixes.append(_long_string(prefix))
        suffixes.append(_long_string(suffix))
    template = (Path(__file__).parent / "overhead.lua").read_text()
    template = template.replace("__KEY__", PROXY_KEY)
    return template.replace("__PREFIXES__", ",\n".join(prefixes)).replace(
        "__SUFFIXES__", ",\n".join(suffixes)
    )


def run_wrk(port: int, script: Path, concurrency: int, duration_s: int) -> dict[str, float]:
    """Run wrk once and return the JSON its ``done`` hook prints."""
    wrk = shutil.which("wrk") or "/usr/bin/wrk"
    command = [wrk, "-t1", f"-c{concurrency}", f"-d{duration_s}s", "--timeout", "10s"]
    command += ["-s", str(script), f"http://127.0.0.1:{port}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(x for x in output.splitlines() if x.startswith("WRKJSON "))
    parsed: dict[str, float] = orjson.loads(line.removeprefix("WRKJSON "))
    return parsed


def _measure(scenario: Scenario, port: int, script: Path, duration_s: int) -> Result:
    raw = run_wrk(port, script, scenario.concurrency, duration_s)
    return Result(
        scenario=scenario,
        requests=int(raw["requests"]),
        errors=int(raw["errors"]),
        rps=raw["requests"] / (raw["duration_us"] / 1e6),
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
    )


def run_scenarios(
    runs: list[Scenario], ports: dict[str, int], folder: Path, duration_s: int, console: Console
) -> list[Result]:
    """Every scenario in order, each (target, mode, stream) warmed up once for a second."""
    results, warmed = [], set()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("wrk runs", total=len(runs))
        for run in runs:
            key = (run.target, run.mode, run.stream)
            script = folder / f"{run.target}-{run.mode}-{int(run.stream)}.lua"
            if key not in warmed:
                script.write_text(wrk_script(run.mode, run.stream))
                run_wrk(ports[run.target], script, 8, 1)
                warmed.add(key)
            progress.update(task, description=f"{key} c={run.concurrency}")
            if run.target != "router":
                results.append(_measure(run, ports[run.target], script, duration_s))
            else:
                seen = scrape(ports["router"])
                result = _measure(run, ports[run.target], script, duration_s)
                server = describe(seen, scrape(ports["router"]))
                results.append(replace(result, server=server))
            progress.advance(task)
    return results


def router_scorer(router_port: int) -> str:
    """The scorer the router loaded (from ``/readyz``), e.g. the prior or a trained artifact."""
    ready = httpx.get(f"http://127.0.0.1:{router_port}/readyz", timeout=10).json()
    return str(ready.get("scorer"))


def sanity_check(router_port: int) -> str:
    """One named and one auto request through the router; fails loudly if either is wrong."""
    url = f"http://127.0.0.1:{router_port}/v1/chat/completions"
    lines = []
    for model in (NAMED_MODEL, "auto"):
        body = {"model": model, "messages": [{"role": "user", "content": "What is 2 + 2?"}]}
        response = httpx.post(url, json=body, timeout=30)
        if response.status_code != 200:
            raise RuntimeError(f"router answered {response.status_code}: {response.text}")
        lines.append(
            f"sanity: model={model!r} -> {response.headers.get('x-paretoroute-model')} "
            f"(decision {response.headers.get('x-paretoroute-decision-ms')} ms)"
        )
    return "\n".join(lines)
