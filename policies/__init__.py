"""Cost model, idealized runtime, Pareto front and the caller's preferences (numpy only).

The router builds a ``CandidateTable`` per request with ``estimate`` and hands it to
``decide`` together with frozen ``Preferences``; see ``docs/policies.md``.
"""

from policies.cost import Estimates, estimate
from policies.decide import CONSTRAINTS, decide
from policies.economics import ACCELERATORS, AcceleratorProfile, ModelEconomics
from policies.errors import NoFeasibleModel, NoFeasibleModelError, PolicyError
from policies.pareto import pareto_front
from policies.types import CandidateTable, Decision, Preferences

__all__ = [
    "ACCELERATORS",
    "CONSTRAINTS",
    "AcceleratorProfile",
    "CandidateTable",
    "Decision",
    "Estimates",
    "ModelEconomics",
    "NoFeasibleModel",
    "NoFeasibleModelError",
    "PolicyError",
    "Preferences",
    "decide",
    "estimate",
    "pareto_front",
]
