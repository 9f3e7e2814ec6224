# NYC taxi streaming platform. `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BOOT ?= python3.11
UV_VERSION  := 0.13.9
# A uv already on PATH is used as is; otherwise the project installs its own into .tools/.
UV          := $(or $(shell command -v uv 2>/dev/null),.tools/bin/uv)
PY          := .venv/bin/python
WIPE        ?= 0

.PHONY: help install local local-down status test lint typecheck test-unit bench clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target> [VAR=value]\n\nTargets:\n"} \
	  /^[a-zA-Z0-9_-]+:.*##/ { printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

.tools/bin/uv:
	$(PYTHON_BOOT) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

.venv/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --quiet
	@touch $@

install: .venv/.synced ## Install the locked Python environment into .venv (uv)

local: install ## Install what is missing, start the whole local stack, feed it, print where things run
	$(PY) -m localstack up

local-down: ## Stop everything `make local` started (WIPE=1 also deletes its data)
	@if [ -x $(PY) ]; then $(PY) -m localstack down $(if $(filter 1,$(WIPE)),--wipe,); fi

status: install ## Show what the local stack runs and where
	$(PY) -m localstack status

lint: install ## ruff lint + format check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: install ## mypy --strict on every package
	$(PY) -m mypy contract producer localstack spark bench

test: lint typecheck ## Lint, type-check and run every test (starts its own Kafka on other ports)
	$(PY) -m pytest

bench: install ## Run the benchmarks; prints a table, writes bench/results/latest.json
	$(PY) -m bench

clean: local-down ## Remove caches and build output (keeps .venv and data)
	rm -rf .pytest_cache .mypy_cache .ruff_cache dist test-output
