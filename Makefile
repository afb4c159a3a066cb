# Two commands for a fresh Debian machine with only python3: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint sample bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run the main job on the bundled sample (embedded defaults, no server)
run: $(STAMP)
	$(BIN)/cwingest ingest raw/sample --out curated --raw raw

## ruff, mypy and the whole pytest suite
test: $(STAMP)
	$(BIN)/ruff check src tests flows benchmarks
	$(BIN)/ruff format --check src tests flows benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check --fix src tests flows benchmarks
	$(BIN)/ruff format src tests flows benchmarks

## regenerate the bundled sample in raw/sample from the project's own generator
sample: $(STAMP)
	rm -rf raw/sample && $(BIN)/python -m cwingest.sample raw/sample

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_pipeline.py

clean:
	rm -rf $(VENV) curated raw/objects raw/manifest.jsonl .pytest_cache .mypy_cache .ruff_cache
