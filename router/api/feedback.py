"""``POST /v1/feedback``: how an answer turned out, stored against the logged request.

Exactly one of ``score`` (in [0, 1]), ``thumbs`` (``up``/``down``) or ``label`` (≤ 64
characters), plus an optional ``comment``. A second judgement of the same request
replaces the first and the answer says ``updated: true``. An id the request log does not
hold is a 404 ``request_not_found``.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from router.api.openapi import ERROR_RESPONSES
from router.errors import InvalidRequestError, RequestNotFoundError
from router.requestlog.feedback_store import Judgement
from router.schemas import ErrorBody
from router.services import Services

api = APIRouter(tags=["feedback"])

_JUDGEMENTS = ("score", "thumbs", "label")


class FeedbackRequest(BaseModel):
    """The body of ``POST /v1/feedback``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: str = Field(min_length=1, max_length=64)
    score: float | None = Field(default=None, ge=0, le=1, strict=True, allow_inf_nan=False)
    thumbs: Literal["up", "down"] | None = None
    label: str | None = Field(default=None, min_length=1, max_length=64)
    comment: str | None = Field(default=None, max_length=2000)

    def judgement(self) -> Judgement:
        """The validated judgement; a 400 unless exactly one kind was given."""
        given = [name for name in _JUDGEMENTS if getattr(self, name) is not None]
        if len(given) != 1:
            got = "none" if not given else ", ".join(repr(name) for name in given)
            raise InvalidRequestError(
                f"Exactly one of 'score', 'thumbs' or 'label' is required; got {got}.",
                param=given[1] if len(given) > 1 else "score",
            )
        return Judgement(self.request_id, self.score, self.thumbs, self.label, self.comment)


class FeedbackResponse(BaseModel):
    """Where the feedback went."""

    object: Literal["feedback"] = "feedback"
    request_id: str
    #: The model that served the request (None if it failed before a model was chosen).
    model: str | None
    #: True when this replaced earlier feedback on the same request.
    updated: bool


_RESPONSES = {
    **ERROR_RESPONSES,
    404: {"model": ErrorBody, "description": "No logged request has this id."},
}


@api.post("/v1/feedback", response_model=FeedbackResponse, responses=_RESPONSES)
async def post_feedback(request: Request, body: FeedbackRequest) -> FeedbackResponse:
    """Record a score, thumbs or label for a request the router served."""
    services: Services = request.app.state.services
    judgement = body.judgement()
    log = services.request_log
    if log is None or log.feedback is None:
        raise RequestNotFoundError(
            "The request log is off (PARETOROUTE_REQUEST_LOG=false), so no request can be "
            "found to attach feedback to.",
            param="request_id",
        )
    stored = await asyncio.to_thread(log.feedback.record, judgement)
    if stored is None:
        raise RequestNotFoundError(
            f"No request with id {body.request_id!r} in the request log.", param="request_id"
        )
    return FeedbackResponse(
        request_id=stored.request_id, model=stored.model, updated=stored.updated
    )
