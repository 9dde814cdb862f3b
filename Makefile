# Signpost: `make run` starts all three services on SQLite; `make test` runs every test.
# Every target creates the virtual environment first if it is missing or out of date.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PACKAGES := -e shared/schemas -e shared/platform -e services/referral-api -e services/directory-api -e services/screening-api
SERVICES := referral directory screening
SCOPES ?= referral:read referral:write referral:all-organisations referral:export directory:write screening:read screening:write screening:all-organisations reports:read audit:read

.PHONY: help venv run test test-sqlite test-postgres test-clock renderers openapi-tools clients lint format migrate token expire-held relink load-postcodes load-directory-postcodes load-snomed load-service-use import-history bench openapi image clean

help:
	@echo "make run      start referral-api :8001, directory-api :8002, screening-api :8003 (SQLite in ./var/)"
	@echo "             pages: http://127.0.0.1:8003/screen and http://127.0.0.1:8001/reports/dashboard"
	@echo "make assets   install the pages' pinned front-end assets into var/assets (make run does it)"
	@echo "make sample-referrals  load 120 synthetic referrals into ./var/referral.db for the dashboard"
	@echo "make test     run every test (SQLite and PostgreSQL)"
	@echo "make test-clock  run the date-sensitive suites with the clock just before a month (SQLite) and a year (PostgreSQL) boundary"
	@echo "make renderers install chromium and the npm packages the renderer and page tests use"
	@echo "make openapi-tools install the npm packages the OpenAPI tool tests use (Redocly, openapi-typescript, tsc)"
	@echo "make clients  install the npm packages of the FHIR client flows and the R4 validator"
	@echo "make token    print a development bearer token (SCOPES='referral:read ...' ODS=F84001)"
	@echo "make migrate  migrate the three databases to head"
	@echo "make load-postcodes FILE=...  load the full ONS postcode directory into referral-api"
	@echo "make load-directory-postcodes FILE=...  load it into directory-api (postcode searches)"
	@echo "make load-snomed DIR=...  load a SNOMED CT RF2 Snapshot into referral-api (groups SNOMED codes)"
	@echo "make load-service-use FILE=...  load service-use counts (GP, A&E, admissions) from a CSV extract"
	@echo "make import-history FILE=...  backfill referral history (NDJSON messages or the CSV template)"
	@echo "make expire-held  expire the referral messages held past REFERRAL_HELD_MESSAGE_RETENTION_DAYS"
	@echo "make relink   work out every person's referral links again (after REFERRAL_LINKAGE_WINDOW_DAYS changes)"
	@echo "make lint     ruff check and format check, import contracts (lint-imports), mypy --strict on shared/ and the services"
	@echo "make bench    benchmarks on PostgreSQL (see bench/README.md)"
	@echo "make openapi  write each service's OpenAPI document to docs/openapi/"
	@echo "make image    build the container image (needs Docker; see docs/deploy.md)"

$(STAMP): pyproject.toml constraints.txt shared/schemas/pyproject.toml shared/platform/pyproject.toml services/*/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt $(PACKAGES) -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

.PHONY: assets sample-referrals

# The pages' front-end packages (NHS.UK frontend, LHC-Forms), pinned and hash-checked, fetched once
# from the npm registry into var/assets (docs/pages.md); no node needed.
assets: venv
	$(BIN)/python -m signpost_platform.pages.assets

# The development referral-api database gets the synthetic report dataset (docs/pages.md), once.
run: venv assets sample-referrals
	$(BIN)/python -m signpost_platform.devserver

# The synthetic report dataset in the development referral-api database, for the dashboard.
sample-referrals: venv
	$(BIN)/python -m tests.support.sample_referrals

# SQLite and PostgreSQL run side by side, as two pytest processes (tests/run_parts.sh).
test: venv
	bash tests/run_parts.sh $(BIN)/python $(PYTEST_ARGS)

# The suites whose answers depend on dates (reports, screening reports, linkage windows, waiting
# times), run with the wall clock faked to 30 s before a boundary: the clock ticks on, so each
# run crosses it while it runs. SQLite crosses a month's end and PostgreSQL a year's end (which
# is a month's end too), side by side. The disclosure attack test and the reference
# recomputation ask for fixed periods and take a minute or more, so they run once, in `make test`.
CLOCK_SUITES ?= tests/reports tests/screening/test_reports.py tests/referral/linkage \
	tests/platform/test_fake_clock.py
MONTH_END ?= 2027-06-30T23:59:30+00:00
YEAR_END ?= 2027-12-31T23:59:30+00:00

test-clock: venv
	@echo "== date-sensitive suites: SQLite with the clock at $(MONTH_END), PostgreSQL at $(YEAR_END)"
	SQLITE_FAKE_NOW=$(MONTH_END) POSTGRES_FAKE_NOW=$(YEAR_END) bash tests/run_parts.sh \
		$(BIN)/python -q $(CLOCK_SUITES) --ignore=tests/reports/test_disclosure_attack.py \
		--ignore=tests/reports/test_reference.py $(PYTEST_ARGS)

renderers:
	bash tests/renderers/setup.sh

openapi-tools:
	bash tests/openapi/node/setup.sh

clients:
	bash tests/clients/node/setup.sh

test-sqlite: venv
	SIGNPOST_TEST_BACKENDS=sqlite $(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: venv
	SIGNPOST_TEST_BACKENDS=postgresql $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: venv
	@for service in $(SERVICES); do $(BIN)/alembic --name $$service upgrade head || exit 1; done

token: venv
	@$(BIN)/python -m signpost_platform.auth $(foreach scope,$(SCOPES),--scope $(scope)) $(if $(ODS),--ods $(ODS))

load-postcodes: venv
	@test -n "$(FILE)" || (echo "usage: make load-postcodes FILE=path/to/ONSPD_or_NSPL.csv" && exit 2)
	$(BIN)/python -m referral_api.geography.load --postcodes $(FILE)

load-directory-postcodes: venv
	@test -n "$(FILE)" || (echo "usage: make load-directory-postcodes FILE=path/to/ONSPD_or_NSPL.csv" && exit 2)
	$(BIN)/python -m directory_api.geography load $(FILE)

load-snomed: venv
	@test -n "$(DIR)" || (echo "usage: make load-snomed DIR=path/to/unzipped/RF2/release" && exit 2)
	$(BIN)/python -m referral_api.terminology.load $(DIR)

load-service-use: venv
	@test -n "$(FILE)" || (echo "usage: make load-service-use FILE=path/to/service-use.csv" && exit 2)
	$(BIN)/python -m referral_api.service_use.load $(FILE)

import-history: venv
	@test -n "$(FILE)" || (echo "usage: make import-history FILE=history.ndjson|template.csv" && exit 2)
	$(BIN)/python -m referral_api.imports $(FILE)

expire-held: venv
	$(BIN)/python -m referral_api.messages.expire

relink: venv
	$(BIN)/python -m referral_api.linkage.relink

bench: venv
	$(BIN)/python -m bench.run $(BENCH_ARGS)

openapi: venv
	$(BIN)/python -m signpost_platform.openapi docs/openapi

image:
	docker build -f deploy/Dockerfile -t signpost:local .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
