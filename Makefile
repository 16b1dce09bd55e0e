# Two commands for a newcomer: `make demo` and `make test`. Both install into .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
QA_HOME ?= $(CURDIR)/qa_home
export QA_HOME

.PHONY: install demo test test-fast lint dev bench clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/qa demo --home "$(QA_HOME)"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Test files spread over the machine's cores (at most four), each file whole on one worker
# so a module's shared home is built once.
test: install lint
	$(BIN)/pytest -n auto --maxprocesses 4 --dist loadfile

# The quick loop while changing code: unit tests and dbt's unit tests (about two minutes).
test-fast: install lint
	$(BIN)/pytest -m "not slow"

dev: install
	$(BIN)/python -c "from dagster_project.home import resolve_home; resolve_home().ensure()"
	cd "$(CURDIR)" && DAGSTER_HOME="$(QA_HOME)/dagster" $(BIN)/dg dev

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf "$(QA_HOME)" dbt/target dbt/logs .pytest_cache
