"""Cost model, idealized runtime, Pareto front and the caller's preferences (numpy only).

The router builds a ``CandidateTable`` per request with ``estimate`` and hands it to
``decide`` together with frozen ``Preferences`` (built once by ``merge``); see
``docs/policies.md`` and ``docs/ARCHITECTURE.md``.
"""

from policies.choice import choose_rows, rank_rows, utility
from policies.constraints import CONSTRAINTS, Constraint, constraint_names
from policies.cost import Estimates, estimate, hosted_cost
from policies.decide import decide
from policies.economics import ACCELERATORS, AcceleratorProfile, ModelEconomics
from policies.errors import NoFeasibleModel, NoFeasibleModelError, PolicyError
from policies.pareto import pareto_front
from policies.preferences import Preferences, merge, preference_specs
from policies.types import CandidateTable, Decision

__all__ = [
    "ACCELERATORS",
    "CONSTRAINTS",
    "AcceleratorProfile",
    "CandidateTable",
    "Constraint",
    "Decision",
    "Estimates",
    "ModelEconomics",
    "NoFeasibleModel",
    "NoFeasibleModelError",
    "PolicyError",
    "Preferences",
    "choose_rows",
    "constraint_names",
    "decide",
    "estimate",
    "hosted_cost",
    "merge",
    "pareto_front",
    "preference_specs",
    "rank_rows",
    "utility",
]
