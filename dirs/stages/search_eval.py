"""Stage: the search baselines (PSO, DE, Lévy flight) on held-out samples, like every other method.

Population searches cost 0.1–5 s per sample, so they run on the first
``evaluation.search_samples`` test samples; NRR vs the exact optimum is per sample on that subset,
so it is comparable with every other method's NRR on the full test set.  The paper's "NRR vs PSO"
of a method is then NRR_opt(method) / NRR_opt(PSO) (see :mod:`dirs.report.tables`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from dirs.common import write_csv_atomic
from dirs.evaluation import COLUMNS, measure
from dirs.paths import evaluation_dir, scenario_files
from dirs.solvers.costs import cost_tables
from dirs.solvers.heuristics import greedy_tables, remote
from dirs.solvers.levy import levy_flight
from dirs.solvers.swarm import differential_evolution_search, pso
from dirs.stages.heuristics import load_optimum
from dirs.system import Scenario
from dirs.system.params import ParameterError
from dirs.tracking import stage_run

log = logging.getLogger(__name__)

#: Search baselines by name; each takes (cfg, params, rng) and returns decide(gains) -> decisions.
METHODS: dict[str, Callable] = {
    "pso": lambda cfg, p, rng: lambda g: pso(
        g, p, particles=cfg.search.pso_particles, iterations=cfg.search.pso_budgets[-1], rng=rng).decisions,
    "pso-seeded": lambda cfg, p, rng: lambda g: pso(
        g, p, particles=cfg.search.pso_particles, iterations=cfg.search.pso_budgets[-1], seeded=True,
        rng=rng).decisions,
    "de": lambda cfg, p, rng: lambda g: differential_evolution_search(
        g, p, popsize=cfg.search.de_popsize, maxiter=cfg.search.de_budgets[0], rng=rng,
        mutation=tuple(cfg.search.de_mutation), recombination=cfg.search.de_recombination).decisions,
    "de-seeded": lambda cfg, p, rng: lambda g: differential_evolution_search(
        g, p, popsize=cfg.search.de_popsize, maxiter=cfg.search.de_budgets[0], seeded=True, rng=rng,
        mutation=tuple(cfg.search.de_mutation), recombination=cfg.search.de_recombination).decisions,
    "levy": lambda cfg, p, rng: lambda g: levy_flight(
        g, p, remote(g, p), rng=rng, **_levy_kwargs(cfg.search.online)).decisions,
    "levy-greedy": lambda cfg, p, rng: lambda g: _levy_from_greedy(g, p, cfg, rng),
}


def _levy_kwargs(s) -> dict:
    return dict(population=s.population, iterations=s.iterations, beta=s.beta, th=s.th,
                variant=str(getattr(s.variant, "value", s.variant)),
                allocation=str(getattr(s.allocation, "value", s.allocation)))


def _levy_from_greedy(g, p, cfg, rng):
    tables = cost_tables(g, p)
    return levy_flight(g, p, greedy_tables(tables), rng=rng, tables=tables, **_levy_kwargs(cfg.search.online)).decisions


def evaluate_search(cfg, *, scenario: str | Path, channels: str | Path, optimum: str | Path,
                    table: str | Path, params: dict | None = None) -> None:
    """PSO / DE / Lévy flight (``params['methods']``, default ``evaluation.search_methods``) on the
    first ``evaluation.search_samples`` test samples → CSV with the columns of every evaluation."""
    methods = list((params or {}).get("methods") or cfg.evaluation.search_methods)
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise ParameterError(f"evaluation.search_methods: unknown {unknown}; allowed: {sorted(METHODS)}")
    with stage_run("evaluate_search", cfg) as run:
        sc = Scenario.load(scenario)
        gains = sc.load_channels(channels, "test")
        opt = load_optimum(optimum, len(gains))
        k = min(int(cfg.evaluation.search_samples), len(gains))
        rows = []
        for name in methods:
            rng = np.random.default_rng([int(cfg.seed), 0x5EA, sorted(METHODS).index(name)])
            decide = METHODS[name](cfg, sc.params, rng)
            row = measure(name, decide, gains[:k], sc.params, opt[:k],
                          timing_samples=min(k, cfg.evaluation.timing_samples))
            rows.append(row)
            run.log_metrics({f"{name}.nrr_opt": row["nrr_opt"], f"{name}.decision_ms": row["decision_ms"]})
            log.info("%s: NRR %.5f, %.1f ms/sample on %d samples", name, row["nrr_opt"], row["decision_ms"], k)
        frame = pd.DataFrame(rows, columns=COLUMNS)
        write_csv_atomic(table, frame)
        run.log_artifact(table)


STAGES = {
    "evaluate_search": (evaluate_search, lambda cfg: {
        **scenario_files(cfg), "optimum": evaluation_dir(cfg) / "optimum.npz",
        "table": evaluation_dir(cfg) / "search.csv"}),
}
