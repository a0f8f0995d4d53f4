"""Markdown for ``bench/overhead.py``: the tables, the targets, the BENCHMARKS.md section."""

from __future__ import annotations

from pathlib import Path

from overhead_lib import Result
from overhead_litellm import CallTiming

SECTION = "## Router overhead"
#: Quoted from issue 2 (LiteLLM proxy, one worker, same kind of machine); not measured here.
LITELLM_PROXY_RPS = 105.0
TARGET_NAMED_MS = 3.0
TARGET_AUTO_MS = 12.0
COMMAND = (
    ".venv/bin/python bench/overhead.py --write BENCHMARKS.md [--rounds N] [--litellm-proxy PATH]"
)


def _find(results: list[Result], target: str, mode: str, stream: bool, c: int) -> Result:
    for result in results:
        s = result.scenario
        if (s.target, s.mode, s.stream, s.concurrency) == (target, mode, stream, c):
            return result
    raise KeyError((target, mode, stream, c))


SERVERS = {"router": "paretoroute", "litellm": "LiteLLM proxy"}


def latency_table(results: list[Result]) -> list[str]:
    """Each server vs direct per (model field, stream, concurrency)."""
    lines = [
        "| server | model field | stream | conc | direct p50 / p99 ms | server p50 / p99 ms "
        "| added p50 ms | added p99 ms | server req/s | direct req/s | errors |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for served in (r for r in results if r.scenario.target in SERVERS):
        s = served.scenario
        direct = _find(results, "direct", "named", s.stream, s.concurrency)
        lines.append(
            f"| {SERVERS[s.target]} | {s.mode} | {'yes' if s.stream else 'no'} | {s.concurrency} "
            f"| {direct.p50_ms:.2f} / {direct.p99_ms:.2f} "
            f"| {served.p50_ms:.2f} / {served.p99_ms:.2f} "
            f"| {served.p50_ms - direct.p50_ms:.2f} | {served.p99_ms - direct.p99_ms:.2f} "
            f"| {served.rps:.0f} | {direct.rps:.0f} | {served.errors + direct.errors} |"
        )
    return lines


def server_table(results: list[Result]) -> list[str]:
    """Per router run, what its /metrics saw: loop lag, scoring queue vs compute, GC."""
    lines = [
        "| model field | stream | conc | event-loop lag (ms) | decision queue wait (ms) "
        "| scoring compute per batch (ms) | prompts per batch | GC pauses |",
        "| --- | --- | ---: | --- | --- | --- | ---: | --- |",
    ]
    for result in results:
        if result.server is None:
            continue
        run, view = result.scenario, result.server
        lines.append(
            f"| {run.mode} | {'yes' if run.stream else 'no'} | {run.concurrency} "
            f"| {view['lag']} | {view['queue']} | {view['compute']} | {view['batch']} "
            f"| {view['gc']} |"
        )
    return lines


def _best(results: list[Result], target: str, mode: str, stream: bool) -> Result:
    candidates = [
        r
        for r in results
        if (r.scenario.target, r.scenario.mode, r.scenario.stream) == (target, mode, stream)
    ]
    return max(candidates, key=lambda r: r.rps)


def _proxy_rps(results: list[Result], stream: bool) -> tuple[float, str]:
    """The LiteLLM proxy's best req/s if it was measured in this run, else the quoted one."""
    if any(r.scenario.target == "litellm" for r in results):
        return _best(results, "litellm", "named", stream).rps, "measured"
    return LITELLM_PROXY_RPS, "quoted from issue 2"


def throughput_table(results: list[Result]) -> list[str]:
    """Highest requests/s over the concurrency levels: router vs direct and LiteLLM proxy."""
    lines = [
        "| model field | stream | router max req/s (conc) | direct max req/s (conc) "
        "| router / direct | LiteLLM proxy max req/s | router / LiteLLM proxy |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for mode in ("named", "auto"):
        for stream in (False, True):
            router = _best(results, "router", mode, stream)
            direct = _best(results, "direct", "named", stream)
            proxy_rps, source = _proxy_rps(results, stream)
            lines.append(
                f"| {mode} | {'yes' if stream else 'no'} "
                f"| {router.rps:.0f} ({router.scenario.concurrency}) "
                f"| {direct.rps:.0f} ({direct.scenario.concurrency}) "
                f"| {router.rps / direct.rps:.3f} | {proxy_rps:.0f} ({source}) "
                f"| {router.rps / proxy_rps:.2f}x |"
            )
    return lines


def litellm_table(timings: list[CallTiming]) -> list[str]:
    """Per-call cost of litellm.acompletion vs a raw httpx POST."""
    lines = [
        "| client path | stream | p50 ms | mean ms | calls |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for t in timings:
        stream = "yes" if t.stream else "no"
        lines.append(f"| {t.path} | {stream} | {t.p50_ms:.3f} | {t.mean_ms:.3f} | {t.calls} |")
    by_key = {(t.path, t.stream): t for t in timings}
    for streamed in (False, True):
        extra = by_key[("litellm", streamed)].p50_ms - by_key[("httpx", streamed)].p50_ms
        kind = "streaming" if streamed else "non-streaming"
        lines.append(f"\nlitellm adds {extra:.2f} ms per {kind} call (p50) over raw httpx.")
    return lines


def targets(results: list[Result]) -> list[str]:
    """The issue's targets against what was measured."""
    lines = []
    for mode, limit in (("named", TARGET_NAMED_MS), ("auto", TARGET_AUTO_MS)):
        router = _find(results, "router", mode, False, 1)
        direct = _find(results, "direct", "named", False, 1)
        added = router.p50_ms - direct.p50_ms
        verdict = "met" if added <= limit else "NOT met"
        lines.append(
            f"- {mode}, concurrency 1: added p50 {added:.2f} ms (target <= {limit:g}) {verdict}"
        )
    references = {_proxy_rps(results, False), (LITELLM_PROXY_RPS, "quoted from issue 2")}
    for mode in ("named", "auto"):
        best = _best(results, "router", mode, False).rps
        for proxy_rps, source in sorted(references):
            verdict = "met" if best >= 2 * proxy_rps else "NOT met"
            lines.append(
                f"- throughput, {mode}: {best:.0f} req/s (target >= 2 x LiteLLM proxy = "
                f"{2 * proxy_rps:.0f}, {source}) {verdict}"
            )
    return lines


def render(
    results: list[Result],
    timings: list[CallTiming],
    before: str,
    after: str,
    duration: int,
    scorer: str,
    workers: int = 1,
    rounds: int = 1,
) -> str:
    """The whole section."""
    worker_text = "one uvicorn worker" if workers == 1 else f"{workers} uvicorn workers"
    parts = [
        SECTION,
        "",
        f"Command: `{COMMAND}` (wrk, 1 thread, {duration} s per run, after a 1 s warm-up)"
        + (
            f"; {rounds} rounds of every scenario, each row the round with the median p99."
            if rounds > 1
            else "."
        ),
        f"Machine at start: {before}.  ",
        f"At end: {after}.",
        "Load above 2 means other processes shared the two cores during the run. The speed "
        "probe is the best of three timings of `sum(range(10**7))`: this VM runs the same "
        "code at different speeds from one hour to the next (probes from 156 to 296 ms on "
        "2026-11-26/27), so compare figures only within one run.",
        "",
        f"Router: `paretoroute serve`, {worker_text}, catalog = the eleven RouterBench "
        "models all pointing at a fixed-response upstream (`bench/fixed_upstream.py`, raw "
        "asyncio). Requests: 64 real RouterBench prompts, each made unique by a counter that "
        "ends its question (its last block), so no question repeats while templates do. "
        "Latency is end to end as wrk sees it (a stream: until `[DONE]`); added = router "
        "percentile - direct percentile at the same concurrency. "
        f"Scorer used for `auto`: `{scorer}`.",
        *(
            [
                "",
                "LiteLLM proxy baseline (measured in the same run): `litellm --config ... "
                "--num_workers 1`, litellm 1.110.2, default settings, master key set, the "
                "named model only (it does no routing).",
            ]
            if any(r.scenario.target == "litellm" for r in results)
            else []
        ),
        "",
        *latency_table(results),
        "",
        "### What the router saw during each run (its own /metrics)",
        "",
        "Differences of two scrapes around each wrk run; percentiles are histogram bucket "
        "bounds. Decision queue wait: from arrival at the scorer to its batch starting "
        "(0 when the only request in flight is scored inline); compute: one batch's embed, "
        "features and predictors.",
        "",
        *server_table(results),
        "",
        "### Throughput",
        "",
        *throughput_table(results),
        "",
        "### Targets (issue 2)",
        "",
        *targets(results),
        "",
        "### litellm's own call path (in-process, sequential, same upstream)",
        "",
        *litellm_table(timings),
        "",
    ]
    return "\n".join(parts)


def write_section(path: Path, markdown: str) -> None:
    """Replace (or append) the 'Router overhead' section, leaving other sections alone."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    start = text.find(SECTION)
    if start < 0:
        path.write_text(text.rstrip("\n") + "\n\n" + markdown)
        return
    end = text.find("\n## ", start + len(SECTION))
    rest = "" if end < 0 else text[end:]
    path.write_text(text[:start] + markdown.rstrip("\n") + "\n" + rest)
