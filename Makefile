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

# Debian packages the tests drive: the browser, and the proxies whose configurations we ship.
SYSTEM_TOOLS := /usr/bin/chromium /usr/bin/caddy /usr/sbin/nginx
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(SYSTEM_TOOLS) &:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium caddy nginx-light >/dev/null

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(VENV)/.dev $(SYSTEM_TOOLS) lint
	$(BIN)/pytest

bench: $(VENV)/.dev
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done
