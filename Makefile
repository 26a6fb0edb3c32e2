# Two commands matter: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# torch is pinned to the local CPU wheel; the constraint keeps pip from resolving a CUDA build.
TORCH_PIN := torch==2.13.0
SOCIALCRM_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export SOCIALCRM_TEST_POSTGRES_URL

.PHONY: run test install lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	echo "$(TORCH_PIN)" > $(VENV)/constraints.txt
	$(BIN)/pip install --quiet -c $(VENV)/constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The demo answers in dry-run mode: replies are recorded, never sent to a platform.
run: $(STAMP)
	@mkdir -p var
	$(BIN)/socialcrm db upgrade
	$(BIN)/socialcrm demo load --if-empty
	@echo "Log in at http://$${SOCIALCRM_HOST:-127.0.0.1}:$${SOCIALCRM_PORT:-8000}/login with the demo key below (a fresh one each run):"
	@$(BIN)/socialcrm apikeys create demo --replace
	SOCIALCRM_DRY_RUN_REPLIES=$${SOCIALCRM_DRY_RUN_REPLIES:-true} $(BIN)/socialcrm run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy .

pytest: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/import_throughput.py
	$(BIN)/python benchmarks/collect_throughput.py
	$(BIN)/python benchmarks/sentiment_throughput.py
	$(BIN)/python benchmarks/engagement_throughput.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
