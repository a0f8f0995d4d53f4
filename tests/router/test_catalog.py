"""Catalog validation: every message names the file, the model and the field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from router.catalog import CatalogError, load_catalog, parse_catalog, price_table


def model(**overrides: Any) -> dict[str, Any]:
    base = {"name": "m1", "litellm_model": "openai/gpt-3.5-turbo-1106"}
    return {**base, **overrides}


def test_default_catalog_loads_with_eleven_models():
    catalog = load_catalog()
    assert len(catalog.models) == 11
    assert catalog.default_profile in catalog.profiles
    prices = price_table()
    assert prices["gpt-4-1106-preview"] == (1e-05, 3e-05)


def test_prices_default_to_litellm_map():
    catalog = parse_catalog({"models": [model()]}, "f.yaml")
    m = catalog.models[0]
    assert (m.input_usd_per_token, m.output_usd_per_token) == (1e-06, 2e-06)
    assert m.price_source == "litellm:gpt-3.5-turbo-1106"
    assert m.context_window == 16385


def test_unknown_key_names_file_model_and_field():
    with pytest.raises(CatalogError) as caught:
        parse_catalog({"models": [model(colour="red")]}, "f.yaml")
    text = str(caught.value)
    assert "f.yaml" in text and "'m1'" in text and "colour" in text


def test_wrong_type_names_model_and_field():
    with pytest.raises(CatalogError, match=r"model 'm1', field 'context_window'"):
        parse_catalog({"models": [model(context_window="big")]}, "f.yaml")


def test_duplicate_names():
    with pytest.raises(CatalogError, match="duplicate model name 'm1'"):
        parse_catalog({"models": [model(), model()]}, "f.yaml")


def test_reserved_name():
    with pytest.raises(CatalogError, match="reserved"):
        parse_catalog({"models": [model(name="auto")]}, "f.yaml")


def test_no_price_anywhere():
    document = {"models": [model(litellm_model="openai/not-a-real-model")]}
    with pytest.raises(CatalogError, match="no price known to litellm"):
        parse_catalog(document, "f.yaml")


def test_local_model_without_accelerator_has_no_price_and_a_known_one_is_checked():
    local = model(litellm_model="hosted_vllm/llama", provider="local", api_base="http://x")
    unpriced = parse_catalog({"models": [local]}, "f.yaml").models[0]
    assert unpriced.is_local and unpriced.price_source == "none"
    local.update(params_b=8, accelerator="tpu-v9")
    with pytest.raises(CatalogError, match="unknown profile 'tpu-v9'"):
        parse_catalog({"models": [local]}, "f.yaml")
    local["accelerator"] = "l4"
    assert parse_catalog({"models": [local]}, "f.yaml").models[0].is_local


def test_profile_validation():
    bad_field = {"models": [model()], "profiles": {"p": {"cost_wieght": 1}}}
    with pytest.raises(CatalogError, match="cost_wieght"):
        parse_catalog(bad_field, "f.yaml")
    bad_model = {"models": [model()], "profiles": {"p": {"allowed_models": ["zz"]}}}
    with pytest.raises(CatalogError, match=r"profile 'p'.*unknown models"):
        parse_catalog(bad_model, "f.yaml")
    bad_default = {"models": [model()], "default_profile": "nope"}
    with pytest.raises(CatalogError, match="default_profile 'nope'"):
        parse_catalog(bad_default, "f.yaml")


def test_unreadable_and_invalid_yaml(tmp_path, write_yaml):
    with pytest.raises(CatalogError, match="cannot read catalog"):
        load_catalog(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("models: [\n")
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_catalog(broken)
    path = write_yaml({"models": []})
    with pytest.raises(CatalogError, match=re.escape(str(path))):
        load_catalog(path)


def test_example_catalogs_are_valid():
    folder = Path(__file__).resolve().parents[2] / "deploy" / "catalogs"
    paths = sorted(folder.glob("*.yaml"))
    assert len(paths) >= 2
    for path in paths:
        assert load_catalog(path).models, path
