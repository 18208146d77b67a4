# pocketchat: every target sets up its own local .venv (nothing global).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-runtime
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: chat test lint bench demo clean browser

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

test: $(DEVSTAMP) browser
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

# The chat page's tests drive Debian's headless Chromium through its chromedriver.
browser:
	@command -v chromium >/dev/null && test -x /usr/bin/chromedriver || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	   chromium chromium-driver >/dev/null)

bench: $(DEVSTAMP)
	$(PY) -m bench

demo: $(STAMP)
	$(PY) -m tests.demo

clean:
	rm -rf $(VENV) build *.egg-info
