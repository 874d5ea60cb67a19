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
# Compile the package's modules once, up front: where Python is told not to cache them
# (PYTHONDONTWRITEBYTECODE, set on many CI machines) each of the hundreds of cssw-docs
# processes the suite starts would otherwise compile them again. Cheap when nothing changed.
BYTECODE = $(BIN)/python -m compileall -q src >/dev/null

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
	$(BYTECODE)
	$(BIN)/python -m cssw_docs.demo

test: $(VENV)/.installed-test
	$(BYTECODE)
	$(BIN)/python -m pytest -q -n auto --dist worksteal

check: $(VENV)/.installed-test
	$(BYTECODE)
	$(BIN)/python -m pytest -q -n auto --dist worksteal -m "not slow"

bench: $(VENV)/.installed-test
	$(BYTECODE)
	$(BIN)/python bench/run.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
