# The README's two commands, `make run` and `make test`, work on a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
HOST   ?= 127.0.0.1
DATA   ?= data

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install run build test test-fast lint typecheck unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first, pinned to the CPU build: anything that depends on it must not pull a CUDA build.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

build: install
	$(BIN)/kg build --data $(DATA)

run: build
	$(BIN)/kg serve --data $(DATA) --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: install
	$(BIN)/pytest -q

test: lint unit

# The quick lane while working: no model, no servers.
test-fast: install
	$(BIN)/pytest -q -m "not model and not server"

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(DATA) .pytest_cache .mypy_cache .ruff_cache
