# Two commands for a newcomer: `make run` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# The development defaults; any of them can be overridden from the environment.
DEV_ENV := DEBUG=$${DEBUG:-1} REEX_HTTPS=$${REEX_HTTPS:-0}

.PHONY: install run test lint format bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "reex needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## make run: migrate, seed a demo, and run web, worker and beat on http://127.0.0.1:8000/
run: $(STAMP)
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py seed_demo
	$(DEV_ENV) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho -f Procfile.dev start

## make test: the whole suite (tiers that need a missing server or browser skip, saying why)
test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

## make lint: ruff (lint and format), mypy, and the migrations check
lint: export SECRET_KEY := lint-only-not-secret
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/python manage.py makemigrations --check --dry-run

## make bench: the production shape on loopback under load; prints a table
##   BENCH_ARGS=--quick (about 4 min), --no-rivals, --scale [--fresh] (a thousand vs a million rows), --soak [--minutes 10]
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var
