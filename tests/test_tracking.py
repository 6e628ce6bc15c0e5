"""MLflow tracking: concurrent writers on one SQLite store, failure status, parent/child runs."""

import multiprocessing as mp
import os

import pytest

from dirs.tracking import PARENT_ENV, StageRun, end_parent, start_parent


def _job(args):
    results_dir, k = args
    with StageRun(
        f"job{k}", params={"k": k, "a.b": "x"}, experiment="dirs-test", results_dir=results_dir, flush_seconds=0.0
    ) as run:
        for step in range(30):
            run.log_metrics({"loss": 1.0 / (step + 1), "k": k}, step=step)
    return run.run_id


def _client(results_dir):
    from mlflow.tracking import MlflowClient

    return MlflowClient(f"sqlite:///{os.path.abspath(results_dir)}/mlflow/mlflow.db")


def test_eight_concurrent_jobs_on_one_sqlite_store(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    results = str(tmp_path / "results")
    parent = start_parent("dirs-test", results)
    ctx = mp.get_context("spawn")  # fresh interpreters, as Snakemake jobs are
    with ctx.Pool(8) as pool:
        ids = pool.map(_job, [(results, k) for k in range(8)])
    end_parent("FINISHED", results)
    client = _client(results)
    for k, run_id in enumerate(ids):
        run = client.get_run(run_id)
        assert run.info.status == "FINISHED"
        assert run.data.tags["mlflow.parentRunId"] == parent
        assert run.data.params["k"] == str(k)
        history = client.get_metric_history(run_id, "loss")
        assert sorted(m.step for m in history) == list(range(30))
    assert client.get_run(parent).info.status == "FINISHED"
    monkeypatch.delenv(PARENT_ENV, raising=False)


def test_failing_stage_ends_failed(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv(PARENT_ENV, raising=False)
    results = str(tmp_path / "results")
    with pytest.raises(RuntimeError):
        with StageRun("broken", experiment="dirs-test", results_dir=results) as run:
            run.log_metric("x", 1.0)
            raise RuntimeError("boom")
    got = _client(results).get_run(run.run_id)
    assert got.info.status == "FAILED"
    assert "RuntimeError: boom" in got.data.tags["dirs.error"]
    assert got.data.metrics["x"] == 1.0


def test_disabled_tracking_writes_nothing(tmp_path):
    with StageRun("off", results_dir=str(tmp_path / "r"), enabled=False) as run:
        run.log_metric("x", 1.0)
    assert not (tmp_path / "r").exists()


def test_metric_names_are_made_acceptable_to_mlflow():
    from mlflow.utils.validation import _validate_metric_name

    from dirs.tracking import metric_name

    for key in ("dirs+repair.nrr_opt", "dirs+levy.exact.nrr_opt", "a b/c:d-e_f.g", "NRR (µ)"):
        _validate_metric_name(metric_name(key))  # raises on a name MLflow refuses
    assert metric_name("a b/c:d-e_f.g") == "a b/c:d-e_f.g"
