# goldloop: `make demo` runs the whole loop on the sandbox; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.goldloop-installed
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: install manifest demo test lint typecheck browser dev bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) manifest

# The dbt manifest the Dagster code location reads (dbt parse: no warehouse needed).
manifest: $(STAMP)
	$(BIN)/dbt parse --quiet --project-dir dbt_project --profiles-dir dbt_project

demo: install
	$(BIN)/goldloop demo

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy goldloop pipelines reverse_etl orchestration sandbox reports benchmarks

# The report pages are tested in real headless Chromium (Debian's chromium + chromium-driver).
browser:
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || \
		(apt-get update -q && apt-get install -y -q chromium chromium-driver)

test: lint typecheck browser
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --doctest-modules goldloop sandbox pipelines \
		reverse_etl orchestration reports tests

# The Dagster UI on the code location named in pyproject.toml (local storage, .goldloop/dagster).
dev: install
	@mkdir -p .goldloop/dagster
	@cp orchestration/dagster.dev.yaml .goldloop/dagster/dagster.yaml
	DAGSTER_HOME=$(abspath .goldloop/dagster) $(BIN)/dagster dev

bench: install
	$(BIN)/python -m benchmarks

clean:
	-$(BIN)/goldloop report stop 2>/dev/null
	-$(BIN)/goldloop sandbox down 2>/dev/null
	rm -rf .goldloop warehouse dbt_project/target dbt_project/logs logs .pytest_cache .mypy_cache \
		.ruff_cache benchmarks/results artifacts
