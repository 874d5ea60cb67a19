# Two commands for a newcomer: `make demo` and `make test`. Both create .venv when missing.
# While editing, `make check` runs the quick tests (those not marked slow) in about 20 s;
# `make test` runs the whole suite, slow tests included (watcher subprocesses, LibreOffice).
# Both spread the tests over the cores with pytest-xdist (tests/conftest.py: one process per
# core for make check, two per core for make test, whose slow tests mostly wait). To run one
# file on its own, serially:
#   .venv/bin/python -m pytest -q tests/test_render.py
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := demo-output
# Let Python cache compiled modules in __pycache__ even where the machine turns that off
# (PYTHONDONTWRITEBYTECODE, common on CI images): the suite starts hundreds of Python
# processes that would each compile cssw-docs again, and pytest would rewrite every test
# module's asserts again in each of its test processes.
export PYTHONDONTWRITEBYTECODE :=

.PHONY: demo test check bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install when pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-run

demo: $(VENV)/.installed-run
	$(BIN)/python -m cssw_docs.demo

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -n auto --dist worksteal

check: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -n auto --dist worksteal -m "not slow"

bench: $(VENV)/.installed-test
	$(BIN)/python bench/run.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
