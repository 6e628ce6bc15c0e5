"""Stages: exact optimum of every test sample; heuristic baselines measured against it."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from dirs.common import save_npz_atomic, write_csv_atomic
from dirs.evaluation import COLUMNS, measure, summarise
from dirs.paths import evaluation_dir, scenario_files
from dirs.solvers.heuristics import HEURISTICS
from dirs.solvers.oracle import solve_exact
from dirs.system import Scenario, evaluate
from dirs.system.params import ParameterError
from dirs.tracking import stage_run

log = logging.getLogger(__name__)


def load_optimum(path: str | Path, num_samples: int) -> np.ndarray:
    """Per-sample optimal objective from ``optimum.npz`` (checked against the test set size)."""
    with np.load(path) as data:
        obj = data["objective"]
    if obj.shape != (num_samples,):
        raise ParameterError(f"{path}: optimum has {obj.shape[0]} samples, the test set {num_samples}")
    return obj


def solve_optimum(cfg, *, scenario: str | Path, channels: str | Path, optimum: str | Path) -> None:
    """Exact optimum (DESIGN §3) of every test sample → ``optimum.npz``."""
    with stage_run("solve_optimum", cfg) as run:
        sc = Scenario.load(scenario)
        gains = sc.load_channels(channels, "test")
        times = np.empty(len(gains))
        decisions = np.empty(gains.shape[:2], dtype=np.int64)
        for t in range(len(gains)):
            t0 = time.perf_counter()
            decisions[t] = solve_exact(gains[t], sc.params)
            times[t] = (time.perf_counter() - t0) * 1e3
        c = evaluate(decisions, gains, sc.params)
        save_npz_atomic(optimum, decisions=decisions, objective=c.objective, time=c.time,
                        energy=c.energy, solve_ms=times)
        run.log_metrics({"objective": float(c.objective.mean()), "solve_ms_median": float(np.median(times))})
        log.info("optimum %s seed %d: mean objective %.4f, median %.3f ms/sample",
                 sc.name, cfg.seed, c.objective.mean(), np.median(times))


def evaluate_heuristics(cfg, *, scenario: str | Path, channels: str | Path, optimum: str | Path,
                        table: str | Path) -> None:
    """Local / Remote / Random / Greedy and the optimum on the test samples → CSV."""
    with stage_run("evaluate_heuristics", cfg) as run:
        sc = Scenario.load(scenario)
        gains = sc.load_channels(channels, "test")
        opt = load_optimum(optimum, len(gains))
        with np.load(optimum) as data:
            opt_dec, solve_ms = data["decisions"], data["solve_ms"]
        rows = [summarise("optimum", opt_dec, gains, sc.params, opt,
                          decision_ms=float(np.median(solve_ms)),
                          decision_batched_ms=float(np.mean(solve_ms)))]
        for name in cfg.evaluation.heuristics:
            if name not in HEURISTICS:
                raise ParameterError(f"evaluation.heuristics: unknown heuristic {name!r}; allowed: {sorted(HEURISTICS)}")
            rng = np.random.default_rng([int(cfg.seed), 0x8E0])
            fn = HEURISTICS[name]
            rows.append(measure(name, lambda g: fn(g, sc.params, rng), gains, sc.params, opt,
                                timing_samples=cfg.evaluation.timing_samples))
        frame = pd.DataFrame(rows, columns=COLUMNS)
        write_csv_atomic(table, frame)
        for row in rows:
            run.log_metrics({f"{row['method']}.nrr_opt": row["nrr_opt"],
                             f"{row['method']}.objective": row["objective"]})
        run.log_artifact(table)
        log.info("\n%s", frame[["method", "objective", "nrr_opt", "decision_ms"]].to_string(index=False))


def _paths(cfg):
    d = evaluation_dir(cfg)
    return {**scenario_files(cfg), "optimum": d / "optimum.npz"}


STAGES = {
    "solve_optimum": (solve_optimum, _paths),
    "evaluate_heuristics": (evaluate_heuristics, lambda cfg: {**_paths(cfg), "table": evaluation_dir(cfg) / "heuristics.csv"}),
}
