"""The decision engine: prompt → scores → cost and runtime → candidate table → policy.

Every entry point decides through ``DecisionEngine``: the HTTP endpoints (via
``router.planning``), ``/v1/route``, ``paretoroute route`` (one prompt or a batch) and
the benches. It holds what is fixed for the life of a catalog (model cards, economics,
the static columns of the candidate table, the length prior for named requests), so a
decision only does per-prompt work, and it returns one ``DecisionOutcome`` whose
``decision.ranking`` is the full order fallbacks and exploration walk.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from policies import CandidateTable, Decision, NoFeasibleModel, Preferences, decide
from policies.cost import Estimates, estimate, served_cost, unit_prices
from policies.economics import ModelEconomics
from policies.runtime import RuntimeEstimator
from predictors.base import ModelCard, Prompt, Scorer, ScoreTable
from predictors.prior import prior_lengths
from predictors.records import EvalRecord
from predictors.tokens import count_prompt_tokens
from router.catalog import Catalog, CatalogModel
from router.errors import ContextLengthError, NoFeasibleModelError


@dataclass(frozen=True, slots=True)
class DecisionOutcome:
    """Everything one decision produced, for headers, ``/v1/route`` and logs."""

    decision: Decision
    table: CandidateTable
    scores: ScoreTable
    estimates: Estimates
    prompt_tokens: int
    profile: str
    decision_ms: float


def model_card(model: CatalogModel) -> ModelCard:
    """What the predictors may know about a catalog model."""
    config = model.config
    return ModelCard(
        name=config.name,
        params_b=config.params_b,
        release_date=config.release_date,
        tags=tuple(config.tags),
        is_local=model.is_local,
    )


def model_economics(model: CatalogModel) -> ModelEconomics:
    """The cost-relevant facts of a catalog model."""
    config = model.config
    return ModelEconomics(
        name=config.name,
        input_usd_per_token=model.input_usd_per_token,
        output_usd_per_token=model.output_usd_per_token,
        usd_per_request=config.usd_per_request,
        is_local=model.is_local,
        params_b=config.params_b,
        accelerator=config.accelerator,
        context_window=model.context_window,
    )


def _ordinal(day: date | None) -> int:
    return day.toordinal() if day else 0


class DecisionEngine:
    """Scores every catalog model for a prompt and lets the policy choose."""

    def __init__(
        self, catalog: Catalog, scorer: Scorer, runtime: RuntimeEstimator | None = None
    ) -> None:
        self.catalog = catalog
        self.scorer = scorer
        self.cards = tuple(model_card(m) for m in catalog.models)
        self.economics = tuple(model_economics(m) for m in catalog.models)
        self._prices = unit_prices(self.economics)
        #: Completion tokens per model when no prompt is scored (named-model requests).
        self.length_prior = prior_lengths(self.cards)
        self._sources: tuple[str, ...] | None = None
        self.runtime = runtime or RuntimeEstimator.from_economics(self.economics)
        self._models = catalog.names()
        self._context = np.array([m.context_window for m in catalog.models], dtype=np.int64)
        self._is_local = np.array([m.is_local for m in catalog.models], dtype=np.bool_)
        self._params = np.array(
            [m.config.params_b or np.nan for m in catalog.models], dtype=np.float64
        )
        self._release = np.array(
            [_ordinal(m.config.release_date) for m in catalog.models], dtype=np.int64
        )

    def quality_sources(self) -> dict[str, str]:
        """Per model, where the scorer's quality figure comes from (see ``QualitySource``)."""
        if self._sources is None:
            self._sources = self.scorer.score([""], self.cards).source
        return dict(zip(self._models, self._sources, strict=True))

    def seed_runtime(self, records: Iterable[EvalRecord]) -> int:
        """Fit runtimes from eval records that carry latency; returns how many were used."""
        by_model: dict[str, list[tuple[float, float, float]]] = {}
        for record in records:
            prompt, completion, latency = (
                record.prompt_tokens,
                record.completion_tokens,
                record.latency_s,
            )
            if prompt is None or completion is None or latency is None:
                continue
            if record.model in self.catalog.positions:
                by_model.setdefault(record.model, []).append((prompt, completion, latency))
        for model, rows in by_model.items():
            prompts, completions, latencies = zip(*rows, strict=True)
            self.runtime.observe_many(model, prompts, completions, latencies)
        return sum(len(rows) for rows in by_model.values())

    def estimate(
        self, prompt_tokens: int, completion_tokens: Sequence[float] | np.ndarray
    ) -> Estimates:
        """Predicted cost and runtime of every catalog model for one request."""
        params = [self.runtime.params(m.name) for m in self.economics]
        tokens = np.asarray(completion_tokens, dtype=np.float64)
        return estimate(self.economics, params, prompt_tokens, tokens, prices=self._prices)

    def named_cost(self, index: int, prompt_tokens: int) -> float:
        """Predicted cost of a request named for the model at ``index`` (length prior)."""
        return self.cost_of(index, prompt_tokens, float(self.length_prior[index]))

    def cost_of(self, index: int, prompt_tokens: int, completion_tokens: float) -> float:
        """The cost of one served request on the model at ``index`` (actual token counts)."""
        economics = self.economics[index]
        runtime = self.runtime.params(economics.name) if economics.is_local else None
        return served_cost(economics, runtime, prompt_tokens, completion_tokens)

    def decide_prompt(
        self,
        prompt: Prompt,
        prefs: Preferences,
        *,
        profile: str,
        max_output_tokens: int | None = None,
    ) -> DecisionOutcome:
        """Decide which model serves ``prompt``; raise a 4xx ``RouterError`` if none can."""
        return self.decide_many(
            [prompt], prefs, profile=profile, max_output_tokens=max_output_tokens
        )[0]

    def decide_many(
        self,
        prompts: Sequence[Prompt],
        prefs: Preferences,
        *,
        profile: str,
        max_output_tokens: int | None = None,
    ) -> list[DecisionOutcome]:
        """One decision per prompt, all scored in one batch."""
        start = time.perf_counter()
        scores = self.scorer.score(list(prompts), self.cards)
        return [
            self.decide_scores(
                scores.row(row),
                prompt,
                prefs,
                profile=profile,
                max_output_tokens=max_output_tokens,
                started=start,
            )
            for row, prompt in enumerate(prompts)
        ]

    def decide_scores(
        self,
        scores: ScoreTable,
        prompt: Prompt,
        prefs: Preferences,
        *,
        profile: str,
        max_output_tokens: int | None = None,
        started: float | None = None,
    ) -> DecisionOutcome:
        """``decide`` for a prompt already scored (row 0 of ``scores``)."""
        return self.decide(
            scores,
            count_prompt_tokens(prompt),
            prefs,
            profile=profile,
            max_output_tokens=max_output_tokens,
            started=time.perf_counter() if started is None else started,
        )

    def decide(
        self,
        scores: ScoreTable,
        prompt_tokens: int,
        prefs: Preferences,
        *,
        profile: str,
        max_output_tokens: int | None,
        started: float,
    ) -> DecisionOutcome:
        """The policy's choice given one prompt's scores (row 0 of ``scores``).

        ``started`` is the ``time.perf_counter()`` at which the decision began, so the
        reported decision time includes scoring however it was done.
        """
        completion = scores.completion_tokens[0]
        if max_output_tokens:
            completion = (
                np.full_like(completion, float(max_output_tokens))
                if prefs.worst_case_cost
                else np.minimum(completion, float(max_output_tokens))
            )
        estimates = self.estimate(prompt_tokens, completion)
        table = CandidateTable(
            models=self._models,
            quality=scores.quality[0],
            cost_usd=estimates.cost_usd,
            runtime_s=estimates.runtime_s,
            context_window=self._context,
            is_local=self._is_local,
            params_b=self._params,
            release_ordinal=self._release,
        )
        try:
            decision = decide(
                table, prefs, prompt_tokens=prompt_tokens, max_output_tokens=max_output_tokens or 0
            )
        except NoFeasibleModel as error:
            raise _routing_error(error, prompt_tokens) from None
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        return DecisionOutcome(
            decision=decision,
            table=table,
            scores=scores,
            estimates=estimates,
            prompt_tokens=prompt_tokens,
            profile=profile,
            decision_ms=elapsed_ms,
        )


def _routing_error(
    error: NoFeasibleModel, prompt_tokens: int
) -> ContextLengthError | NoFeasibleModelError:
    if error.constraint == "context_window":
        return ContextLengthError(
            f"This request needs {prompt_tokens} prompt tokens (plus max_tokens), more than "
            f"the context window of every model that could serve it. {error}",
            param="messages",
        )
    return NoFeasibleModelError(str(error), param=f"router.{error.constraint}")
