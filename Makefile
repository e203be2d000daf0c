# Everything runs from a fresh clone: the first target that needs the environment builds it.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt pyproject.toml | sha1sum | cut -c1-12)
GENERATED_RAW := data/raw/online_retail.csv
# make run RAW=path/to/file (CSV, .csv.gz, xlsx, parquet: any form `pricing prepare` reads) prepares, trains, publishes
# and serves that file; its data, bundle and store get folders of their own, named after the file, so the generated
# data's never mix with it. PREPARE_ARGS passes flags on to prepare (e.g. --dayfirst).
RAW ?= $(GENERATED_RAW)
PREPARE_ARGS ?=
ifeq ($(RAW),$(GENERATED_RAW))
NAME :=
INPUT := $(GENERATED_RAW)
else
# make cannot take a file name with spaces ("Online Retail.xlsx") as a prerequisite: the file is linked under a
# name without them, and make reads its time through the link
ifneq ($(shell test -f "$(RAW)" && echo yes),yes)
$(error RAW=$(RAW): no such file)
endif
FILE_NAME := $(shell basename "$(RAW)" | tr -c 'A-Za-z0-9._\n-' '_')
NAME := -$(shell echo '$(FILE_NAME)' | sed 's/\.gz$$//; s/\.[^.]*$$//')
INPUT := data/raw/$(FILE_NAME)
$(shell mkdir -p data/raw && ln -sfn "$$(realpath "$(RAW)")" '$(INPUT)')
endif
PROCESSED := data/processed$(NAME)
BUNDLE := models/bundle$(NAME)
STORE := models/production$(NAME)
DASHBOARD := dashboard
DASHBOARD_SOURCES := $(shell find $(DASHBOARD)/src -type f) $(addprefix $(DASHBOARD)/,index.html package.json tsconfig.json vite.config.ts)

.PHONY: help install system-deps run data prepare bundle bench evaluate test test-unit lint format lock clean

.PHONY: dashboard
.PHONY: reliability

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP):
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## create .venv and install pinned dependencies (pip; torch is the CPU build)

system-deps: ## the Debian packages the tests need (redis-server, chromium), when missing
	./scripts/install-system-deps.sh

$(GENERATED_RAW): | $(STAMP)
	$(BIN)/pricing generate --out-dir data/raw

data: $(GENERATED_RAW) ## generate the synthetic Online Retail file and its ground truth (data/raw/)

$(PROCESSED)/data_quality.json: $(INPUT) | $(STAMP)
	$(BIN)/pricing prepare --raw $(INPUT) --out-dir $(PROCESSED) $(PREPARE_ARGS)

prepare: $(PROCESSED)/data_quality.json ## clean, split and build features (data/processed/)

$(STORE)/LATEST: $(PROCESSED)/data_quality.json | $(STAMP)
	$(BIN)/pricing train --profile standard --data-dir $(PROCESSED) --bundle-dir $(BUNDLE)
	$(BIN)/pricing publish --bundle-dir $(BUNDLE) --store $(STORE)
	$(BIN)/pricing report --store $(STORE) --data-dir $(PROCESSED) --out reports/report$(NAME).json

bundle: $(STORE)/LATEST ## train the standard profile and publish it to the local store, unless one exists

run: bundle dashboard ## set up, train if no bundle exists, then serve on http://localhost:5002 (RAW=FILE: a file of yours)
	@echo "bundle $$(cat $(STORE)/LATEST) in $(STORE)/; metrics chart in reports/metrics.png"
	@echo "try: curl http://localhost:5002/v1/predict-price/$$($(BIN)/python -c 'import pandas as p; print(p.read_parquet("$(PROCESSED)/products.parquet").sort_values("lines").stockcode.iloc[-1])')"
	$(BIN)/pricing serve --store $(STORE) --host 0.0.0.0 --port 5002

# npm ci only when the lock file changes: node_modules/.package-lock.json is npm's own record of an install
$(DASHBOARD)/node_modules/.package-lock.json: $(DASHBOARD)/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: Node.js 20.19+ with npm builds the dashboard"; exit 1; }
	cd $(DASHBOARD) && npm ci --no-audit --no-fund
	touch $@

# dist/index.html is the build's stamp: rebuilt only when a source or the install changes
$(DASHBOARD)/dist/index.html: $(DASHBOARD)/node_modules/.package-lock.json $(DASHBOARD_SOURCES)
	cd $(DASHBOARD) && npm run build

dashboard: $(DASHBOARD)/dist/index.html ## build the React dashboard (dashboard/dist, served by the API at /)

bench: bundle ## serving benchmarks on the local bundle -> reports/bench.json
	$(BIN)/pricing bench --store $(STORE) --out reports/bench.json

evaluate: bundle ## recommended prices against the true optimum -> reports/pricing_quality.json (+ PNGs)
	$(BIN)/pricing evaluate --store $(STORE) --truth data/raw/ground_truth.csv --out reports/pricing_quality.json

reliability: bundle system-deps ## load, faults, fuzzing and security on the real server -> reports/reliability.json
	$(BIN)/pricing reliability --store $(STORE) --out reports/reliability.json

test: $(STAMP) system-deps dashboard ## set up, then run the whole test suite (Vitest, then pytest)
	cd $(DASHBOARD) && npm test
	$(BIN)/pytest

test-unit: $(STAMP) ## the unit tier only: no trained bundle, no servers (about a minute)
	$(BIN)/pytest tests/unit

lint: $(STAMP) ## ruff checks and formatting; uv.lock in step with pyproject.toml
	$(BIN)/ruff check src tests app.py
	$(BIN)/ruff format --check src tests app.py
	$(BIN)/uv lock --check

.PHONY: lint-infra
lint-infra: $(STAMP) ## hadolint on the Dockerfile, cfn-lint on infra/template.yaml (also run by make test)
	$(BIN)/hadolint Dockerfile
	$(BIN)/cfn-lint infra/template.yaml

format: $(STAMP) ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix src tests app.py
	$(BIN)/ruff format src tests app.py

lock: $(STAMP) ## regenerate uv.lock from pyproject.toml
	$(BIN)/uv lock

clean: ## remove generated data, models and reports (keeps .venv)
	rm -rf data models reports
