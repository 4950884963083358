# `make demo` and `make test` each build .venv first, so both work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck clean schema bench crash contract

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tierbridge demo

# Runs every test, the contract suite (tests/contract) included; `make contract` adds its table.
test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check tierbridge tests bench
	$(BIN)/ruff format --check tierbridge tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Regenerate schema/*.json after changing a config or mapping model.
schema: $(STAMP)
	$(BIN)/tierbridge schema --out schema

# Short benchmark run (under 5 minutes) against local emulators; writes bench/results/latest.json.
# `$(BIN)/python -m bench --help` lists the longer runs (soak, 10,000-change burst, PostgreSQL).
bench: $(STAMP)
	$(BIN)/python -m bench

# SIGKILL the daemon 100 times during a replayed scenario; fails if a sync was lost or doubled.
crash: $(STAMP)
	$(BIN)/python -m bench.crash --kills 100

# The connector contract suite in recorded and emulator modes, then its results by connector
# and mode.
# Live mode needs TIERBRIDGE_LIVE_* credentials: `pytest -m live tests/contract`, see
# docs/contract-tests.md.
CONTRACT_REPORT := .pytest_cache/contract-report.xml
contract: $(STAMP)
	@mkdir -p $(dir $(CONTRACT_REPORT))
	@$(BIN)/pytest -q -m "contract and not live" tests/contract \
		--junitxml=$(CONTRACT_REPORT); status=$$?; \
		$(BIN)/python -m bench.contract_table $(CONTRACT_REPORT); exit $$status
