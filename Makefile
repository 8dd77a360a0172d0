# BankCRM - two commands: `make run` serves the CRM with demo data, `make test` proves it works.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
VENDOR := src/bankcrm/web/static/vendor
HOST ?= 127.0.0.1
PORT ?= 8000
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: run setup venv assets migrate demo test test-sqlite test-postgres lint fmt types contracts bench bench-customers bench-segmentation i18n clean

run: setup migrate demo  ## set everything up and serve on http://127.0.0.1:8000
	$(BIN)/bankcrm serve --host $(HOST) --port $(PORT)

setup: venv assets

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

assets: $(VENDOR)/.installed

$(VENDOR)/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/tabler $(VENDOR)/tabler-icons/fonts $(VENDOR)/htmx $(VENDOR)/echarts $(VENDOR)/swagger-ui
	cp node_modules/@tabler/core/dist/css/tabler.min.css $(VENDOR)/tabler/
	cp node_modules/@tabler/icons-webfont/dist/tabler-icons.min.css $(VENDOR)/tabler-icons/
	cp node_modules/@tabler/icons-webfont/dist/fonts/tabler-icons.woff2 $(VENDOR)/tabler-icons/fonts/
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx/
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts/
	cp node_modules/swagger-ui-dist/swagger-ui.css node_modules/swagger-ui-dist/swagger-ui-bundle.js $(VENDOR)/swagger-ui/
	touch $@

migrate: venv
	$(BIN)/bankcrm migrate

demo: venv
	$(BIN)/bankcrm demo load --if-empty

test: setup lint types contracts test-sqlite test-postgres  ## everything CI runs

test-sqlite: setup
	$(BIN)/pytest -n 2 --dist loadgroup

test-postgres: setup
	@if [ -n "$$BANKCRM_TEST_POSTGRES_URL" ]; then \
		BANKCRM_TEST_BACKEND=postgres $(BIN)/pytest -n 2 --dist loadgroup; \
	else echo "BANKCRM_TEST_POSTGRES_URL is not set: skipping the PostgreSQL run"; fi

lint: venv
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations

fmt: venv
	$(BIN)/ruff format src tests bench migrations
	$(BIN)/ruff check --fix src tests bench migrations

types: venv
	$(BIN)/mypy

contracts: venv
	$(BIN)/lint-imports

bench: setup  ## budgets of docs/benchmarks.md, measured on this machine
	$(BIN)/python -m bench

bench-customers: setup  ## customer budgets on a generated bank of 100,000 customers (minutes to generate)
	$(BIN)/python -m bench --only customers --keep

bench-segmentation: setup  ## nightly scoring run, CLV fit and segment previews on a generated bank of 1,000,000 customers (kept under var/)
	nice -n 5 $(BIN)/python -m bench --only segmentation --customers 1000000 --keep

i18n: venv  ## refresh the message catalogues from the source
	mkdir -p var
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k t -o var/messages.pot --no-location --sort-output src
	$(BIN)/pybabel update -i var/messages.pot -d src/bankcrm/locale --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) node_modules $(VENDOR) .pytest_cache .mypy_cache .ruff_cache
