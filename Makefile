# Wirewatch: `make run` installs and runs the service; `make test` installs and runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Two test processes: most tests wait on real servers and subprocesses, not on the CPU.
PYTEST_ARGS ?= -n 2

.PHONY: run demo install install-test services test lint bench fuzz clean

run: install
	$(BIN)/wirewatch db upgrade
	$(BIN)/wirewatch run --demo-first

demo: install
	$(BIN)/wirewatch demo

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

install-test: $(VENV)/.installed-test

$(VENV)/.installed-test: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $(VENV)/.installed $@

services:
	scripts/ensure-services.sh

test: install-test services
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .

bench: install-test services
	$(BIN)/python bench/feeds.py
	$(BIN)/python bench/polling.py

fuzz: install-test
	WIREWATCH_FUZZ_SECONDS=$${WIREWATCH_FUZZ_SECONDS:-600} $(BIN)/python -m pytest tests/test_fuzz_parsers.py -q -p no:cacheprovider

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
