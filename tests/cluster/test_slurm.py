"""The smoke DAG through a real SLURM (``--profile workflow/profiles/slurm``) equals a local run.

Needs a running SLURM whose client commands work on this machine and a filesystem shared with its
nodes; ``tests/cluster/run_slurm_test.sh`` (``make test-cluster``) sets up a single-node one and
runs this file. Skipped unless ``DIRS_TEST_CLUSTER=1``.

The SLURM run logs to an MLflow tracking server (``mlflow server`` on loopback, SQLite behind it),
the way a cluster must (jobs on several nodes must not share one SQLite file); the local run logs
to the embedded SQLite store. Compared: every evaluation CSV on its deterministic columns (all of
``dirs.evaluation.COLUMNS`` except wall-clock ones), the generated data and optimum arrays, and the
set of finished child runs under the one finished parent run with their params and non-timing
metrics.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_workflow import copy_workflow  # tests/ is on sys.path (its conftest.py)

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(
        os.environ.get("DIRS_TEST_CLUSTER") != "1",
        reason="needs a SLURM cluster: run `make test-cluster` (DIRS_TEST_CLUSTER=1)",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SNAKEMAKE = str(BIN / "snakemake")
MLFLOW = str(BIN / "mlflow")
# wall-clock columns/metrics: decision_ms, train_s, solve_ms_median, ms_per_demo, "seconds"
TIMING = re.compile(r"(^|_)(ms|s|seconds)(_|$)")
# Executor settings for the test cluster (not in the profile: real clusters keep the defaults).
# squeue: no accounting database here, so `sacct` cannot report job states;
# 5 s before the first status check instead of 40 s: jobs here take seconds;
# no account (none is configured); keep the per-job SLURM logs, which test_jobs_ran_through_slurm reads.
SLURM_TEST_ARGS = [
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "5",
    "--slurm-no-account",
    "--slurm-keep-successful-logs",
]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DIRS_", "SLURM_"))}
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def tracking_server(tmp_path_factory):
    """``mlflow server`` on loopback (SQLite backend, proxied artifacts); yields its URI."""
    d = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    log = open(d / "server.log", "w")
    proc = subprocess.Popen(
        [
            MLFLOW,
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{d / 'mlflow.db'}",
            "--artifacts-destination",
            str(d / "artifacts"),
        ],
        cwd=d,
        env=clean_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not come up:\n{(d / 'server.log').read_text()[-3000:]}")
            time.sleep(1)
        yield uri
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tracking_server):
    """The smoke DAG run locally and through SLURM, concurrently, each in its own workflow copy."""
    local = copy_workflow(tmp_path_factory.mktemp("local"))
    slurm = copy_workflow(tmp_path_factory.mktemp("slurm"))
    # Output goes to files, not pipes: a pipe nobody reads while the other run is awaited fills up
    # (64 KiB), blocks Snakemake mid-write and stalls its SLURM status checks.
    logs = {"local": local / "snakemake.out", "slurm": slurm / "snakemake.out"}
    commands = {
        "local": ([SNAKEMAKE, "--cores", "1", "--config", "profile=smoke"], local, clean_env()),
        "slurm": (
            [SNAKEMAKE, "--profile", "workflow/profiles/slurm", "--config", "profile=smoke", *SLURM_TEST_ARGS],
            slurm,
            clean_env(MLFLOW_TRACKING_URI=tracking_server),
        ),
    }
    procs = {}
    for name, (cmd, cwd, env) in commands.items():
        with open(logs[name], "w") as out:
            procs[name] = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    for p in procs.values():
        p.wait(timeout=2700)
    outputs = {name: logs[name].read_text() for name in procs}
    for name, p in procs.items():
        assert p.returncode == 0, f"{name} run failed:\n{outputs[name][-6000:]}"
    return {
        "local": local,
        "slurm": slurm,
        "slurm_log": outputs["slurm"],
        "local_uri": f"sqlite:///{local / 'results/mlflow/mlflow.db'}",
        "slurm_uri": tracking_server,
    }


def smoke_instances(wd: Path) -> list[str]:
    """Evaluation CSVs the smoke DAG writes, relative to the workflow root."""
    return sorted(str(p.relative_to(wd)) for p in (wd / "results/evaluations").rglob("*.csv"))


def test_jobs_ran_through_slurm(runs):
    logs = list((runs["slurm"] / ".snakemake/slurm_logs").rglob("*.log"))
    rules = {p.relative_to(runs["slurm"] / ".snakemake/slurm_logs").parts[0] for p in logs}
    assert {"rule_generate_scenario", "rule_solve_optimum", "rule_evaluate_method"} <= rules
    assert "submitted with SLURM jobid" in runs["slurm_log"]
    assert all("Finished jobid" in p.read_text() for p in logs)


def test_evaluations_equal_local(runs):
    from dirs.evaluation import COLUMNS

    tables = smoke_instances(runs["local"])
    assert tables and tables == smoke_instances(runs["slurm"])
    deterministic = [c for c in COLUMNS if not TIMING.search(c)]
    assert {"method", "objective", "nrr_opt"} <= set(deterministic)
    for rel in tables:
        a, b = (pd.read_csv(runs[k] / rel) for k in ("local", "slurm"))
        assert list(a.columns) == list(b.columns)
        cols = [c for c in a.columns if not TIMING.search(c)]
        pd.testing.assert_frame_equal(a[cols], b[cols], check_exact=True, obj=rel)


def test_data_and_optimum_equal_local(runs):
    arrays = sorted(
        str(p.relative_to(runs["local"])) for p in runs["local"].rglob("*.npz") if ".snakemake" not in p.parts
    )
    assert any("optimum" in a for a in arrays) and any("channels" in a for a in arrays)
    for rel in arrays:
        with np.load(runs["local"] / rel) as a, np.load(runs["slurm"] / rel) as b:
            assert sorted(a.files) == sorted(b.files), rel
            for key in (k for k in a.files if not TIMING.search(k)):
                np.testing.assert_array_equal(a[key], b[key], err_msg=f"{rel}:{key}")


def child_runs(uri: str) -> dict[tuple[str, ...], object]:
    """Finished child runs of the one finished parent, by their run name (stage, instance, seed and
    variant / method / algorithm, or stage and experiment)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("dirs-smoke")
    assert exp is not None, uri
    runs = client.search_runs([exp.experiment_id], max_results=10000)
    parents = [r for r in runs if r.data.tags.get("dirs.kind") == "pipeline"]
    assert len(parents) == 1 and parents[0].info.status == "FINISHED", uri
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert len(children) == len(runs) - 1, "every job run must hang under the pipeline's parent run"
    assert all(r.info.status == "FINISHED" for r in children)
    keyed = {tuple(r.info.run_name.split()): r for r in children}
    assert len(keyed) == len(children), "one run per job"
    return keyed


def test_mlflow_runs_equal_local(runs):
    local, slurm = child_runs(runs["local_uri"]), child_runs(runs["slurm_uri"])
    assert set(local) == set(slurm)
    assert {"generate_scenario", "solve_optimum", "evaluate_method"} <= {k[0] for k in local}
    for key in local:
        a, b = local[key].data, slurm[key].data
        assert a.params == b.params, key
        assert set(a.metrics) == set(b.metrics), key
        for name, value in a.metrics.items():
            if not TIMING.search(name):
                assert b.metrics[name] == value, (key, name)


def test_slurm_artifacts_reach_the_server(runs):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=runs["slurm_uri"])
    for key, run in child_runs(runs["slurm_uri"]).items():
        if key[0] == "evaluate_method":  # key: (stage, instance, seed<k>, method)
            names = {f.path for f in client.list_artifacts(run.info.run_id)}
            assert any(n.endswith(".csv") for n in names), names
