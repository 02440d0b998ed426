# make book  : set up .venv if missing, run every notebook (papermill, profile quick), build the HTML
# make test  : set up .venv if missing, lint, run the tests
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build of torch; set TORCH_SPEC (and PIP_EXTRA) for a GPU build, e.g. on the paper profile.
TORCH_SPEC ?= torch==2.13.0
PIP_EXTRA ?=
PROFILE ?= quick
PARAMS ?=
RUN_ARGS = --profile $(PROFILE) $(if $(PARAMS),--params $(PARAMS),)

.PHONY: install browser book book-estimate notebooks html test lint format bench calibrate time-book lab clean
.DEFAULT_GOAL := book

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(PIP_EXTRA) "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet $(PIP_EXTRA) -e ".[test]"
	touch $@

install: $(VENV)/.installed

notebooks: install
	$(PY) -m explain_utils.run_book $(RUN_ARGS)

html: install
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo "The book is at $(CURDIR)/_build/html/index.html"

book: book-estimate notebooks html

# before the long part, one line with what the last timed run took (the record that
# scripts/time_book.sh writes under results/timing/); the system Python, as .venv may not exist yet
book-estimate:
	@$(PYTHON) scripts/timing_record.py estimate --profile $(PROFILE) || true

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The site test drives Debian's chromium through playwright (its own browser download can't run
# offline); install it when we can (root + apt-get), else the test says how.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	  || echo "chromium is not installed: install Debian's chromium package for the browser test"

test: lint browser
	$(PY) -m pytest

bench: install
	$(PY) -m explain_utils.bench

# chapters 2-4's learning rate and steps per model and level, chosen on the validation split (needs
# notebook 01's data); writes results/calibration/{learning_rates,steps}.csv, which the chapters read
calibrate: install
	$(PY) -m explain_utils.calibrate --profile $(PROFILE)

# `make book` timed in a fresh clone of HEAD, then its cached rerun, saved as the timing record
# (results/timing/) that book/reproducing.md shows; the book's budget is 120 minutes on 2 cores
time-book:
	bash scripts/time_book.sh $(PROFILE)

lab: install
	$(VENV)/bin/jupyter lab notebooks/

clean:
	rm -rf _build
