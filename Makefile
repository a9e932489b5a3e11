# The two quick-start commands: `make serve` and `make test`. Each installs what it needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
ARGS   ?=

.PHONY: serve test check bench docker install install-test browser clean contract-live

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## serve the emulator on its embedded defaults (http://127.0.0.1:8080); extra flags in ARGS
serve: install
	$(BIN)/emulator serve $(ARGS)

## Debian's Chromium and Thai fonts for the dashboard's browser tests (apt-get, once)
browser:
	bash scripts/install-browser

## run every test (unit, HTTP in-process, property-based, the dashboard in Chromium)
test: install-test browser
	$(BIN)/python -m pytest $(ARGS)

## every deliberate breakage (contract_tests/breakages.py) live through contract_tests/proxy.py in front of
## `emulator serve` with its default limits and no control URL: must be reported (contract_tests/README.md)
contract-live: install-test
	$(BIN)/python -m contract_tests.teeth --defaults $(ARGS)

## load benchmark -> bench/RESULTS.md (installs wrk from Debian's packages if missing)
bench: install-test
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; } \
	  || { echo "bench: needs wrk (apt-get install wrk)"; exit 1; }
	$(BIN)/python bench/run.py $(ARGS)

## lint and type-check
check: install-test
	$(BIN)/ruff check emulator tests
	$(BIN)/mypy emulator

## build the container image (needs a Docker engine)
docker:
	docker build -t emulator-247xd-usdtlowfee .

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache .ruff_cache
