# Two commands do everything on a fresh machine (see README):
#   make run   — install what is missing, create and seed the SQLite database, serve the platform with one job
#                worker beside it (cnvisa worker), stopped with the server
#   make test  — install what is missing and run the whole test suite (what CI runs)
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean system
HOST ?= 127.0.0.1
PORT ?= 8000

system:
	@bash scripts/system-deps.sh

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: system $(STAMP)
	@$(BIN)/cnvisa demo setup
	@echo "cnvisa is at http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/docs)"
	@echo "one job worker runs beside it (cnvisa worker: the daily sweep at 00:05 Beijing time); both stop together"
	@$(BIN)/cnvisa worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT; trap 'exit 130' INT TERM; \
	$(BIN)/cnvisa serve --host $(HOST) --port $(PORT) --workers 2

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports
	@bash scripts/audit-deps.sh $(BIN)/pip-audit  # known vulnerabilities fail; offline only warns (≤ 30 s)

# Tests in parallel (pytest-xdist, one worker per core); CNVISA_HYPOTHESIS=long runs the long property tests.
test: system lint
	$(BIN)/pytest -q -n auto --dist loadgroup

bench: $(STAMP)
	$(BIN)/python benchmarks/law.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# --- The cluster (issue 14): the production shape on this machine. Never part of 'make test' or CI.
# Runs this checkout's code (APP_SRC) with the project's venv; another venv: make cluster BIN=/path/to/venv/bin
.PHONY: cluster cluster-down cluster-test
CLUSTER_ENV = CNVISA_BIN=$(abspath $(BIN))/cnvisa APP_SRC=$(abspath src)

cluster:
	$(CLUSTER_ENV) bash scripts/cluster.sh up

cluster-down:
	$(CLUSTER_ENV) bash scripts/cluster.sh down

# The drills, each printing its figures: the Patroni leader killed (SIGKILL) during a burst of writes; an app
# server killed during writes; the asynchronous replica killed during reads; a point-in-time restore; the network
# between the app servers and the database stalled (HAProxy stopped with SIGSTOP)
cluster-test:
	$(CLUSTER_ENV) $(abspath $(BIN))/python scripts/cluster/drill_primary_kill.py
	$(CLUSTER_ENV) $(abspath $(BIN))/python scripts/cluster/drill_app_and_replica.py both
	$(CLUSTER_ENV) $(abspath $(BIN))/python scripts/cluster/drill_backup_restore.py
	$(CLUSTER_ENV) $(abspath $(BIN))/python scripts/cluster/drill_network_stall.py
