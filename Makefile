# pocketchat: every target sets up its own local .venv (nothing global).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-runtime
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: chat test lint bench demo clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(DEVSTAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $@

chat: $(STAMP)
	$(VENV)/bin/pocketchat chat

test: $(DEVSTAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

bench: $(DEVSTAMP)
	$(PY) -m bench

demo: $(STAMP)
	$(PY) -m tests.demo

clean:
	rm -rf $(VENV) build *.egg-info
