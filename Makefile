# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test lint worker browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.test-installed: requirements.txt requirements-test.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-test.txt
	touch $@ $(VENV)/.run-installed

# Serve the demo on http://127.0.0.1:5000 with SQLite, beside one mail worker.
run: $(VENV)/.run-installed
	$(FLASK) db upgrade
	$(FLASK) demo seed
	$(FLASK) search reindex
	@echo "Editors log in at http://127.0.0.1:5000/editor/login"
	@# The worker outlives database and SMTP outages; should it die anyway, it is
	@# started again after a few seconds.
	(trap 'exit 0' INT TERM; while true; do $(FLASK) mail deliver --loop; sleep 3; done) & worker=$$!; \
	trap 'pkill -P $$worker 2>/dev/null; kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port 5000

# The browser suite (tests/browser) drives Chromium: Debian's package, installed
# here when it is missing and we may (root with apt-get); CHROMIUM=/path names
# another. Its install test puts nginx in front of the portal: Debian's
# nginx-light, installed the same way. axe-core comes from npm, pinned by
# tests/browser/package-lock.json.
CHROMIUM ?= $(shell command -v chromium || echo /usr/bin/chromium)
export CHROMIUM

browser: tests/browser/node_modules/.installed
	@missing=""; \
	[ -x "$(CHROMIUM)" ] || missing="chromium"; \
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$$missing nginx-light"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's $$missing for the browser tests"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
	    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; }; \
	  else \
	    echo "Missing for the browser tests: $$missing (Debian packages; CHROMIUM=/path names another Chrome)." >&2; \
	    exit 1; \
	  fi; \
	fi

tests/browser/node_modules/.installed: tests/browser/package.json tests/browser/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js and npm." >&2; exit 1; }
	npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
	touch $@

# pytest-xdist spreads the test modules over the machine's cores (a browser
# module stays on one worker, with its one server); on PostgreSQL each worker
# has a database of its own. PYTEST_WORKERS=0 runs everything in one process.
PYTEST_WORKERS ?= auto

test: $(VENV)/.test-installed browser
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

lint: $(VENV)/.test-installed
	$(BIN)/ruff check portal tests migrations benchmarks
	$(BIN)/ruff format --check portal tests migrations benchmarks
