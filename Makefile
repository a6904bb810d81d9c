# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench clean-venv

$(BIN)/entraide: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev: $(BIN)/entraide
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/entraide
	$(BIN)/entraide migrate
	$(BIN)/entraide serve

/usr/bin/chromium:
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(VENV)/.dev /usr/bin/chromium lint
	$(BIN)/pytest

bench: $(VENV)/.dev
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done
