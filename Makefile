# One task runner, the same targets locally and in CI.
VENV := .venv
BIN := $(VENV)/bin
TENDER ?= tenders/example.yaml

.PHONY: setup setup-dev annex lint types test unit bench schema golden clean

setup:
	@scripts/setup.sh

setup-dev:
	@scripts/setup.sh --dev

## The main job: check the library and export the example tender's annex into out/.
annex: setup
	$(BIN)/refsheets check
	$(BIN)/refsheets export $(TENDER)
	@echo ""
	@echo "Next: run $(BIN)/refsheets --help, or put refsheets on your PATH:"
	@echo "  pipx install .     (or pipx install --editable . to follow this clone)"
	@echo "then start your own library:"
	@echo "  refsheets init ~/references && cd ~/references && refsheets new mission --edit"

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: setup-dev
	$(BIN)/mypy

unit: setup-dev
	$(BIN)/pytest

## Everything CI runs: lint, types, tests.
test: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

bench: setup-dev
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

## Regenerate committed generated files (JSON Schema, golden files).
schema: setup
	$(BIN)/refsheets schema

golden: setup-dev
	$(BIN)/pytest --update-golden

clean:
	rm -rf out/* .pytest_cache .mypy_cache .ruff_cache
