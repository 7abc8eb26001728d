# `make serve` and `make test` each build .venv on first use, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: serve test check lint typecheck format bench screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/chatkitd serve

test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

screenshots: $(STAMP)
	CHATKITD_UPDATE_SCREENSHOTS=1 $(PY) -m pytest -q tests/browser

lint: $(STAMP)
	$(VENV)/bin/ruff check chatkitd tests bench
	$(VENV)/bin/ruff format --check chatkitd tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy chatkitd tests bench

format: $(STAMP)
	$(VENV)/bin/ruff format chatkitd tests bench
	$(VENV)/bin/ruff check --fix chatkitd tests bench

check: lint typecheck test

bench: $(STAMP)
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .chatkitd .pytest_cache .mypy_cache
