"""OpenAI wire schemas and the ``router`` preference object.

Request models use ``extra="allow"`` so any OpenAI field we do not model (``logprobs``,
``parallel_tool_calls``, ``reasoning_effort``, ...) passes through to the upstream
untouched; the fields we do model are type-checked so bad input fails here with a
precise ``param``. ``RouterPreferences`` is the opposite: ``extra="forbid"``, because a
misspelt constraint silently ignored would route to the wrong model; it is generated from
``policies.preferences`` (the one definition of every preference field).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model

from policies.preferences import Preferences, PreferenceSpec, preference_specs

Role = Literal["system", "developer", "user", "assistant", "tool", "function"]


class ChatMessage(BaseModel):
    """One message of a chat; content is text or a list of typed parts."""

    model_config = ConfigDict(extra="allow")

    role: Role
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None


class _PreferenceWire(BaseModel):
    """Base of the generated ``RouterPreferences`` (see ``preference_wire_model``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    #: A catalog profile to start from (every generated model has it).
    profile: str | None = Field(default=None, description="A catalog profile to start from.")

    def explicit(self) -> dict[str, Any]:
        """Only the fields the caller actually set (``profile`` excluded)."""
        return self.model_dump(exclude_none=True, exclude={"profile"})


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


_WIRE_TYPES: dict[str, Any] = {
    "weight": float,
    "number": float,
    "fraction": float,
    "bool": bool,
    "names": Annotated[list[str], BeforeValidator(_split_csv)],
    "date": date,
}


def _wire_field(rule: PreferenceSpec) -> tuple[Any, Any]:
    wire = Field(default=None, description=rule.doc, ge=rule.ge, gt=rule.gt, le=rule.le)
    return _WIRE_TYPES[rule.kind] | None, wire


def preference_wire_model(
    cls: type[Preferences] = Preferences, name: str = "RouterPreferences"
) -> type[_PreferenceWire]:
    """The body's ``router`` object (and headers, catalog profiles) for ``cls``: every
    preference field optional, bounds and docs from its ``PreferenceSpec``, plus
    ``profile``. Generated, so it cannot drift from ``policies.preferences``."""
    fields: dict[str, Any] = {k: _wire_field(rule) for k, rule in preference_specs(cls).items()}
    model = create_model(name, __base__=_PreferenceWire, **fields)
    model.__doc__ = (
        "Caller preferences, from the body's ``router`` object or ``x-paretoroute-*`` headers."
    )
    return model


#: Caller preferences: ``cost_weight`` is quality points per USD, ``latency_weight`` quality
#: points per second (utility = quality - cost_weight*cost - latency_weight*runtime);
#: ``willingness_to_pay`` is USD per +1.0 quality per request (cost_weight = 1/wtp).
if TYPE_CHECKING:
    RouterPreferences = _PreferenceWire
else:
    RouterPreferences = preference_wire_model()


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


class ModelEntry(BaseModel):
    """One entry of ``GET /v1/models``."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    """``GET /v1/models``."""

    object: Literal["list"] = "list"
    data: list[ModelEntry]


class ErrorDetail(BaseModel):
    """OpenAI's error object."""

    message: str
    type: str
    param: str | None
    code: str | None


class ErrorBody(BaseModel):
    """Every non-2xx response body."""

    error: ErrorDetail
