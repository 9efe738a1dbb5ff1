# gep: two commands on a fresh machine with Python 3.11
#   make demo   create .venv, install gep, run the Lishui demo (outputs in ./gep-output/)
#   make test   install the dev extras and run ruff + the whole test suite

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_ARGS ?=

.PHONY: demo test install install-dev lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'

demo: install
	$(BIN)/gep demo $(DEMO_ARGS)

lint: install-dev
	$(BIN)/ruff check src tests benchmarks

test: install-dev lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) gep-output .pytest_cache .ruff_cache
