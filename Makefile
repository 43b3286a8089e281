# Everyday commands. `make test` is the one CI runs; every target installs what
# it needs on first use (.venv for the application, .venv-sam for aws-sam-cli,
# which pins boto3 and pydantic versions of its own).

SHELL := /bin/bash
PYTHON ?= python3.11
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
	$(PYTHON) -m venv $(SAM_VENV)
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

integration: $(VENV)/.installed $(SAM_VENV)/.installed ## integration tests (servers on 127.0.0.1)
	SAM_CLI=$(abspath $(SAM)) $(BIN)/pytest tests/integration

pytest: $(VENV)/.installed $(SAM_VENV)/.installed
	SAM_CLI=$(abspath $(SAM)) $(BIN)/pytest tests

validate: $(SAM_VENV)/.installed ## sam validate --lint
	$(SAM) validate --lint

build: $(SAM_VENV)/.installed ## sam build (into .aws-sam/)
	$(SAM) build

test: lint typecheck pytest validate build ## everything CI checks

openapi: $(VENV)/.installed ## print the OpenAPI document generated from the code
	@$(BIN)/python -m jira_priority.openapi

clean: ## remove build output and caches (keeps the virtual environments)
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -not -path './.venv*' -exec rm -rf {} +
