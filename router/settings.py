"""Server configuration: one pydantic-settings class, read from ``PARETOROUTE_*``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from router.resilience.config import ResilienceSettings


class Settings(BaseSettings):
    """Everything the server reads from its environment.

    ``PARETOROUTE_CATALOG=catalog.yaml`` picks a catalog file (default: the embedded
    RouterBench pool served by the replay upstream); ``PARETOROUTE_ARTIFACT`` a trained
    predictor directory (default: the shipped one); ``PARETOROUTE_SCORER=prior`` the
    prompt-independent mean-quality prior instead.
    """

    model_config = SettingsConfigDict(
        env_prefix="PARETOROUTE_", env_nested_delimiter="__", extra="ignore"
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    catalog: Path | None = None
    #: ``artifact`` (the trained predictor at ``artifact``) or ``prior`` (per-model means).
    scorer: Literal["artifact", "prior"] = "artifact"
    #: A trained artifact directory (default: the shipped one).
    artifact: Path | None = None
    #: Eval records (JSONL) whose ``latency_s`` seed the per-model runtime fits at start.
    runtime_records: Path | None = None
    #: A request field that is not an OpenAI field: ``reject`` (400, as OpenAI answers) or
    #: ``drop`` (named in ``x-paretoroute-dropped-fields``). Provider fields such as
    #: ``api_base`` are refused either way (router.upstream.fields).
    unknown_fields: Literal["reject", "drop"] = "reject"
    max_body_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    upstream_timeout_s: float | None = Field(default=None, gt=0)
    #: Threads for numpy/torch/LightGBM inside the routing decision (the box has 2 cores).
    compute_threads: int = Field(default=1, ge=1)
    #: Score the prompt of the only request in flight on the event loop (no thread
    #: hand-off); overlapping requests are batched on the scoring thread (router.batching).
    score_inline_when_idle: bool = True
    #: uvicorn worker processes for ``paretoroute serve``; /metrics sums over them.
    workers: int = Field(default=1, ge=1)
    #: Where local state lives (``paretoroute.db``: request log, feedback, virtual keys).
    data_dir: Path = Path(".paretoroute")
    #: SQLAlchemy URL of the request log; default ``sqlite:///<data_dir>/paretoroute.db``.
    database_url: str | None = None
    #: Record every generation request (router.requestlog); feedback needs it.
    request_log: bool = True
    #: Rows waiting for the writer; when full, rows are dropped and counted, never waited on.
    request_log_queue_size: int = Field(default=10_000, ge=1)
    #: Where rows are built and written: a child process (no GIL shared with the event
    #: loop) or the server's own writer thread.
    request_log_writer: Literal["process", "thread"] = "process"
    #: Also store prompt and completion text in the request log (off: metadata only).
    log_content: bool = False
    #: Timeouts, retries, fallback, circuit breakers, upstream response caps.
    resilience: ResilienceSettings = Field(default_factory=ResilienceSettings)
    log_level: str = "info"
    access_log: bool = False
    #: Callers (router.auth): unset = auth off; set = every /v1 call needs this key or a
    #: virtual key, and /admin/keys needs this key.
    master_key: SecretStr | None = None
    #: Seconds a looked-up virtual key is cached (revocation from another process lands
    #: within this time; the same process drops it at once).
    key_cache_s: float = Field(default=5.0, ge=0)
    #: Requests per minute over all callers, enforced across replicas that share Redis.
    global_rpm: int | None = Field(default=None, gt=0)
    #: Shared state for limits and budgets (router.limits); unset = in-process, one node.
    redis_url: SecretStr | None = None
    redis_timeout_s: float = Field(default=1.0, gt=0)
    #: After a Redis connection error, skip Redis for this long and apply the failure policy.
    redis_retry_s: float = Field(default=1.0, ge=0)
    #: Redis down: ``open`` lets the request through, ``closed`` answers 503.
    redis_fail_rate: Literal["open", "closed"] = "open"
    redis_fail_parallel: Literal["open", "closed"] = "open"
    redis_fail_budget: Literal["open", "closed"] = "closed"
    #: A parallel slot whose holder died is freed after this long.
    parallel_slot_ttl_s: float = Field(default=900.0, gt=0)
    #: Server limits (router.limits.server); None = no cap on concurrent requests.
    max_concurrent_requests: int | None = Field(default=512, gt=0)
    header_timeout_s: float = Field(default=10.0, gt=0)
    body_timeout_s: float = Field(default=15.0, gt=0)
    keep_alive_timeout_s: int = Field(default=5, gt=0)
    graceful_shutdown_s: int = Field(default=30, gt=0)
