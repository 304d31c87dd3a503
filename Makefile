# Two commands: `make demo` (set up and serve the demo) and `make test` (set up and test).
# Everything is installed by these targets: uv (in .tools/), the Python packages (.venv/),
# the npm packages (node_modules/) and, for the browser tests, Debian's chromium.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Django 6 needs Python >= 3.12. An explicit PYTHON=... wins; otherwise try the usual names.
PYTHON ?= $(shell for c in python3.13 python3.12 \
	$$HOME/.pyenv/versions/3.13*/bin/python3 $$HOME/.pyenv/versions/3.12*/bin/python3 \
	/usr/local/bin/python3.13 /usr/local/bin/python3.12 /usr/bin/python3.13 /usr/bin/python3.12 python3; do \
	  p=$$(command -v $$c 2>/dev/null) || continue; \
	  $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; \
	done)

VENV := .venv
# The demo's port: `make demo PORT=8001` when 8000 is taken.
PORT ?= 8000
UV := .tools/bin/uv
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help python deps npm chromium demo test lint serve worker beat clean

help:
	@echo "make demo   set everything up and serve the demo on http://127.0.0.1:$(PORT) (PORT=8001 for another port)"
	@echo "make test   set everything up and run ruff and the test suite"

python:
	@if [ -z "$(PYTHON)" ]; then \
	  echo "No Python 3.12 or newer found. Install one, or run: make $(MAKECMDGOALS) PYTHON=/path/to/python3.12"; exit 1; fi

$(UV): | python
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

deps: $(VENV)/.synced npm

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

npm: node_modules/.installed

# Debian's chromium for the Playwright tests (Playwright's own browser download is not used).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; }

# The demo: SQLite file, Celery in-process, the demo mailbox. The same environment for every
# step, whatever DATABASE_URL / REDIS_URL / EMAIL_URL the shell has.
demo: export DATABASE_URL := sqlite:///$(CURDIR)/db.sqlite3
demo: export REDIS_URL :=
demo: export EMAIL_URL :=
demo: export DEBUG := true
demo: export CX_IMPORT_IN_THREAD := true
demo: export SITE_URL := http://127.0.0.1:$(PORT)
demo: deps
	$(VENV)/bin/python manage.py migrate --no-input
	$(VENV)/bin/python manage.py seed_demo
	@echo ""
	@echo "  Serving the demo on $(SITE_URL)  (Ctrl-C stops it)"
	@echo ""
	$(VENV)/bin/python manage.py runserver 127.0.0.1:$(PORT)

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: deps chromium lint
	DATABASE_URL=sqlite://:memory: $(VENV)/bin/python manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Production-style processes (set DATABASE_URL, REDIS_URL, EMAIL_URL, SECRET_KEY, DEBUG=false).
serve: deps
	$(VENV)/bin/python manage.py collectstatic --no-input -v0
	$(VENV)/bin/gunicorn cxplatform.wsgi --bind 127.0.0.1:8000 --workers 3 --no-control-socket

worker: deps
	$(VENV)/bin/celery -A cxplatform worker --loglevel=info

beat: deps
	$(VENV)/bin/celery -A cxplatform beat --loglevel=info

clean:
	rm -rf $(VENV) .tools node_modules staticfiles db.sqlite3
