# The two entry points of a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup system codecs charts alertmanager demo test lint

setup: system $(VENV)/.installed codecs charts alertmanager

system:
	@services/install-system-packages.sh

# One resolver run for every dependency: faust-streaming pins click<8.4, and a later
# separate `pip install` could upgrade click and break it.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# The makers' codecs from the npm registry (services/codecs/package.json), into the cache.
codecs: $(VENV)/.installed
	$(BIN)/python -m services.codec_packages

# The review page's charting library (services/charts/package.json), into the cache.
charts: $(VENV)/.installed
	$(BIN)/python -m services.chart_packages

# Alertmanager, built once with Go into the cache folder (2 to 3 min the first time): here
# rather than inside the first test that needs it, whose timeout it could use up.
alertmanager: $(VENV)/.installed
	@$(BIN)/python -c 'from services.alertmanager import ensure_alertmanager as e; e()'

demo: setup
	$(BIN)/smati demo $(ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest $(ARGS)
