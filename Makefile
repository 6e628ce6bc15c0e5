# DIRS — the two commands a fresh machine needs:
#   make reproduce   create .venv, install, run the whole workflow (snakemake --cores 8)
#   make test        create .venv, install with test extras, run the test suite
#   make lint        ruff (lint + format) and snakemake --lint
#   make test-cluster   the smoke DAG through a local single-node SLURM (root; not part of `make test`)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CORES  ?= 8

.PHONY: reproduce test test-cluster smoke lint bench report mlflow-ui clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# pip is quiet; its full log goes to .venv/pip.log (printed if the install fails)
$(STAMP): pyproject.toml | $(BIN)/python
	@echo "installing DIRS into $(VENV) (log: $(VENV)/pip.log)"
	@$(BIN)/python -m pip install --upgrade pip >$(VENV)/pip.log 2>&1 || (cat $(VENV)/pip.log; exit 1)
	@$(BIN)/python -m pip install -e ".[test]" >>$(VENV)/pip.log 2>&1 || (cat $(VENV)/pip.log; exit 1)
	@touch $(STAMP)

reproduce: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)

test: $(STAMP)
	$(BIN)/python -m pytest -q

# the smoke DAG through a real single-node SLURM on this machine vs a local run (root, Debian;
# installs slurm-wlm + munge, starts and stops the daemons; see tests/cluster/run_slurm_test.sh)
test-cluster: $(STAMP)
	@$(BIN)/python -m pip install -e ".[test,cluster]" >>$(VENV)/pip.log 2>&1 || (cat $(VENV)/pip.log; exit 1)
	PYTHON=$(BIN)/python tests/cluster/run_slurm_test.sh

smoke: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --config profile=smoke

# ruff (lint + format check, configured in pyproject.toml) and Snakemake's own linter
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakemake --lint

bench: $(STAMP)
	$(BIN)/python -m dirs.bench oracle

report: $(STAMP)
	$(BIN)/snakemake --report results/report.html

# the experiments are tagged as model training; MLflow 3.17's sidebar toggle still defaults to GenAI
# in a fresh browser (it lives in localStorage), so open the printed link (runs table) once
mlflow-ui: $(STAMP)
	@echo "open http://127.0.0.1:5000/#/experiments?workflowType=machine_learning (then an experiment: its runs table)"
	$(BIN)/mlflow server --backend-store-uri sqlite:///results/mlflow/mlflow.db --port 5000

clean:  # everything generated; data/maps/ holds shipped map files and stays
	find data -mindepth 1 -maxdepth 1 ! -name maps -exec rm -rf {} +
	rm -rf results .snakemake
