"""Stages: train a DRL baseline (AC, DDPG, MADDPG; paper §V-D) and evaluate it on the test samples.

``train_baseline`` trains ``algo`` for ``baseline.interactions`` one-step episodes (default
``scenario.num_train`` = T_DRL, DIRS's online budget) and writes the model directory
``results/models/<scenario>/seed<k>/<algo>/`` (weights + ``meta.json`` with the observation
statistics and the training wall time).  ``evaluate_baseline`` measures it exactly like the
heuristics stage (same test samples, :func:`dirs.evaluation.measure`, NRR vs the exact optimum of
``optimum.npz``) → ``results/evaluations/<scenario>/seed<k>/<algo>.csv``; ``train_s`` is the
training wall time.  With ``baseline.capacity_row`` a second row ``<algo>_capacity`` reports the
same decisions after the capacity rule used by Remote / Random.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from dirs import io
from dirs.evaluation import COLUMNS, measure
from dirs.methods import Method, lookup
from dirs.paths import evaluation_file, model_dir, optimum_file, scenario_files
from dirs.solvers.heuristics import capacity_rule
from dirs.stages import Stage
from dirs.stages.evaluate import load_instance, load_reference
from dirs.system.params import ParameterError
from dirs.tracking import stage_run

log = logging.getLogger(__name__)


def interactions(cfg) -> int:
    """Environment interactions: ``baseline.interactions``, else ``scenario.num_train`` (T_DRL)."""
    n = cfg.baseline.interactions
    return int(cfg.scenario.num_train if n is None else n)


def _algo(params) -> Method:
    """The registered DRL method named by ``params['algo']`` (``baseline.algo`` when run alone)."""
    algo = str((params or {}).get("algo", ""))
    method = lookup(algo, (params or {}).get("method_module"))
    if method.kind != "drl":
        raise ParameterError(f"baseline.algo: {algo!r} is a {method.kind} method, not a DRL baseline")
    return method


def _threads(params) -> None:
    import torch

    threads = int((params or {}).get("threads") or os.environ.get("DIRS_TORCH_THREADS", 1))
    torch.set_num_threads(max(1, threads))


def train(method: Method | str, sc, gains: np.ndarray, cfg, log_metrics=None):
    """The trained policy of DRL ``method`` (a registered method or its name): ``decide``, ``save``, ``meta``."""
    if isinstance(method, str):
        method = lookup(method)
    return method.train(
        sc,
        gains,
        cfg,
        interactions=interactions(cfg),
        seed=int(cfg.seed),
        log=log_metrics,
        log_every=max(1, interactions(cfg) // 50),
    )


def _save_dir_atomic(policy, model: Path) -> None:
    """Save into a sibling temporary directory, then move it onto ``model`` (:func:`dirs.io.write_together`:
    the old model stays if saving fails; what a killed save left behind goes at the next save)."""
    io.write_together({Path(model): policy.save})


def train_baseline(cfg, *, scenario: str | Path, channels: str | Path, model: str | Path, params=None) -> None:
    """Train baseline ``params["algo"]`` on the training samples → ``model/``."""
    method = _algo(params)
    algo = method.name
    _threads(params)
    with stage_run("train_baseline", cfg, tags={"dirs.algo": algo}) as run:
        sc, gains = load_instance(scenario, channels, "train")
        policy = train(method, sc, gains, cfg, log_metrics=lambda step, m: run.log_metrics(m, step=step))
        policy.meta["provenance"] = io.provenance(scenario=scenario, channels=channels)
        _save_dir_atomic(policy, Path(model))
        run.log_metrics({"train_s": policy.meta["train_s"], "interactions": policy.meta["interactions"]})
        run.log_artifact(Path(model) / "meta.json")
        log.info(
            "%s on %s seed %d: %d interactions in %.1f s",
            algo,
            sc.name,
            cfg.seed,
            policy.meta["interactions"],
            policy.meta["train_s"],
        )


def evaluate_baseline(
    cfg,
    *,
    scenario: str | Path,
    channels: str | Path,
    optimum: str | Path,
    model: str | Path,
    table: str | Path,
    params=None,
) -> None:
    """Measure the trained baseline on the test samples (like the heuristics stage) → CSV."""
    method = _algo(params)
    algo = method.name
    _threads(params)
    with stage_run("evaluate_baseline", cfg, tags={"dirs.algo": algo}) as run:
        sc, gains = load_instance(scenario, channels)
        opt = load_reference(optimum, scenario, channels, len(gains), sc)["objective"]
        policy = method.load(model)
        meta = policy.meta
        io.check_provenance(meta.get("provenance"), Path(model) / "meta.json", scenario=scenario, channels=channels)
        if meta.get("algo") != algo or (meta.get("num_iotds"), meta.get("num_servers")) != (
            sc.num_iotds,
            sc.num_servers,
        ):
            raise ParameterError(
                f"{model}: holds {meta.get('algo')} for N={meta.get('num_iotds')}, M={meta.get('num_servers')}; "
                f"expected {algo} for N={sc.num_iotds}, M={sc.num_servers}"
            )
        train_s = float(meta["train_s"])
        k = int(cfg.evaluation.timing_samples)
        rows = [measure(algo, policy.decide, gains, sc.params, opt, timing_samples=k, train_s=train_s)]
        if cfg.baseline.capacity_row:
            rows.append(
                measure(
                    f"{algo}_capacity",
                    lambda g: capacity_rule(policy.decide(g), g, sc.params),
                    gains,
                    sc.params,
                    opt,
                    timing_samples=k,
                    train_s=train_s,
                    # per-slot tasks: the capacity rule of sample t uses that sample's tasks
                    single=None
                    if sc.params.num_samples is None
                    else (lambda t: lambda g: capacity_rule(policy.decide(g), g, sc.params.sample(t))),
                )
            )
        frame = pd.DataFrame(rows, columns=COLUMNS)
        io.write_csv_with_provenance(table, frame, io.provenance(optimum=optimum))
        for row in rows:
            run.log_metrics(
                {
                    f"{row['method']}.nrr_opt": row["nrr_opt"],
                    f"{row['method']}.objective": row["objective"],
                    f"{row['method']}.decision_ms": row["decision_ms"],
                }
            )
        run.log_artifact(table)
        log.info("\n%s", frame[["method", "objective", "nrr_opt", "decision_ms", "train_s"]].to_string(index=False))


#: What DRL training reads besides the algorithm's own section (its method's ``reads``).
_SHARED = ("baseline.interactions", "baseline.reference", "baseline.reward_scale")


def _algo_reads(algo: str = "", **_) -> list[str]:
    return list(lookup(algo).reads) if algo else []


def _model(cfg) -> Path:
    return model_dir(cfg, str(cfg.baseline.algo))


STAGES = {
    "train_baseline": Stage(
        train_baseline,
        lambda cfg: {**scenario_files(cfg), "model": _model(cfg)},
        reads=_SHARED,
        extra_reads=_algo_reads,
    ),
    "evaluate_baseline": Stage(
        evaluate_baseline,
        lambda cfg: {
            **scenario_files(cfg),
            "optimum": optimum_file(cfg),
            "model": _model(cfg),
            "table": evaluation_file(cfg, f"{cfg.baseline.algo}.csv"),
        },
        reads=("baseline.capacity_row", "evaluation.timing_samples"),
    ),
}
