# `make serve` and `make test` each build .venv and the web UI on first use, so a fresh
# clone needs nothing else (Python 3.11+, Node 18+ with npm; CI installs both).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
NPM ?= npm
# The web UI's bundles (chatkitd/web/build.mjs): rebuilt when a source, the build script
# or the npm lockfile changes. chatkitd/web/static is build output only (gitignored).
WEB_STAMP := chatkitd/web/static/build.json
WEB_SOURCES := $(shell find chatkitd/web/src -type f 2>/dev/null) chatkitd/web/build.mjs

.PHONY: serve test check lint typecheck format bench screenshots clean web image-test compat fuzz

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	CHATKITD_SKIP_WEB_BUILD=1 $(PY) -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund --loglevel=error

$(WEB_STAMP): node_modules/.package-lock.json $(WEB_SOURCES)
	node chatkitd/web/build.mjs

web: $(WEB_STAMP)

serve: $(STAMP) $(WEB_STAMP)
	$(VENV)/bin/chatkitd serve

test: $(STAMP) $(WEB_STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

screenshots: $(STAMP) $(WEB_STAMP)
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

# The container image and compose.yaml, built and run (~18 min the first time on a machine,
# 2-4 min after; installs docker.io, docker-compose and debootstrap when missing). Not part of
# `make test`: run it when the Dockerfile, compose.yaml, deploy/, tests/image/ or dependencies change.
image-test: $(STAMP)
	tests/image/run.sh $(PY)

# openai-chatkit's own store and server tests against chatkitd's store (tests/chatkit_reference).
compat: $(STAMP)
	$(PY) -m tests.chatkit_reference.run

# The fuzz test (tests/test_fuzz.py) at length: ~30 000 mutated and ~4 000 generated requests on
# SQLite and on PostgreSQL. CHATKITD_FUZZ_SEED=N replays a run.
fuzz: $(STAMP)
	CHATKITD_FUZZ_EXAMPLES=25 CHATKITD_FUZZ_MUTATIONS=30000 CHATKITD_FUZZ_BACKENDS=sqlite,postgresql \
		$(PY) -m pytest -q -s --timeout=3600 tests/test_fuzz.py

bench: $(STAMP) $(WEB_STAMP)
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .chatkitd .pytest_cache .mypy_cache node_modules chatkitd/web/static
