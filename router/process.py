"""Process-wide setup, done once at process start: the only place that writes os.environ.

Called by the console script (``router.cli.main``), the test session (``tests/conftest.py``)
and the bench scripts, before anything imports litellm, transformers or numpy's BLAS
pools. Modules never change the environment themselves; the one other writer is the
``serve`` command starting N workers (``router.cli.workers``: it hands its settings and
the metrics directory to the worker processes it is about to start).
"""

from __future__ import annotations

import os

#: Offline by design: no hub downloads, litellm's bundled price map, no telemetry.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def prepare_environment(compute_threads: int | None = None) -> None:
    """Set the offline switches (keeping values the caller already set) and, given
    ``compute_threads``, the BLAS/OpenMP thread counts for pools not yet started."""
    for name, value in OFFLINE_ENV.items():
        os.environ.setdefault(name, value)
    if compute_threads is not None:
        for name in THREAD_ENV:
            os.environ.setdefault(name, str(compute_threads))
