"""Adding a preference touches one definition and one constraint row, nothing else.

``MorePreferences`` adds ``max_usd_per_quality`` (a cap on predicted cost per predicted
quality point) in one place: a field with its spec. ``PER_QUALITY`` is its one constraint
row. Parsing from headers or JSON, bounds, the HTTP schema, merging and the decision all
pick it up from there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from pydantic import ValidationError

from policies import CONSTRAINTS, Constraint, decide, merge
from policies.constraints import Need
from policies.preferences import Preferences, preference_specs, spec
from policies.types import BoolArray, CandidateTable
from router.schemas import preference_wire_model
from tests.policies.conftest import TableFactory


@dataclass(frozen=True, slots=True)
class MorePreferences(Preferences):
    """The one definition of the new field."""

    max_usd_per_quality: float | None = field(
        default=None, metadata=spec("number", "Cap on USD per quality point.", gt=0.0)
    )


def _per_quality(table: CandidateTable, prefs: Preferences, need: Need) -> BoolArray | None:
    cap = getattr(prefs, "max_usd_per_quality", None)
    if cap is None:
        return None
    return ~(table.cost_usd <= cap * table.quality)


PER_QUALITY = Constraint("max_usd_per_quality", _per_quality, True, "too dear per quality")


def test_the_field_is_parsed_bounded_and_merged_from_its_spec() -> None:
    assert "max_usd_per_quality" in preference_specs(MorePreferences)
    merged = merge({"cost_weight": 5}, {"max_usd_per_quality": "0.02"}, cls=MorePreferences)
    assert isinstance(merged, MorePreferences)
    assert merged.max_usd_per_quality == 0.02 and merged.cost_weight == 5.0
    with pytest.raises(ValueError, match="max_usd_per_quality"):
        merge({"max_usd_per_quality": 0}, cls=MorePreferences)
    with pytest.raises(ValueError, match="max_usd_per_quality"):
        merge({"max_usd_per_quality": "inf"}, cls=MorePreferences)


def test_the_http_schema_is_generated_from_the_same_definition() -> None:
    wire = preference_wire_model(MorePreferences, name="MorePreferencesWire")
    schema = wire.model_json_schema()["properties"]["max_usd_per_quality"]
    assert schema["anyOf"][0] == {"exclusiveMinimum": 0.0, "type": "number"}
    assert wire(max_usd_per_quality=0.5).explicit() == {"max_usd_per_quality": 0.5}
    with pytest.raises(ValidationError):
        wire(max_usd_per_quality=-1)


def test_one_constraint_row_makes_decide_enforce_it(table_factory: TableFactory) -> None:
    table = table_factory(quality=[0.9, 0.5], cost=[0.09, 0.01], runtime=[1.0, 1.0])
    rows = (*CONSTRAINTS, PER_QUALITY)
    loose = decide(table, MorePreferences(), prompt_tokens=10, constraints=rows)
    assert loose.model == table.models[0]
    prefs = merge({"max_usd_per_quality": 0.05}, cls=MorePreferences)
    tight = decide(table, prefs, prompt_tokens=10, constraints=rows)
    assert tight.model == table.models[1]
    assert tight.infeasible_reason[0] == "max_usd_per_quality"
    assert tight.ranking == (1,)
    relaxed = decide(
        table,
        merge({"max_usd_per_quality": 0.001, "fallback_on_infeasible": True}, cls=MorePreferences),
        prompt_tokens=10,
        constraints=rows,
    )
    assert relaxed.fell_back and relaxed.failed_constraint == "max_usd_per_quality"
    assert np.array_equal(sorted(relaxed.ranking), [0, 1])
