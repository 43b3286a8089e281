# Everyday commands. `make test` is the one CI runs; every target installs what
# it needs on first use (.venv for the application, .venv-sam for aws-sam-cli,
# which pins boto3 and pydantic versions of its own).

SHELL := /bin/bash
# The function's runtime (template.yaml: python3.13). `sam build` looks for
# python3.13 on PATH and the tests must run the same version, so a pyenv build
# of it (pyenv's shims alone do not resolve a version that is not selected) is
# put first on PATH when there is one.
PYTHON_VERSION := 3.13
PYENV_PYTHON_BIN := $(lastword $(sort $(wildcard $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions/$(PYTHON_VERSION).*/bin)))
ifneq ($(PYENV_PYTHON_BIN),)
export PATH := $(PYENV_PYTHON_BIN):$(PATH)
endif
PYTHON ?= python$(PYTHON_VERSION)
# aws-sam-cli is a tool, not the function: it keeps its own interpreter.
SAM_PYTHON ?= python3.11
VENV := .venv
SAM_VENV := .venv-sam
BIN := $(VENV)/bin
SAM := $(SAM_VENV)/bin/sam
SAM_CLI_VERSION := 1.170.0

export SAM_CLI_TELEMETRY := 0
# sam validate/build read a region but call no AWS API.
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: help install lint format typecheck unit integration pytest validate build test openapi clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,train]"
	touch $@

