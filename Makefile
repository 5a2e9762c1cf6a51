# Cutroom: `make run` starts the studio, `make test` runs every check. See README.md.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

# axe-core checks every page for accessibility in the browser tests (tests/e2e/test_axe_e2e.py).
# It is installed from npm into var/axe (git-ignored), once per version; there is no package.json.
AXE_VERSION := 4.14.1
AXE_DIR := var/axe
AXE_STAMP := $(AXE_DIR)/.installed-$(AXE_VERSION)

.PHONY: run test test-postgres lint format install install-test chromium postgresql axe clean

# umask 077: whatever these create in the data folder is this user's alone (supervisord sets
# the same umask for web and worker; studio/settings.py also fixes the modes it knows).
# `prepare` migrates (one line for all migrations), collects the static files and says where
# the data is; `supervise` prints the address once the web server answers.
run: $(VENV)/.installed-run
	@umask 077 && $(PY) manage.py prepare
	@umask 077 && exec $(PY) manage.py supervise

# pytest's options for both passes: two worker processes (pytest-xdist; each has its own test
# database, live server and browser), handed out test by test so that a long test does not
# hold back a queue of short ones; the 25 slowest tests are listed at the end of each pass.
PYTEST_ARGS ?= -n 2 --dist worksteal --durations=25

# The suite twice, both passes at once: on SQLite (the default install) with the browser tests,
# and on a throwaway PostgreSQL server that scripts/test-postgres starts and removes, without
# them. Many tests wait on child processes, servers and browsers, so one pass alone keeps about
# one core of two busy; side by side the two fill the machine. The PostgreSQL pass's report is
# printed after the SQLite pass's. The browser tests drive the same views the fast tests check on
# both databases, so they run once, on the database `make run` gives a newcomer; so do the tests
# marked `once` (docs/development.md).
# Either failing fails the command.
test: $(VENV)/.installed-test chromium postgresql axe
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	@status=0; postgres_log=$$(mktemp); \
	echo "== pytest on PostgreSQL started beside SQLite; its report follows SQLite's"; \
	( VENV=$(VENV) scripts/test-postgres $(PYTEST_ARGS) -m "not e2e and not once" \
		>$$postgres_log 2>&1; echo $$? >$$postgres_log.status ) & \
	echo "== pytest on SQLite, browser tests included"; \
	$(VENV)/bin/pytest $(PYTEST_ARGS) || status=1; \
	wait; \
	echo "== pytest on PostgreSQL: what reaches the database, browser and once-only tests excluded"; \
	cat $$postgres_log; \
	test "$$(cat $$postgres_log.status)" = 0 || status=1; \
	rm -f $$postgres_log $$postgres_log.status; \
	exit $$status

# The suite on PostgreSQL alone (pytest arguments: make test-postgres ARGS="-m 'not e2e'").
test-postgres: $(VENV)/.installed-test chromium postgresql axe
	VENV=$(VENV) scripts/test-postgres $(ARGS)

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

$(VENV)/.installed-test: pyproject.toml Makefile | $(VENV)/bin/python
	$(PY) -m pip install --quiet --disable-pip-version-check ".[test,postgres]"
	@touch $@ $(VENV)/.installed-run

# Playwright's own browser download does not work on these machines; Debian's Chromium does.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Debian's chromium for the browser tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	fi

# Debian's PostgreSQL server for the suite's PostgreSQL pass; scripts/test-postgres makes its own
# cluster with it and never uses (or needs) one the package may have started.
postgresql:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then \
		echo "Installing Debian's postgresql for the tests on PostgreSQL"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; \
	fi

axe: $(AXE_STAMP)

$(AXE_STAMP):
	@command -v npm >/dev/null || { \
		echo "Installing Debian's npm for axe-core"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq npm >/dev/null; \
	}
	npm install --prefix $(AXE_DIR) --no-save --no-package-lock --no-audit --no-fund \
		--loglevel=error axe-core@$(AXE_VERSION)
	@rm -f $(AXE_DIR)/.installed-*
	@touch $@

clean:
	rm -rf $(VENV) build *.egg-info
