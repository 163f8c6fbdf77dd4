# govfeed developer commands. `make run` and `make test` do all set-up themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
REPLAY ?=
ARGS   ?=

.PHONY: setup run crawl test chromium lint format bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	touch $(STAMP)

## run: crawl every source on its schedule and serve the feeds (REPLAY=fixtures/sites: offline)
run: setup
	$(BIN)/govfeed run $(if $(REPLAY),--replay $(REPLAY)) $(ARGS)

## crawl: one crawl of every source now, then rebuild the feeds
crawl: setup
	$(BIN)/govfeed crawl $(if $(REPLAY),--replay $(REPLAY)) $(ARGS)

## test: every test (unit, fixture replay, crawls over loopback, the status page in Chromium)
test: setup chromium
	$(BIN)/pytest $(ARGS)

## chromium: Debian's headless browser for the status page test (installed once, as root)
chromium:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## bench: the benchmarks in bench/, each printing govfeed beside its baseline
bench: setup
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache *.egg-info