$(SAM_VENV)/.installed:
	$(SAM_PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet "aws-sam-cli==$(SAM_CLI_VERSION)"
	touch $@

install: $(VENV)/.installed $(SAM_VENV)/.installed ## create both virtual environments

lint: $(VENV)/.installed ## ruff lint and format check
	$(BIN)/ruff check src training_jobs tests
	$(BIN)/ruff format --check src training_jobs tests

format: $(VENV)/.installed ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix src training_jobs tests
	$(BIN)/ruff format src training_jobs tests

typecheck: $(VENV)/.installed ## mypy --strict on src and training_jobs
	$(BIN)/mypy

unit: $(VENV)/.installed ## unit tests (no network)
	$(BIN)/pytest tests/unit

integration: $(VENV)/.installed build ## integration tests (servers on 127.0.0.1; runs the sam build output)
	$(BIN)/pytest tests/integration

pytest: $(VENV)/.installed build
	$(BIN)/pytest tests

validate: $(SAM_VENV)/.installed ## sam validate --lint
	$(SAM) validate --lint

# Lambda cannot write __pycache__ into /var/task, so a zip without bytecode is
# compiled again on every cold start (~0.3 s here). The .pyc are compiled by the
# runtime's Python version and not checked against the sources' mtimes, which the
# zip does not keep exactly (unchecked-hash); `sam deploy` ships them.
build: $(SAM_VENV)/.installed $(VENV)/.installed ## sam build (into .aws-sam/): botocore data of the called services only, bytecode compiled
	$(SAM) build
	$(BIN)/python -m training_jobs.function_zip .aws-sam/build/PredictFunction
	$(PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash .aws-sam/build/PredictFunction

test: lint typecheck validate build pytest ## everything CI checks (build first: tests run the built function)

# The document does not depend on the backend (any valid configuration will do),
# but its limits are the environment's MAX_BATCH_SIZE and MAX_BODY_BYTES, as the function's.
openapi: $(VENV)/.installed ## print the OpenAPI document generated from the code
	@PREDICTOR_BACKEND=sagemaker SAGEMAKER_ENDPOINT_NAME=openapi POWERTOOLS_TRACE_DISABLED=1 \
		$(BIN)/python -m jira_priority.openapi

clean: ## remove build output, prepared data, models, reports and caches (keeps the venvs)
	rm -rf .aws-sam build artifacts .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -not -path './.venv*' -exec rm -rf {} +

# --- the embedded default: prepare, train and serve on one command -------------
# `make serve` on a fresh clone installs .venv, prepares DATA, trains a model if
# none exists (or DATA changed), and serves POST /predict on 127.0.0.1:$(PORT)
# like `sam local start-api`. Prepared data goes to build/, the model to artifacts/.
DATA ?= ../shared/data/jira/apache_bugs.csv.gz
PORT ?= 3000
API_KEY ?=
WORKERS ?= 1
PREPARE_ARGS ?=
TRAIN_ARGS ?=
DATA_DIR := build/data
MODEL_DIR := artifacts/model

.PHONY: data model serve data-settings

# Rewritten only when DATA or PREPARE_ARGS change, so that pointing DATA at
# another file re-prepares even when that file is older than the last output.
$(DATA_DIR)/.settings: data-settings
	@mkdir -p $(@D)
	@echo '$(abspath $(DATA)) $(PREPARE_ARGS)' | cmp -s - $@ || echo '$(abspath $(DATA)) $(PREPARE_ARGS)' > $@

$(DATA_DIR)/manifest.json: $(DATA_DIR)/.settings $(wildcard $(DATA)) | $(VENV)/.installed
	$(BIN)/python -m training_jobs prepare '$(DATA)' --output-dir $(DATA_DIR) $(PREPARE_ARGS)

# Rewritten only when TRAIN_ARGS change, so `make model TRAIN_ARGS=...` retrains.
$(MODEL_DIR)/.settings: data-settings
	@mkdir -p $(@D)
	@echo '$(TRAIN_ARGS)' | cmp -s - $@ || echo '$(TRAIN_ARGS)' > $@

$(MODEL_DIR)/model.bin: $(DATA_DIR)/manifest.json $(MODEL_DIR)/.settings | $(VENV)/.installed
	$(BIN)/python -m training_jobs train-local --train $(DATA_DIR)/train.txt \
		--validation $(DATA_DIR)/validation.txt --output-dir $(MODEL_DIR) $(TRAIN_ARGS)

data: $(DATA_DIR)/manifest.json ## prepare BlazingText train/validation files from DATA
model: $(MODEL_DIR)/model.bin ## train the local fastText model (artifacts/model) if needed

# The key goes through the environment, so that it does not show in `ps`.
serve: $(MODEL_DIR)/model.bin ## prepare, train if needed, serve POST /predict on 127.0.0.1:PORT
	$(if $(API_KEY),JIRA_PRIORITY_API_KEY='$(API_KEY)') $(BIN)/python -m training_jobs serve \
		--model $(MODEL_DIR)/model.bin --port $(PORT) --workers $(WORKERS)

# --- evaluation: validation report and leave-one-project-out ---------------------
EVAL_DIR := artifacts/evaluation
PROJECT ?= AMQ

.PHONY: evaluate evaluate-holdout

evaluate: $(MODEL_DIR)/model.bin ## evaluate the model on the validation split (artifacts/evaluation/validation)
	$(BIN)/python -m training_jobs evaluate $(DATA_DIR)/validation.txt --model $(MODEL_DIR)/model.bin \
		--projects-from '$(DATA)' --by-project --title "Validation split (20 %, stratified)" \
		--output-dir $(EVAL_DIR)/validation

evaluate-holdout: | $(VENV)/.installed ## train without PROJECT, evaluate on it (artifacts/evaluation/holdout-PROJECT)
	$(BIN)/python -m training_jobs prepare '$(DATA)' --holdout-project $(PROJECT) \
		--output-dir $(EVAL_DIR)/holdout-$(PROJECT)/data $(PREPARE_ARGS)
	$(BIN)/python -m training_jobs train-local --train $(EVAL_DIR)/holdout-$(PROJECT)/data/train.txt \
		--validation $(EVAL_DIR)/holdout-$(PROJECT)/data/validation.txt \
		--output-dir $(EVAL_DIR)/holdout-$(PROJECT)/model $(TRAIN_ARGS)
	$(BIN)/python -m training_jobs evaluate $(EVAL_DIR)/holdout-$(PROJECT)/data/holdout.txt \
		--model $(EVAL_DIR)/holdout-$(PROJECT)/model/model.bin --by-project \
		--title "Leave one project out: $(PROJECT)" --output-dir $(EVAL_DIR)/holdout-$(PROJECT)/report

# --- choosing the model: every recipe within the split and leaving each project out --
.PHONY: compare package promote

compare: | $(VENV)/.installed ## train and score all recipes (3 seeds, split + LOPO); writes docs/evaluation/compare.md
	$(BIN)/python -m training_jobs compare '$(DATA)' --output-dir docs/evaluation

package: $(MODEL_DIR)/model.bin ## pack artifacts/model (model.bin + postprocessing.json) as build/model.tar.gz
	$(BIN)/python -m training_jobs package --model $(MODEL_DIR) --output build/model.tar.gz

CANDIDATE ?= artifacts/candidate
promote: $(DATA_DIR)/manifest.json | $(VENV)/.installed ## replace artifacts/model with CANDIDATE unless it scores worse on validation
	$(BIN)/python -m training_jobs promote --candidate $(CANDIDATE) --live $(MODEL_DIR) \
		--held-out $(DATA_DIR)/validation.txt

.PHONY: bench-serving
bench-serving: build $(MODEL_DIR)/model.bin ## cold start and warm latency: ours (sagemaker, embedded) vs the tutorial's Lambda
	$(BIN)/python -m tests.benchmarks.serving --model $(MODEL_DIR)/model.bin --tickets $(DATA_DIR)/validation.txt

.PHONY: bench-latency
bench-latency: $(MODEL_DIR)/model.bin ## per-ticket latency: model, predictor, handler, HTTP (ratios)
	$(BIN)/python -m tests.benchmarks.latency --model $(MODEL_DIR)/model.bin --tickets $(DATA_DIR)/validation.txt

.PHONY: bench-local-server
bench-local-server: $(MODEL_DIR)/model.bin ## load on the local server (1 and 2 workers) beside the old http.server one
	$(BIN)/python -m tests.benchmarks.local_server_load --model $(MODEL_DIR)/model.bin --tickets $(DATA_DIR)/validation.txt

# --- sam local: the built function in a container, offline ----------------------
# No registry is needed: `local-image` builds the Lambda runtime image for the
# Runtime template.yaml names (Debian's python3.X + awslambdaric + the
# aws-lambda-rie in the aws-sam-cli wheel, tagged as the official image), starting
# dockerd first when it is installed and not running; every sam local command
# gets --skip-pull-image. BACKEND=sagemaker calls the fake BlazingText endpoint
# (answering from the same model) on the docker bridge, port FAKE_ENDPOINT_PORT.
SAM_LOCAL := $(BIN)/python -m training_jobs.sam_local
EVENT ?=
BACKEND ?= embedded
FAKE_ENDPOINT_PORT ?= 3001

.PHONY: local-image local-invoke local-api

local-image: $(SAM_VENV)/.installed $(VENV)/.installed ## build the local Lambda runtime image (skipped when it exists)
	training_jobs/sam_local/runtime_image.sh image

# sam build's messages go to stderr here, so that stdout has only the answers.
local-invoke: local-image $(MODEL_DIR)/model.bin ## sam local invoke EVENT (default: all of events/), one JSON line each
	@$(SAM) build >&2
	@$(SAM_LOCAL) invoke --backend $(BACKEND) --model $(MODEL_DIR)/model.bin \
		--fake-endpoint-port $(FAKE_ENDPOINT_PORT) $(EVENT)

local-api: local-image build $(MODEL_DIR)/model.bin ## sam local start-api on 127.0.0.1:PORT, warm containers, until Ctrl-C
	@$(SAM_LOCAL) start-api --backend $(BACKEND) --model $(MODEL_DIR)/model.bin \
		--fake-endpoint-port $(FAKE_ENDPOINT_PORT) --port $(PORT)
