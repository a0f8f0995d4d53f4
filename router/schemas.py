"""OpenAI wire schemas and the ``router`` preference object.

Request models use ``extra="allow"`` so any OpenAI field we do not model (``logprobs``,
``parallel_tool_calls``, ``reasoning_effort``, ...) passes through to the upstream
untouched; the fields we do model are type-checked so bad input fails here with a
precise ``param``. ``RouterPreferences`` is the opposite: ``extra="forbid"``, because a
misspelt constraint silently ignored would route to the wrong model.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Role = Literal["system", "developer", "user", "assistant", "tool", "function"]


class ChatMessage(BaseModel):
    """One message of a chat; content is text or a list of typed parts."""

    model_config = ConfigDict(extra="allow")

    role: Role
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None


class RouterPreferences(BaseModel):
    """Caller preferences, from the body's ``router`` object or ``x-paretoroute-*`` headers.

    Units: ``cost_weight`` is quality points per USD, ``latency_weight`` quality points
    per second (utility = quality - cost_weight*cost - latency_weight*runtime);
    ``willingness_to_pay`` is USD per +1.0 quality per request (cost_weight = 1/wtp).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: str | None = None
    cost_weight: float | None = Field(default=None, ge=0)
    latency_weight: float | None = Field(default=None, ge=0)
    willingness_to_pay: float | None = Field(default=None, gt=0)
    max_cost_usd: float | None = Field(default=None, ge=0)
    max_latency_s: float | None = Field(default=None, gt=0)
    min_quality: float | None = Field(default=None, ge=0, le=1)
    allowed_models: list[str] | None = None
    blocked_models: list[str] | None = None
    local_only: bool | None = None
    max_params_b: float | None = Field(default=None, gt=0)
    min_release_date: date | None = None
    fallback_on_infeasible: bool | None = None
    target_spend_usd_per_hour: float | None = Field(default=None, gt=0)
    #: Cost with ``max_tokens`` as the completion length instead of the predicted one.
    worst_case_cost: bool | None = None

    @field_validator("allowed_models", "blocked_models", mode="before")
    @classmethod
    def _split_csv(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def explicit(self) -> dict[str, Any]:
        """Only the fields the caller actually set."""
        return self.model_dump(exclude_none=True, exclude={"profile"})


class _GenerationFields(BaseModel):
    """Fields shared by chat and legacy completions that the router itself reads."""

    model_config = ConfigDict(extra="allow")

    model: str = "auto"
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    n: int | None = Field(default=None, ge=1, le=128)
    stop: str | list[str] | None = None
    seed: int | None = None
    user: str | None = None
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    router: RouterPreferences | None = None


class ChatCompletionRequest(_GenerationFields):
    """``POST /v1/chat/completions``; ``model``: a catalog model, ``auto`` or ``auto:<name>``."""

    messages: list[ChatMessage] = Field(min_length=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    stream_options: dict[str, Any] | None = None

    def output_token_limit(self) -> int | None:
        """The caller's cap on completion tokens, whichever field carried it."""
        return self.max_completion_tokens or self.max_tokens


class CompletionRequest(_GenerationFields):
    """Legacy ``POST /v1/completions``."""

    prompt: str | list[str] = Field(min_length=1)

    def output_token_limit(self) -> int | None:
        """The caller's cap on completion tokens."""
        return self.max_tokens


class ModelRow(BaseModel):
    """One catalog model in a routing decision."""

    model: str
    predicted_quality: float
    quality_source: str
    predicted_cost_usd: float
    predicted_runtime_s: float
    #: Cost-aware runtime: runtime x accelerators the model occupies (self-hosted cost basis).
    predicted_accelerator_s: float
    accelerators: int
    runtime_source: str
    predicted_completion_tokens: float
    utility: float
    on_pareto_front: bool
    feasible: bool
    infeasible_reason: str | None


class RouteResponse(BaseModel):
    """``POST /v1/route``: the decision without calling any upstream."""

    id: str
    object: Literal["route.decision"] = "route.decision"
    model: str
    profile: str
    reason: str
    fell_back: bool
    prompt_tokens: int
    decision_ms: float
    scorer: str
    preferences: dict[str, Any]
    models: list[ModelRow]


class ModelCard(BaseModel):
    """One entry of ``GET /v1/models``."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    """``GET /v1/models``."""

    object: Literal["list"] = "list"
    data: list[ModelCard]


class ErrorDetail(BaseModel):
    """OpenAI's error object."""

    message: str
    type: str
    param: str | None
    code: str | None


class ErrorBody(BaseModel):
    """Every non-2xx response body."""

    error: ErrorDetail
