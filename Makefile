# paretoroute — `make serve` and `make test` work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
CONFIG ?=
ARTIFACT ?=
WORKERS ?= 1
TORCH_VERSION := 2.13.0

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export LITELLM_LOCAL_MODEL_COST_MAP := True
export LITELLM_TELEMETRY := False
export TOKENIZERS_PARALLELISM := false

.PHONY: serve test check lint format install install-dev install-embed services bench clean dashboards

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The server without torch: serving uses the static (model2vec) embedder.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[server]'
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[server,dev]'
	touch $@

# Only for the MiniLM reference embedder and re-distilling. torch first and pinned: an
# unpinned torch pulls a multi-GB CUDA build (TORCH_INDEX can name a CPU-only index).
TORCH_INDEX ?=
$(VENV)/.installed-embed: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet torch==$(TORCH_VERSION) $(TORCH_INDEX)
	$(BIN)/pip install --quiet -e '.[server,embed]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev
install-embed: $(VENV)/.installed-embed

serve: install
	PARETOROUTE_HOST=$(HOST) PARETOROUTE_PORT=$(PORT) PARETOROUTE_WORKERS=$(WORKERS) \
	$(if $(CONFIG),PARETOROUTE_CATALOG=$(CONFIG)) $(if $(ARTIFACT),PARETOROUTE_ARTIFACT=$(ARTIFACT)) \
	$(BIN)/paretoroute serve

test: install-dev
	$(BIN)/python -m pytest

lint: install-dev
	$(BIN)/ruff check paretoroute router predictors policies tests bench scripts
	$(BIN)/ruff format --check paretoroute router predictors policies tests bench scripts

check: lint
	$(BIN)/mypy

format: install-dev
	$(BIN)/ruff format paretoroute router predictors policies tests bench scripts
	$(BIN)/ruff check --fix paretoroute router predictors policies tests bench scripts

# Grafana dashboards: regenerate deploy/grafana/dashboards/*.json (committed) from scripts/grafana/.
dashboards: install-dev
	$(BIN)/python -m scripts.grafana.build

bench: install-dev install-embed
	$(BIN)/python bench/overhead.py
	$(BIN)/python bench/decision_latency.py
	$(BIN)/python bench/policy_latency.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
