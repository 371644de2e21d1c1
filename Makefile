# Two commands for a newcomer: `make demo` and `make test`. Both create .venv when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench gazetteer clean compiled-linker

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# The linker compiled by mypyc (agenda/compiled_linker.py): a quick no-op when it is built for the
# current sources; without a C compiler it says so in one line and the linker runs as pure Python.
compiled-linker: $(STAMP)
	@$(BIN)/python scripts/build_linker.py

demo: compiled-linker
	$(BIN)/python -m agenda.demo

test: compiled-linker
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check agenda tests bench scripts
	$(BIN)/mypy agenda

bench: compiled-linker
	$(BIN)/python bench/run.py

gazetteer: $(STAMP)
	$(BIN)/python scripts/build_gazetteer.py

clean:
	rm -rf .demo digests/*.html digests/*.txt digests/compromisos digests/informes .pytest_cache
