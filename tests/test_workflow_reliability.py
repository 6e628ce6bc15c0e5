"""Workflow-level reliability: same seeds ⇒ identical tables; a failing job is named, logged and
its MLflow run ends FAILED."""

import re

import numpy as np
import pandas as pd
import pytest
from test_workflow import copy_workflow, snakemake

SMOKE = ("--config", "profile=smoke")
#: A slice of the smoke DAG that runs every kind of stage of the medium scenario end to end.
TARGETS = [
    "results/evaluations/medium/seed0/greedy.csv",
    "results/evaluations/medium/seed0/random.csv",
    "results/evaluations/medium/seed0/pso.csv",
    "results/evaluations/medium/seed0/policy_dirs.csv",
]
TIMING = re.compile(r"(_ms|_s)$")


def _deterministic_columns(path):
    frame = pd.read_csv(path)
    return frame[[c for c in frame.columns if not TIMING.search(c)]]


@pytest.mark.slow
def test_same_seeds_give_identical_tables(tmp_path):
    runs = []
    for name in ("a", "b"):
        wd = copy_workflow(tmp_path / name)
        proc = snakemake(wd, "--cores", "2", *TARGETS, *SMOKE)
        assert proc.returncode == 0, proc.stderr[-4000:]
        runs.append(wd)
    for target in TARGETS:
        a = _deterministic_columns(runs[0] / target)
        b = _deterministic_columns(runs[1] / target)
        assert a.to_csv(index=False) == b.to_csv(index=False), target  # byte-identical values
    with (
        np.load(runs[0] / "results/evaluations/medium/seed0/optimum.npz") as x,
        np.load(runs[1] / "results/evaluations/medium/seed0/optimum.npz") as y,
    ):
        np.testing.assert_array_equal(x["decisions"], y["decisions"])


@pytest.mark.slow
def test_failing_job_is_named_and_its_run_ends_failed(tmp_path):
    wd = copy_workflow(tmp_path / "wf")
    target = "results/evaluations/medium/seed0/optimum.npz"
    assert snakemake(wd, "--cores", "1", "data/scenarios/medium/seed0/channels.npz", *SMOKE).returncode == 0
    channels = wd / "data/scenarios/medium/seed0/channels.npz"
    with np.load(channels) as z:
        train, test = z["train"], z["test"].copy()
    test[0, 0, 0] = np.nan
    np.savez(channels, train=train, test=test)
    proc = snakemake(wd, "--cores", "1", target, *SMOKE)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "Error in rule solve_optimum" in out
    assert "results/logs/solve_optimum/medium/seed0.log" in out
    log = (wd / "results/logs/solve_optimum/medium/seed0.log").read_text()
    assert "channel gains must be finite and > 0" in log
    assert not (wd / target).exists()

    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{wd / 'results/mlflow/mlflow.db'}")
    exp = client.get_experiment_by_name("dirs-smoke")
    runs = client.search_runs([exp.experiment_id], "tags.`dirs.stage` = 'solve_optimum'")
    assert [r.info.status for r in runs] == ["FAILED"]
    assert "channel gains must be finite" in runs[0].data.tags["dirs.error"]
    pipelines = client.search_runs([exp.experiment_id], "tags.`dirs.kind` = 'pipeline'")
    assert {r.info.status for r in pipelines} == {"FINISHED", "FAILED"}
