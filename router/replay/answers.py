"""What the replay server answers: a recorded response, or a labelled simulated one.

A known benchmark prompt gets the chosen model's recorded RouterBench answer and the
recorded token usage. Any other prompt (or a model with no recording for that prompt)
gets a simulated answer that says so plainly, names the model and repeats the reason the
router gave in the ``x-paretoroute-reason`` header. ``max_tokens`` truncates the text to
that many tokens and reports ``finish_reason: "length"``.
"""

from __future__ import annotations

from dataclasses import dataclass

from predictors.tokens import count_tokens, truncate_tokens
from router.replay.data import ReplayRecord

SIMULATED_PREFIX = "[paretoroute replay: simulated answer]"
NO_REASON = "none given (the request carried no x-paretoroute-reason header)"


@dataclass(frozen=True, slots=True)
class ReplayAnswer:
    """The text of one choice plus the token counts that go into ``usage``."""

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    recorded: bool


def simulated_text(model: str, reason: str | None, why_simulated: str) -> str:
    """The clearly labelled stand-in answer for a prompt with no recording."""
    return (
        f"{SIMULATED_PREFIX} Model {model} was chosen for this prompt. "
        f"Reason: {reason or NO_REASON}. "
        f"No model was called: {why_simulated}. Point the catalog at real upstreams "
        "(see README, 'Use a real catalog') to get real answers."
    )


def _limit(text: str, tokens: int, max_tokens: int | None) -> tuple[str, int, str]:
    if max_tokens is None or tokens <= max_tokens:
        return text, tokens, "stop"
    return truncate_tokens(text, max_tokens), max_tokens, "length"


def answer(
    model: str,
    record: ReplayRecord | None,
    *,
    prompt_tokens: int,
    reason: str | None,
    max_tokens: int | None,
) -> ReplayAnswer:
    """The answer ``model`` gives: recorded when ``record`` has one, simulated otherwise.

    ``prompt_tokens`` is the caller's own count, used only for simulated answers.
    """
    if record is not None and model in record.responses:
        text, tokens, finish = _limit(
            record.responses[model], record.completion_tokens[model], max_tokens
        )
        return ReplayAnswer(text, finish, record.prompt_tokens, tokens, recorded=True)
    why = (
        f"RouterBench has no recorded answer from {model} for this prompt"
        if record is not None
        else "this prompt is not in the RouterBench replay set"
    )
    full = simulated_text(model, reason, why)
    text, tokens, finish = _limit(full, count_tokens(full), max_tokens)
    return ReplayAnswer(text, finish, prompt_tokens, tokens, recorded=False)
