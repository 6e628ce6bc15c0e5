"""Stages of the any-size learned scheduler (ours, issue [anysize]; docs/design.md §9).

* ``train_anysize`` — one model for every N and M (:func:`dirs.learn.anysize_train.train_anysize` on
  its own mixture of sizes, placements and task sizes, labelled by the reference optimum), with
  checkpoint / resume and MLflow metrics → ``results/models/anysize/``;
* ``evaluate_learned`` — that model on one instance's test samples, like every other method (no
  retraining per scenario: sizes it never saw are zero-shot) → ``<method>.csv``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from dirs import io
from dirs.evaluation import COLUMNS, measure
from dirs.methods import lookup
from dirs.paths import evaluation_file, optimum_file, roots, scenario_files
from dirs.stages import Stage
from dirs.stages.evaluate import load_instance, load_reference
from dirs.system.params import ParameterError
from dirs.tracking import stage_run

log = logging.getLogger(__name__)


def train_anysize(cfg, *, model: str | Path, checkpoint: str | Path | None = None) -> None:
    """Train the any-size scheduler with ``cfg.anysize`` (overrides of ``AnySizeSettings``) → ``model/``."""
    from dirs.config import to_container
    from dirs.learn.anysize_train import AnySizeSettings

    train = lookup("anysize", "dirs.learn.anysize").train
    try:  # every setting is checked before training starts: a bad one never replaces the model
        settings = AnySizeSettings.from_dict(to_container(cfg.anysize))
    except ParameterError:
        raise
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"anysize: {exc}") from None
    with stage_run("train_anysize", cfg) as run:
        ckpt = Path(checkpoint) if checkpoint else Path(model).parent / f".{Path(model).name}.checkpoint.pt"
        policy = train(
            settings,
            model,
            log_metrics=lambda step, m: run.log_metrics(m, step=step),
            progress=True,
            checkpoint_path=ckpt,
        )
        ckpt.unlink(missing_ok=True)
        meta = policy.meta if hasattr(policy, "meta") else {}
        run.log_metrics(
            {k: float(v) for k, v in meta.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        )
        run.log_artifact(Path(model) / "policy.json")
        log.info("any-size scheduler trained → %s (%s)", model, {k: meta.get(k) for k in ("train_s", "val_nrr")})


def evaluate_learned(cfg, *, scenario, channels, optimum, model, table, params: dict | None = None) -> None:
    """The learned method ``params['method']`` (model directory ``model``) on the test samples → CSV."""
    import torch

    name = str((params or {}).get("method", ""))
    method = lookup(name, (params or {}).get("method_module"))
    if method.kind != "learned":
        raise ParameterError(f"evaluation.method: {name!r} is a {method.kind} method, not a learned one")
    with stage_run("evaluate_learned", cfg, tags={"dirs.method": name}) as run:
        torch.set_num_threads(1)  # batch-1 latency, as every evaluation
        sc, gains = load_instance(scenario, channels)
        opt = load_reference(optimum, scenario, channels, len(gains), sc)["objective"]
        policy = method.load(model)
        p = sc.params
        single = None if p.num_samples is None else (lambda t: lambda g: policy.decide(g, p.sample(t)))
        train_s = float(policy.meta.get("train_s", np.nan)) if hasattr(policy, "meta") else np.nan
        row = measure(
            name,
            lambda g: policy.decide(g, p),
            gains,
            p,
            opt,
            timing_samples=int(cfg.evaluation.timing_samples),
            train_s=train_s,
            single=single,
        )
        frame = pd.DataFrame([row], columns=COLUMNS)
        io.write_csv_with_provenance(table, frame, io.provenance(optimum=optimum, model=Path(model) / "policy.pt"))
        run.log_metrics({"nrr_opt": row["nrr_opt"], "decision_ms": row["decision_ms"]})
        run.log_artifact(table)
        log.info(
            "%s on %s seed %d: NRR %.5f (worst %.5f), %.3f ms/sample",
            name,
            sc.name,
            cfg.seed,
            row["nrr_opt"],
            row["nrr_opt_min"],
            row["decision_ms"],
        )


def _model(cfg) -> Path:
    return Path(roots(cfg)["results"]) / "models" / "anysize"


STAGES = {
    "train_anysize": Stage(train_anysize, lambda cfg: {"model": _model(cfg)}, reads=("anysize",), per_instance=False),
    "evaluate_learned": Stage(
        evaluate_learned,
        lambda cfg: {
            **scenario_files(cfg),
            "optimum": optimum_file(cfg),
            "model": _model(cfg),
            "table": evaluation_file(cfg, f"{cfg.evaluation.method}.csv"),
        },
        reads=("evaluation.timing_samples",),
    ),
}
