# csbox: two commands on a fresh machine with Python 3.11, pip and make.
#   make run   set up .venv, migrate, load demo data, start web + qcluster (Ctrl-C stops both)
#   make test  set up .venv with the dev tools and run the whole suite
# Also: make lint, make bench, make clean.
# Knobs: PYTHON=python3.11, ADDR=127.0.0.1:8000, PYTEST_ARGS="-k seed", DATABASE_URL=...
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
ADDR ?= 127.0.0.1:8000
export DEBUG ?= 1

.PHONY: run test lint install bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "csbox needs Python 3.11: run make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet -c requirements.lock -e .
	touch $@

$(DEV_STAMP): pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(STAMP) $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py setup_demo --addr $(ADDR)
	$(BIN)/python manage.py serve_all --addr $(ADDR)

test: $(DEV_STAMP)
	DEBUG=0 $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .

# Benchmarks are run by hand (minutes each); each prints its figures.
bench: $(STAMP)
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var
