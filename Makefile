# Takes — `make run` serves the app, `make test` runs the whole suite.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTHON ?= $(shell command -v python3.11 || command -v python3)
# Two workers: the suite is mostly waiting on subprocesses and HTTP; both shapes fit CI this way.
PYTEST_ARGS ?= -n 2

.PHONY: run test install browser lint architecture prices sdk-schema bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) -m config.run

# Browser tests drive Debian's Chromium; install it when missing (root only, as in CI).
# What the browser and deployment tests drive: Debian's Chromium and nginx.
browser:
	@test -x /usr/bin/chromium -a -x /usr/sbin/nginx || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium nginx >/dev/null); } || { echo "Chromium and nginx are needed for the browser tests: apt-get install chromium nginx"; exit 1; }

test: install browser
	rm -rf test-artifacts/e2e
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	$(PY) tools/depgraph.py --check

# Redraw the dependency picture in docs/architecture.md from the code.
architecture: install
	$(PY) tools/depgraph.py

# The emulator ships its own copy of the catalog's price table (it imports nothing of the app).
prices:
	cp runway/catalog/prices.json emulator/prices.json

# What the installed runwayml SDK says each generation request takes (runway/catalog/sdk_requests.json).
sdk-schema: install
	$(PY) tools/sdk_schema.py

# wrk (from Debian) drives the HTTP load benchmarks: a Python load generator would compete for the cores.
bench: install
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx >/dev/null); } || echo "wrk is not installed (apt-get install wrk): the load figures use the Python load generator"
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) var/static
