"""Stages: the reference optimum of every test sample, and any registered method measured against it.

* ``solve_optimum`` — :func:`dirs.solvers.reference.reference_optimum` of every test sample →
  ``optimum.npz`` (decisions, objective, lower_bound, time, energy, solve_ms; provenance of the
  scenario and channel files).
* ``evaluate_method`` — one registered method (kind ``reference``, ``heuristic`` or ``search``;
  :mod:`dirs.methods`) on the test samples → ``<method>.csv`` with the columns of
  :data:`dirs.evaluation.COLUMNS`.  Searches (``samples="search"``) run on the first
  ``evaluation.search_samples`` samples; NRR is per sample against the reference on the same samples.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from dirs import io
from dirs.evaluation import COLUMNS, measure, summarise
from dirs.methods import lookup
from dirs.paths import evaluation_file, optimum_file, scenario_files
from dirs.solvers.reference import reference_optimum
from dirs.stages import Stage
from dirs.system import evaluate
from dirs.system.params import ParameterError
from dirs.tracking import stage_run

log = logging.getLogger(__name__)


def load_instance(scenario, channels, split: str = "test"):
    """(Scenario of ``split``, its gains) of one instance, checked (:mod:`dirs.io`); per-slot task
    arrays of the split are applied to the scenario's params (docs/design.md §9)."""
    return io.load_split(channels, split, io.load_scenario(scenario))


def rows_of(params, index):
    """``params`` of the channel samples ``index`` (a slice or index array): per-sample ``(T, N)``
    task arrays are cut like the gains; params without them are returned as they are."""
    if params.num_samples is None:
        return params
    return params.replace(**{f: v[index] for f, v in vars(params).items() if isinstance(v, np.ndarray) and v.ndim == 2})


def load_reference(optimum, scenario, channels, num_samples: int, sc) -> dict[str, np.ndarray]:
    """The instance's ``optimum.npz``, checked against its scenario and channel files."""
    opt = io.load_optimum(optimum, num_samples, sc.num_iotds, sc.num_servers)
    io.check_provenance(io.read_npz_provenance(optimum), optimum, scenario=scenario, channels=channels)
    return opt


def solve_optimum(cfg, *, scenario: str | Path, channels: str | Path, optimum: str | Path) -> None:
    """Reference optimum (docs/design.md §3) of every test sample → ``optimum.npz``."""
    with stage_run("solve_optimum", cfg) as run:
        sc, gains = load_instance(scenario, channels)
        ref = reference_optimum(
            gains,
            sc.params,
            rel_gap=float(cfg.evaluation.reference_rel_gap),
            time_limit_s=float(cfg.evaluation.reference_time_limit_s),
        )
        c = evaluate(ref.decisions, gains, sc.params)
        io.write_npz_with_provenance(
            optimum,
            io.provenance(scenario=scenario, channels=channels),
            decisions=ref.decisions,
            objective=c.objective,
            lower_bound=ref.lower_bound,
            time=c.time,
            energy=c.energy,
            solve_ms=ref.solve_ms,
        )
        gap = ref.gap
        run.log_metrics(
            {
                "objective": float(c.objective.mean()),
                "solve_ms_median": float(np.median(ref.solve_ms)),
                "gap_max": float(gap.max()),
                "exact": float(ref.exact),
            }
        )
        log.info(
            "reference %s seed %d: mean objective %.4f, median %.3f ms/sample, max gap %.2e",
            sc.name,
            cfg.seed,
            c.objective.mean(),
            np.median(ref.solve_ms),
            gap.max(),
        )


def evaluate_method(
    cfg,
    *,
    scenario: str | Path,
    channels: str | Path,
    optimum: str | Path,
    table: str | Path,
    params: dict | None = None,
) -> None:
    """Method ``params['method']`` on the test samples → one-row CSV."""
    name = str((params or {}).get("method", ""))
    method = lookup(name, (params or {}).get("method_module"))
    if method.kind not in ("reference", "heuristic", "search"):
        raise ParameterError(
            f"evaluation.method: {name!r} is a {method.kind} method; evaluate_method takes "
            "reference, heuristic and search methods"
        )
    with stage_run("evaluate_method", cfg, tags={"dirs.method": name}) as run:
        sc, gains = load_instance(scenario, channels)
        ref = load_reference(optimum, scenario, channels, len(gains), sc)
        opt = ref["objective"]
        if method.kind == "reference":  # solved once per instance by solve_optimum: report, don't re-solve
            solve_ms = ref["solve_ms"]
            row = summarise(
                name,
                ref["decisions"],
                gains,
                sc.params,
                opt,
                decision_ms=float(np.median(solve_ms)),
                decision_batched_ms=float(np.mean(solve_ms)),
            )
        else:
            k = len(gains) if method.samples == "test" else min(int(cfg.evaluation.search_samples), len(gains))
            rng = np.random.default_rng([int(cfg.seed), *method.stream])
            params = sc.params if k == len(gains) else rows_of(sc.params, slice(0, k))
            decide = method.build(cfg, params, rng)
            single = None
            if params.num_samples is not None:  # per-slot tasks: sample t is decided with its own tasks
                single = lambda t: method.build(cfg, params.sample(t), rng)  # noqa: E731
            row = measure(
                name,
                decide,
                gains[:k],
                params,
                opt[:k],
                timing_samples=min(k, int(cfg.evaluation.timing_samples)),
                single=single,
            )
        frame = pd.DataFrame([row], columns=COLUMNS)
        io.write_csv_with_provenance(table, frame, io.provenance(optimum=optimum))
        run.log_metrics({"nrr_opt": row["nrr_opt"], "objective": row["objective"], "decision_ms": row["decision_ms"]})
        run.log_artifact(table)
        log.info(
            "%s on %s seed %d: NRR %.5f, %.3f ms/sample (%d samples)",
            name,
            sc.name,
            cfg.seed,
            row["nrr_opt"],
            row["decision_ms"],
            row["n_samples"],
        )


def _method_reads(method: str = "", **_) -> list[str]:
    return list(lookup(method).reads) if method else []


STAGES = {
    "solve_optimum": Stage(
        solve_optimum,
        lambda cfg: {**scenario_files(cfg), "optimum": optimum_file(cfg)},
        reads=("evaluation.reference_rel_gap", "evaluation.reference_time_limit_s"),
    ),
    "evaluate_method": Stage(
        evaluate_method,
        lambda cfg: {
            **scenario_files(cfg),
            "optimum": optimum_file(cfg),
            "table": evaluation_file(cfg, f"{cfg.evaluation.method}.csv"),
        },
        reads=("evaluation.timing_samples", "evaluation.search_samples"),
        extra_reads=_method_reads,
    ),
}
