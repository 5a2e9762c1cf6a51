# Cutroom: `make run` starts the studio, `make test` runs every check. See README.md.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

.PHONY: run test lint format install install-test chromium clean

run: $(VENV)/.installed-run
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py studio_info
	@echo ""
	@echo "  Cutroom is running at http://$${HOST:-127.0.0.1}:$(PORT)  (Ctrl-C stops everything)"
	exec $(PY) manage.py supervise

test: $(VENV)/.installed-test chromium
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

install: $(VENV)/.installed-run
install-test: $(VENV)/.installed-test

$(VENV)/bin/python:
	@interpreter="$$(scripts/find-python)" || exit 1; \
	echo "Creating $(VENV) with $$interpreter"; \
	"$$interpreter" -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip setuptools wheel

$(VENV)/.installed-run: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet --disable-pip-version-check .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet --disable-pip-version-check ".[test]"
	@touch $@ $(VENV)/.installed-run

# Playwright's own browser download does not work on these machines; Debian's Chromium does.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Debian's chromium for the browser tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	fi

clean:
	rm -rf $(VENV) build *.egg-info
