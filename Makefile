# Two commands for a newcomer: `make demo` and `make test`. Both create .venv when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench gazetteer clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m agenda.demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check agenda tests bench scripts
	$(BIN)/mypy agenda

bench: $(STAMP)
	$(BIN)/python bench/run.py

gazetteer: $(STAMP)
	$(BIN)/python scripts/build_gazetteer.py

clean:
	rm -rf .demo digests/*.html digests/*.txt digests/compromisos digests/informes .pytest_cache
