# Everything runs from a fresh clone: the first target that needs the environment builds it.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt pyproject.toml | sha1sum | cut -c1-12)
RAW := data/raw/online_retail.csv
PROCESSED := data/processed

.PHONY: help install run data prepare test lint format lock clean

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

$(RAW): | $(STAMP)
	$(BIN)/pricing generate --out-dir data/raw

data: $(RAW) ## generate the synthetic Online Retail file and its ground truth (data/raw/)

$(PROCESSED)/data_quality.json: $(RAW) | $(STAMP)
	$(BIN)/pricing prepare --raw $(RAW) --out-dir $(PROCESSED)

prepare: $(PROCESSED)/data_quality.json ## clean, split and build features (data/processed/)

run: prepare ## set up, then run the data pipeline end to end
	@echo "Data pipeline done: raw data and truth in data/raw/, feature tables in $(PROCESSED)/,"
	@echo "data quality report in $(PROCESSED)/data_quality.json"

test: $(STAMP) ## set up, then run the whole test suite
	$(BIN)/pytest

lint: $(STAMP) ## ruff checks and formatting; uv.lock in step with pyproject.toml
	$(BIN)/ruff check src tests app.py
	$(BIN)/ruff format --check src tests app.py
	$(BIN)/uv lock --check

format: $(STAMP) ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix src tests app.py
	$(BIN)/ruff format src tests app.py

lock: $(STAMP) ## regenerate uv.lock from pyproject.toml
	$(BIN)/uv lock

clean: ## remove generated data, models and reports (keeps .venv)
	rm -rf data models reports
