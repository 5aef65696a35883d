# The README's two commands, `make run` and `make test`, work on a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
HOST   ?= 127.0.0.1
DATA   ?= data

# Progress for people: pip shows what it installs (quiet in CI, where logs are read afterwards).
PIP_FLAGS ?= $(if $(CI),--quiet,--progress-bar on)

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install run build test test-fast lint typecheck unit bench clean

$(BIN)/python:
	@echo "==> creating the virtual environment $(VENV)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first, pinned to the CPU build: anything that depends on it must not pull a CUDA build.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	@echo "==> installing torch 2.13.0, CPU build (the first time downloads about 200 MB)"
	$(BIN)/pip install $(PIP_FLAGS) torch==2.13.0
	@echo "==> installing cloudkg and its dependencies (pyproject.toml)"
	$(BIN)/pip install $(PIP_FLAGS) -e '.[dev]'
	@touch $@
	@echo "==> installed"

install: $(VENV)/.installed

build: install
	@echo "==> building $(DATA) from the notes (the first build encodes every passage)"
	$(BIN)/kg build --data $(DATA)

run: build
	@echo "==> serving http://$(HOST):$(PORT)/ : ask page at /, API docs at /docs, SPARQL at /sparql (Ctrl+C stops)"
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
