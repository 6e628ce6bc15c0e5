"""MLflow tracking for every stage: one parent run per pipeline invocation, one child run per job.

* Store: ``sqlite:///<abs>/results/mlflow/mlflow.db`` with artifacts under ``results/mlflow/artifacts``,
  unless ``MLFLOW_TRACKING_URI`` is set (a tracking server, e.g. on a cluster).
* Concurrency: every write to the store happens inside an exclusive file lock
  (``results/mlflow/.lock``), and metrics are buffered and written in batches (every
  ``flush_seconds`` and at the end), so 8 parallel jobs never race on SQLite migrations or hit
  "database is locked".
* The parent run id comes from ``$DIRS_MLFLOW_PARENT_RUN_ID`` (set by the Snakefile's ``onstart``;
  SLURM jobs inherit it: the executor plugin submits with ``sbatch --export=ALL``).
* On a cluster, jobs on several nodes must not share one SQLite file (file locks are unreliable on
  network file systems): set ``MLFLOW_TRACKING_URI`` to a tracking server (README, "Running on a
  cluster"). A job inside SLURM that would write to the SQLite file logs a warning.
* ``mlflow`` is imported lazily: importing this module costs nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

PARENT_ENV = "DIRS_MLFLOW_PARENT_RUN_ID"
log = logging.getLogger(__name__)


def mlflow_dir(results_dir: str | os.PathLike = "results") -> Path:
    return Path(results_dir).resolve() / "mlflow"


def tracking_uri(results_dir: str | os.PathLike = "results") -> str:
    """``$MLFLOW_TRACKING_URI`` or the embedded SQLite store under ``results/mlflow``."""
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    if os.environ.get("SLURM_JOB_ID"):
        _warn_shared_sqlite()
    return f"sqlite:///{mlflow_dir(results_dir) / 'mlflow.db'}"


_warned_sqlite = False


def _warn_shared_sqlite() -> None:
    global _warned_sqlite
    if not _warned_sqlite:
        _warned_sqlite = True
        log.warning(
            "SLURM job %s logs to the embedded SQLite MLflow store; jobs on several nodes must not "
            "share one SQLite file: set MLFLOW_TRACKING_URI to a tracking server (README, "
            "'Running on a cluster')",
            os.environ["SLURM_JOB_ID"],
        )


def _is_local(uri: str) -> bool:
    return uri.startswith("sqlite:") or uri.startswith("file:") or "://" not in uri


@contextlib.contextmanager
def store_lock(results_dir: str | os.PathLike = "results") -> Iterator[None]:
    """Exclusive inter-process lock around writes to a local store (no-op for a server)."""
    if not _is_local(tracking_uri(results_dir)):
        yield
        return
    d = mlflow_dir(results_dir)
    d.mkdir(parents=True, exist_ok=True)
    with open(d / ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _client(results_dir):
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    for name in ("alembic", "mlflow.store.db.utils", "mlflow.store.db"):
        logging.getLogger(name).setLevel(logging.WARNING)
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri(results_dir))


#: Experiment tag that makes the MLflow UI (3.x) open the experiment on its runs table (model
#: training) instead of the GenAI "Overview" of traces.
EXPERIMENT_KIND = ("mlflow.experimentKind", "custom_model_development")


def _experiment_id(client, name: str, results_dir) -> str:
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        if exp.tags.get(EXPERIMENT_KIND[0]) != EXPERIMENT_KIND[1]:
            client.set_experiment_tag(exp.experiment_id, *EXPERIMENT_KIND)
        return exp.experiment_id
    location = None
    if _is_local(tracking_uri(results_dir)):
        location = (mlflow_dir(results_dir) / "artifacts").as_uri()
    try:
        exp_id = client.create_experiment(name, artifact_location=location, tags=dict([EXPERIMENT_KIND]))
    except Exception:  # created concurrently by another writer (tracking server)
        exp = client.get_experiment_by_name(name)
        if exp is None:
            raise
        exp_id = exp.experiment_id
    return exp_id


def start_parent(experiment: str, results_dir="results", tags: Mapping[str, str] | None = None) -> str:
    """Create the parent run of a pipeline invocation; returns its id (also exported to the env)."""
    with store_lock(results_dir):
        client = _client(results_dir)
        exp_id = _experiment_id(client, experiment, results_dir)
        run = client.create_run(exp_id, run_name="pipeline", tags={"dirs.kind": "pipeline", **(tags or {})})
    os.environ[PARENT_ENV] = run.info.run_id
    return run.info.run_id


def end_parent(status: str = "FINISHED", results_dir="results") -> None:
    run_id = os.environ.get(PARENT_ENV)
    if not run_id:
        return
    with store_lock(results_dir):
        _client(results_dir).set_terminated(run_id, status=status)


_METRIC_BAD = re.compile(r"[^A-Za-z0-9_\-. /:]")  # MLflow: alphanumerics, _ - . space / :


def metric_name(key: str) -> str:
    """``key`` with the characters MLflow refuses in metric names (e.g. "+") replaced by "_"."""
    return _METRIC_BAD.sub("_", str(key))


class StageRun:
    """A child run for one job: flattened config logged once, buffered metrics, artifacts.

    Use as a context manager; an exception marks the run FAILED (and is re-raised).
    With ``enabled=False`` every method is a no-op (``tracking.enabled=false``).
    """

    def __init__(
        self,
        stage: str,
        *,
        params: Mapping[str, Any] | None = None,
        experiment: str = "dirs",
        results_dir: str | os.PathLike = "results",
        tags: Mapping[str, str] | None = None,
        enabled: bool = True,
        flush_seconds: float = 30.0,
        run_name: str | None = None,
    ) -> None:
        self.stage = stage
        self.run_name = run_name or stage
        self.params = dict(params or {})
        self.experiment = experiment
        self.results_dir = results_dir
        self.tags = {"dirs.stage": stage, **{k: str(v) for k, v in (tags or {}).items()}}
        self.enabled = enabled
        self.flush_seconds = flush_seconds
        self.run_id: str | None = None
        self._metrics: list[tuple[str, float, int, int]] = []
        self._artifacts: list[tuple[str, str | None]] = []
        self._last_flush = time.monotonic()

    # ---------------------------------------------------------------- lifecycle
    def __enter__(self) -> StageRun:
        if not self.enabled:
            return self
        from mlflow.entities import Param

        parent = os.environ.get(PARENT_ENV)
        tags = dict(self.tags)
        if parent:
            tags["mlflow.parentRunId"] = parent
        with store_lock(self.results_dir):
            client = _client(self.results_dir)
            exp_id = _experiment_id(client, self.experiment, self.results_dir)
            run = client.create_run(exp_id, run_name=self.run_name, tags=tags)
            self.run_id = run.info.run_id
            items = [Param(k, str(v)[:6000]) for k, v in sorted(self.params.items())]
            for i in range(0, len(items), 100):
                client.log_batch(self.run_id, params=items[i : i + 100])
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self.enabled and self.run_id is not None:
            status = "FINISHED" if exc_type is None else "FAILED"
            if exc_type is not None:
                self.tags["dirs.error"] = f"{exc_type.__name__}: {exc}"[:5000]
            self.flush(final=True, status=status)
        return False

    # ------------------------------------------------------------------ logging
    def log_metric(self, key: str, value: float, step: int = 0) -> None:
        self.log_metrics({key: value}, step)

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        if not self.enabled:
            return
        now = int(time.time() * 1000)
        for k, v in metrics.items():
            self._metrics.append((metric_name(k), float(v), now, int(step)))
        if time.monotonic() - self._last_flush > self.flush_seconds:
            self.flush()

    def log_artifact(self, path: str | os.PathLike, artifact_path: str | None = None) -> None:
        if self.enabled:
            self._artifacts.append((str(path), artifact_path))

    def set_tag(self, key: str, value: Any) -> None:
        self.tags[key] = str(value)

    def flush(self, final: bool = False, status: str = "FINISHED") -> None:
        if not self.enabled or self.run_id is None:
            return
        from mlflow.entities import Metric, RunTag

        metrics = [Metric(k, v, ts, st) for k, v, ts, st in self._metrics]
        self._metrics.clear()
        with store_lock(self.results_dir):
            client = _client(self.results_dir)
            for i in range(0, len(metrics), 1000):
                client.log_batch(self.run_id, metrics=metrics[i : i + 1000])
            if final:
                tags = [RunTag(k, v) for k, v in self.tags.items()]
                client.log_batch(self.run_id, tags=tags)
                for path, where in self._artifacts:
                    if Path(path).exists():
                        client.log_artifact(self.run_id, path, artifact_path=where)
                client.set_terminated(self.run_id, status=status)
        self._last_flush = time.monotonic()


def stage_run(stage: str, cfg, tags: Mapping[str, str] | None = None) -> StageRun:
    """A :class:`StageRun` configured from a stage's config (``cfg.tracking``, ``cfg.paths``), named
    ``<stage> <instance> seed<k> <variant/method/algo>`` (or ``<stage> <experiment>``) in the UI."""
    from dirs.config import flatten

    tr = cfg.tracking
    base: dict[str, Any] = {}
    if "scenario" in cfg:
        base["dirs.scenario"] = cfg.scenario.name
    if "seed" in cfg:
        base["dirs.seed"] = cfg.seed
    tags = {**base, **(tags or {})}
    parts = [stage]
    if "dirs.scenario" in tags:
        parts.append(str(tags["dirs.scenario"]))
        if "dirs.seed" in tags:
            parts.append(f"seed{tags['dirs.seed']}")
    for key in ("dirs.variant", "dirs.method", "dirs.algo", "dirs.experiment"):
        if key in tags:
            parts.append(str(tags[key]))
    return StageRun(
        stage,
        params=flatten(cfg),
        experiment=f"{tr.experiment}-{cfg.profile.name}",
        results_dir=cfg.paths.results_dir,
        tags=tags,
        enabled=bool(tr.enabled),
        flush_seconds=float(tr.flush_seconds),
        run_name=" ".join(parts),
    )
