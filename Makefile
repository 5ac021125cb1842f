# The two quick-start commands (README): `make demo` and `make test`. Each sets up .venv itself.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip

.PHONY: demo test lint docs setup setup-dev services browser-latex clean

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

# PostgreSQL binaries for the distributed tests (the tests start and stop their own server on 127.0.0.1).
services:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  { if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	      echo "installing PostgreSQL from Debian's packages"; \
	      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	    else echo "PostgreSQL is not installed: the tests that need it will be skipped"; fi; }

# Headless Chromium (the MLflow UI test) and pdflatex with booktabs (the LaTeX table test), lean:
# no recommended packages. Measured on the development machine: about 31 s with `apt-get update`.
browser-latex:
	@{ command -v chromium >/dev/null && command -v pdflatex >/dev/null && kpsewhich booktabs.sty >/dev/null 2>&1; } || \
	  { if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	      echo "installing chromium and pdflatex (texlive-latex-base, texlive-latex-recommended) from Debian's packages"; \
	      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	        chromium texlive-latex-base texlive-latex-recommended >/dev/null; \
	    else echo "chromium or pdflatex is not installed: the tests that need them will be skipped"; fi; }

## lint: the gates on the code: ruff (lint, then the format check) and mypy, configured in pyproject.toml
lint: setup-dev
	$(BIN)/ruff check --quiet .
	$(BIN)/ruff format --check --quiet .
	$(BIN)/mypy

## docs: build the documentation site into site/ (mkdocs, warnings are errors: broken links, anchors, nav)
docs: setup-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

## test: install with test extras (and PostgreSQL, Chromium, pdflatex when missing), then run the test suite
test: setup-dev services browser-latex
	$(MAKE) --no-print-directory lint docs
	$(BIN)/python -m pytest -n 2

clean:
	rm -rf $(VENV) mlruns/mlflow.db mlruns/artifacts reports/*/
