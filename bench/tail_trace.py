"""Loaded into a router process by ``bench/tail_causes.py``: times each request and each
piece of background work, and writes them as JSON when the process exits.

Timed, on the ``time.perf_counter`` clock (CLOCK_MONOTONIC, so comparable across
processes):

* ``request``: uvicorn's ``RequestResponseCycle.run_asgi``, from the parsed request to
  the last byte handed to the transport;
* ``gc``: every cyclic collection (``gc.callbacks``), with its generation;
* ``log_write``: one request-log batch on the writer thread (``RequestLog._write_safely``);
* ``runtime_fit``: one runtime refit (``fit_runtime``) on the refit thread.

The wrappers call the originals unchanged. Each is a measuring tool for this bench only:
the server never imports this module.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import time
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http import httptools_impl

from policies import runtime
from router.requestlog import writer

#: Where the events go; set by ``bench/tail_causes.py``.
OUTPUT_ENV = "PARETOROUTE_TAIL_TRACE"
EVENTS: dict[str, list[list[float]]] = {
    "request": [],
    "gc": [],
    "log_write": [],
    "runtime_fit": [],
}
clock = time.perf_counter


def _timed(kind: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = clock()
        try:
            return function(*args, **kwargs)
        finally:
            EVENTS[kind].append([started, clock()])

    return timed


def _timed_request(run_asgi: Callable[..., Any]) -> Callable[..., Any]:
    async def timed(self: Any, app: Any) -> None:
        started = clock()
        try:
            await run_asgi(self, app)
        finally:
            EVENTS["request"].append([started, clock()])

    return timed


_gc_started = [0.0]


def _gc_callback(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_started[0] = clock()
    else:
        EVENTS["gc"].append([_gc_started[0], clock(), float(info["generation"])])


def _dump() -> None:
    with open(os.environ[OUTPUT_ENV], "w") as handle:
        json.dump(EVENTS, handle)


RequestCycle: Any = httptools_impl.RequestResponseCycle
RequestCycle.run_asgi = _timed_request(RequestCycle.run_asgi)
writer.RequestLog._write_safely = _timed("log_write", writer.RequestLog._write_safely)  # type: ignore[method-assign]
runtime.fit_runtime = _timed("runtime_fit", runtime.fit_runtime)
gc.callbacks.append(_gc_callback)
atexit.register(_dump)
