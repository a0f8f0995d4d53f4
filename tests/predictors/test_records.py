"""Eval-record validation, JSONL round trip, pivoting and the importers."""

import json
from pathlib import Path

import numpy as np
import pytest

from predictors.errors import RecordError
from predictors.importers import import_routerbench, import_wide, unwrap_list_literal
from predictors.records import load_records, parse_record, pivot, write_records


def _write(path: Path, *objs: object) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objs), encoding="utf-8")
    return path


GOOD = {"id": "a", "prompt": "hi", "model": "m", "score": 1}


def test_round_trip_gzip(tmp_path, make_records) -> None:
    records = make_records(n_prompts=4)
    write_records(records, tmp_path / "r.jsonl.gz")
    assert load_records(tmp_path / "r.jsonl.gz") == records


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"score": 1.5}, "score"),
        ({"score": None}, "score"),
        ({"model": ""}, "model"),
        ({"cost_usd": -1}, "cost_usd"),
        ({"prompt": 3}, "prompt"),
        ({"extra": 1}, "extra"),
        ({"prompt_tokens": 1.5}, "prompt_tokens"),
        ({"prompt": [{"role": "user"}]}, "prompt"),
    ],
)
def test_invalid_fields_name_file_line_and_field(tmp_path, override, field) -> None:
    bad = {**GOOD, **override}
    path = _write(tmp_path / "r.jsonl", GOOD | {"id": "z"}, bad)
    with pytest.raises(RecordError) as info:
        load_records(path)
    assert (info.value.line, info.value.field) == (2, field)
    assert str(path) in str(info.value)


def test_duplicates_rejected(tmp_path) -> None:
    path = _write(tmp_path / "r.jsonl", GOOD, GOOD)
    with pytest.raises(RecordError, match="duplicate"):
        load_records(path)


def test_messages_prompt_accepted() -> None:
    record = parse_record({**GOOD, "prompt": [{"role": "user", "content": "x"}]})
    assert record.prompt == [{"role": "user", "content": "x"}]


def test_pivot_marks_missing_cells(make_records) -> None:
    records = make_records(n_prompts=3)[:-1]
    matrix = pivot(records)
    assert matrix.scores.shape == (3, 3)
    assert np.isnan(matrix.scores).sum() == 1


def test_routerbench_importer(routerbench_csv) -> None:
    records = import_routerbench([routerbench_csv])
    assert [(r.id, r.model) for r in records] == [("t.1", "m1"), ("t.1", "m2"), ("t.2", "m2")]
    first = records[0]
    assert first.prompt == 'Say "hi"\nnow'
    assert first.cost_usd == pytest.approx(0.001)
    assert first.task == "t"
    assert first.completion_tokens == 2  # "hi there"
    assert first.prompt_tokens and first.prompt_tokens > 0


def test_unwrap_leaves_non_literals_alone() -> None:
    assert unwrap_list_literal("['a', 'b']") == "['a', 'b']"
    assert unwrap_list_literal("plain") == "plain"


def test_wide_importer(tmp_path) -> None:
    path = tmp_path / "w.csv"
    path.write_text("id,prompt,task,m1,m2,m1|cost_usd\n1,hi,t,1,,0.5\n2,yo,t,0,1,\n")
    records = import_wide(path)
    assert [(r.id, r.model, r.score) for r in records] == [
        ("1", "m1", 1.0),
        ("2", "m1", 0.0),
        ("2", "m2", 1.0),
    ]
    assert records[0].cost_usd == 0.5


def test_wide_importer_requires_columns(tmp_path) -> None:
    path = tmp_path / "w.csv"
    path.write_text("key,prompt,m1\n1,hi,1\n")
    with pytest.raises(RecordError, match="id"):
        import_wide(path)
