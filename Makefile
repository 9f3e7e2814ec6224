# NYC taxi streaming platform. `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BOOT ?= python3.11
UV_VERSION  := 0.13.9
# A uv already on PATH is used as is; otherwise the project installs its own into .tools/.
UV          := $(or $(shell command -v uv 2>/dev/null),.tools/bin/uv)
PY          := .venv/bin/python
WIPE        ?= 0

.PHONY: help install local local-down status test test-unit test-integration lint typecheck bench \
	bench-small clean \
	build-lambda api dashboard browser checkov-install checkov aws-build deploy destroy \
	stream-start stream-stop stream-status compact aws-check aws-smoke

help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target> [VAR=value]\n\nTargets:\n"} \
	  /^[a-zA-Z0-9_-]+:.*##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

.tools/bin/uv:
	$(PYTHON_BOOT) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

.venv/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --quiet
	@touch $@

install: .venv/.synced ## Install the locked Python environment into .venv (uv)

local: install build-lambda ## Install what is missing, start the whole local stack, feed it, print where things run
	$(PY) -m localstack up

local-down: ## Stop everything `make local` started (WIPE=1 also deletes its data)
	@if [ -x $(PY) ]; then $(PY) -m localstack down $(if $(filter 1,$(WIPE)),--wipe,); fi

status: install ## Show what the local stack runs and where
	$(PY) -m localstack status

lint: install ## ruff lint + format check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: install ## mypy --strict on every package
	$(PY) -m mypy contract producer localstack spark bench lambda_api streamlit_app ops \
	  terraform/scripts/artifacts.py terraform/modules/observability/probe/index.py

test: lint typecheck checkov-install browser ## Lint, type-check and run every test (starts its own services on other ports)
	$(PY) -m pytest

# `service` and `spark` are set by tests/conftest.py from each test's fixtures and markers.
# Spark is left out of the fast loop: its JVM start and the transform tests take minutes here.
test-unit: install ## The fast loop: the tests that start no service and no Spark JVM
	$(PY) -m pytest -m "not service and not spark" --durations=10

test-integration: lint typecheck checkov-install browser ## The rest: tests that start services or Spark (make test = unit + these)
	$(PY) -m pytest -m "service or spark" --durations=10

chaos: install ## Only the chaos tests (kill -9 of the stream, broker and twin restarts; part of make test)
	$(PY) -m pytest -m chaos

bench: install ## Run the benchmarks; prints a table, writes bench/results/latest.json
	$(PY) -m bench

bench-small: install ## Quick benchmark run (a few minutes; --scale small)
	$(PY) -m bench --scale small

build-lambda: install ## Build dist/lambda_api.zip (Lambda, Linux x86_64, Python 3.11; cached, reproducible)
	$(PY) -m lambda_api.build

api: install ## Run the API on 127.0.0.1:8000 over embedded DuckDB (API_LAKE_URI=<dir or s3://...>); docs at /docs
	$(PY) -m lambda_api

dashboard: install ## Run the dashboard on 127.0.0.1:8501 against DASH_API_URL
	$(PY) -m streamlit_app

browser: ## Install Debian's Chromium for the browser tests when it is missing
	@command -v chromium >/dev/null || bash streamlit_app/install_browser.sh

checkov-install: ## Install checkov 3.3.30 in its own env under .local/ (security checks of terraform/)
	@[ -x .local/checkov/venv/bin/checkov ] || { $(UV) venv -q --python 3.11 .local/checkov/venv && \
	  $(UV) pip install -q --python .local/checkov/venv/bin/python checkov==3.3.30; }

checkov: checkov-install ## Static security checks of terraform/
	.local/checkov/venv/bin/checkov -d terraform --framework terraform --skip-download --quiet --compact

aws-build: install ## Build the AWS artifacts into .local/build (job zip, Python deps, jars, probe, API zip)
	$(PY) terraform/scripts/artifacts.py --out .local/build
	$(PY) -m lambda_api.build --output .local/build/lambda_api.zip

aws-check: install ## Before a deploy: tools, credentials, zones, names, quotas, required variables, cost per hour/month (read-only)
	$(PY) -m ops check

aws-smoke: install ## After a deploy: N synthetic trips through the producer task, seen in the API and the dashboard (SMOKE_* settings)
	$(PY) -m ops smoke

deploy: install ## Deploy to AWS: build, push images, terraform apply, create the topic, start/upgrade the stream
	terraform/scripts/deploy.sh

destroy: ## Tear the AWS deployment down, data included (asks first; CONFIRM=1 skips the question)
	terraform/scripts/destroy.sh $(if $(filter 1,$(CONFIRM)),--yes,)

stream-start: ## Start or upgrade the stream on EMR Serverless (resumes from its S3 checkpoint)
	terraform/scripts/stream.sh start

stream-stop: ## Stop the stream on EMR Serverless (the checkpoint stays)
	terraform/scripts/stream.sh stop

stream-status: ## Show the stream's EMR Serverless job runs
	terraform/scripts/stream.sh status

compact: install ## Compact a day of small lake files (LAKE=s3://..|file://.., DAY=YYYY-MM-DD, default yesterday)
	$(PY) -m spark.compact --lake-uri $(LAKE) $(if $(DAY),--date $(DAY),)

clean: local-down ## Remove caches and build output (keeps .venv and data)
	rm -rf .pytest_cache .mypy_cache .ruff_cache dist test-output
