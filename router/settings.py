"""Server configuration: one pydantic-settings class, read from ``PARETOROUTE_*``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
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
    #: uvicorn worker processes for ``paretoroute serve``; /metrics sums over them.
    workers: int = Field(default=1, ge=1)
    #: Where local state lives (the SQLite request log, ``paretoroute.db``).
    data_dir: Path = Path(".paretoroute")
    #: SQLAlchemy URL of the request log; default ``sqlite:///<data_dir>/paretoroute.db``.
    database_url: str | None = None
    #: Record every generation request (router.requestlog); feedback needs it.
    request_log: bool = True
    #: Rows waiting for the writer; when full, rows are dropped and counted, never waited on.
    request_log_queue_size: int = Field(default=10_000, ge=1)
    #: Also store prompt and completion text in the request log (off: metadata only).
    log_content: bool = False
    #: Timeouts, retries, fallback, circuit breakers, upstream response caps.
    resilience: ResilienceSettings = Field(default_factory=ResilienceSettings)
    log_level: str = "info"
    access_log: bool = False
