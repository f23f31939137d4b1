# Recovery Menu. `make run` to try it out, `make test` for the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1:8000

.PHONY: run install test screenshots lint check bench messages messages-check clean

run: install
	$(PY) manage.py migrate --no-input
	$(PY) manage.py load_reference_data
	$(PY) manage.py create_demo_users
	$(PY) manage.py create_demo_meetings
	$(PY) manage.py create_demo_referrals
	@echo "Serving on http://$(HOST)/ (log in with one of the demo users above)"
	$(PY) manage.py runserver $(HOST)

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet ".[dev]"
	@rm -rf build *.egg-info
	@touch $@

test: install node_modules/.installed
	$(PY) -m pytest $(PYTEST_ARGS)

# Every role's main pages in en, nb and nl, as PNGs under tmp/screenshots/ for review.
screenshots: install node_modules/.installed
	$(PY) -m pytest tests/browser/screenshots.py -q

# axe-core, which the accessibility tests run in the browser (never served by the app).
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the accessibility tests will be skipped (CI fails them)"; fi

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

check: lint messages-check
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

bench: install
	$(PY) bench/catalog_pages.py
	$(PY) bench/match.py
	$(PY) bench/match_api.py --workers 2

# Needs GNU gettext (apt-get install gettext); the compiled catalogs are committed.
MAKEMESSAGES := $(PY) manage.py makemessages --locale nb --locale nl --no-location \
	--ignore ".venv/*" --ignore "bench/*" --ignore "tests/*" \
	--ignore "node_modules/*" --ignore "tmp/*"

messages: install
	$(MAKEMESSAGES)
	$(PY) manage.py compilemessages --ignore ".venv/*"

# Fails when a string in the code or templates is missing from the translation files.
messages-check: install
	$(MAKEMESSAGES) >/dev/null
	git diff --exit-code -I 'POT-Creation-Date' -- locale/

clean:
	rm -rf $(VENV) build *.egg-info staticfiles node_modules
