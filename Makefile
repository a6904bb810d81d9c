# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench soak clean-venv

$(BIN)/entraide: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev: $(BIN)/entraide
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# `make run PORT=8001` serves on another port (and says so in handles and links).
PORT ?= 8000
run: $(BIN)/entraide
	$(BIN)/entraide migrate
	ENTRAIDE_URL=$${ENTRAIDE_URL:-http://127.0.0.1:$(PORT)} $(BIN)/entraide serve --port $(PORT)

# Debian packages the tests drive: the browser, the proxies whose configurations we ship, and
# shellcheck for the shipped backup script.
SYSTEM_TOOLS := /usr/bin/chromium /usr/bin/caddy /usr/sbin/nginx /usr/bin/shellcheck
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(SYSTEM_TOOLS) &:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium caddy nginx-light shellcheck >/dev/null

# axe-core, the accessibility checker the page tests inject into every page: the exact version
# named in tests/web/axe/package.json (no dependencies), into a folder git ignores. npm comes
# with Node.js where it is installed; Debian's npm only where there is none (installing it
# beside another Node.js build would replace that build).
AXE := tests/web/axe/node_modules/axe-core/axe.min.js
$(AXE): tests/web/axe/package.json
	command -v npm >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq npm >/dev/null; }
	cd tests/web/axe && npm install --no-audit --no-fund --silent
	touch $@

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(VENV)/.dev $(SYSTEM_TOOLS) $(AXE) lint
	$(BIN)/pytest

# Every bench/*.py but the helpers (_*.py) and the soak, then one table, kept in bench/RESULTS.md.
# BENCH_FLAGS="--only pages --quick" picks scripts and passes arguments on (table not kept).
bench: $(VENV)/.dev
	$(BIN)/python bench/_runner.py $(BENCH_FLAGS)

# Ten minutes of mixed load; memory per process every minute (BENCH_FLAGS="--minutes 2").
soak: $(VENV)/.dev
	$(BIN)/python bench/_runner.py --soak $(BENCH_FLAGS)
