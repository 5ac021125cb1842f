# The two quick-start commands (README): `make demo` and `make test`. Each sets up .venv itself.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip

.PHONY: demo test setup setup-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[dev,extract,distributed]'
	touch $@ $(VENV)/.installed

setup: $(VENV)/.installed
setup-dev: $(VENV)/.installed-dev

## demo: install, then reproduce the paper's Table 2 on the built-in synthetic store (quick profile)
demo: setup
	$(BIN)/bench run --suite table2

## test: install with test extras, then run the test suite
test: setup-dev
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) mlruns/mlflow.db mlruns/artifacts reports/*/
