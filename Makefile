# jijiao: every target installs what it needs first (uv, the locked environment).
SHELL := /bin/bash
UV ?= scripts/uv
DETACH ?=
PYTEST_ARGS ?=
FAULTS_ARGS ?=

.PHONY: help install up down test test-unit test-e2e lint fmt bench faults asyncapi clean

help:
	@echo "make up [DETACH=1]  run the whole system (infrastructure, five services, demo data)"
	@echo "make down           stop what 'make up' started"
	@echo "make test           unit, integration and end-to-end tests against real infrastructure"
	@echo "make lint           ruff, mypy (strict, tests too) and the import-cycle check"
	@echo "make bench          benchmarks; JSON results under var/bench/"
	@echo "make faults         the fault suite (six faults, exact end state); JSON under var/faults/"

install:
	@bash scripts/bootstrap.sh
	@$(UV) sync --frozen --all-packages --group dev

up: install
	@$(UV) run --frozen python -m jijiao_stack up $(if $(DETACH),--detach,)

down:
	@$(UV) run --frozen python -m jijiao_stack down

test: install
	@$(UV) run --frozen pytest $(PYTEST_ARGS)

test-unit: install
	@$(UV) run --frozen pytest -m "not e2e" -k "unit" $(PYTEST_ARGS)

test-e2e: install
	@$(UV) run --frozen pytest -m e2e $(PYTEST_ARGS)

lint: install
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .
	@$(UV) run --frozen mypy -p jijiao_contracts -p jijiao_kit -p jijiao_stack -p enrollment -p studio -p hours -p notify -p baseline
	@$(UV) run --frozen mypy benchmarks deploy/k8s/generate.py
	@# tests too: their folders have no __init__.py (importlib mode), so each file is named by its path
	@# (explicit_package_bases); enrollment's integration helpers are found through mypy_path
	@$(UV) run --frozen mypy conftest.py tests kit/tests services/enrollment/tests services/studio/tests \
		services/hours/tests services/notify/tests services/baseline/tests
	@$(UV) run --frozen python scripts/import_cycles.py

fmt: install
	@$(UV) run --frozen ruff check --fix .
	@$(UV) run --frozen ruff format .

bench: install
	@$(UV) run --frozen python -m benchmarks

faults: install
	@$(UV) run --frozen python -m jijiao_stack.faults $(FAULTS_ARGS)

asyncapi: install
	@mkdir -p docs/asyncapi
	@for s in enrollment studio hours notify baseline; do \
		$(UV) run --frozen python -m $$s.entrypoints.worker --asyncapi > docs/asyncapi/$$s.json; done
	@echo "AsyncAPI documents written to docs/asyncapi/"

clean: down
	rm -rf var .venv
