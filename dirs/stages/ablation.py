"""Stage: the allocation ablation the paper lacks — closed-form vs searched resource allocation.

The paper searches the CPU shares f and powers p together with the decision (x = [a, f, p], eq. 19,
Lévy flight, Alg. 4).  We allocate them in closed form for any decision (docs/design.md §2).  This stage
measures, on the held-out test samples of one instance, what the closed form buys in objective and
in decision time, for the Lévy flight alone and for DIRS:

* ``levy`` — Lévy flight from Remote with the online settings (P, G_max, β, th of
  ``search.online``), ``exact`` (search a; f, p in closed form) vs ``search`` (search a, f, p);
* ``dirs`` — the trained policy's voted decision with the closed-form allocation, and with the
  start allocation of the paper's search (equal CPU shares, P_max: what the vote gets without any
  allocation step);
* ``dirs+levy`` — the vote refined by the Lévy flight (the paper's online operator), ``exact`` vs
  ``search``.

Every row's objective is the one its own allocation achieves (searched f, p under ``search``); NRR
is per sample against the exact optimum; decision time includes the allocation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from dirs import io
from dirs.evaluation import time_decide
from dirs.paths import evaluation_file, model_dir, optimum_file, scenario_files
from dirs.solvers.heuristics import remote
from dirs.solvers.levy import equal_shares, levy_flight, levy_kwargs, price_allocation
from dirs.stages import Stage
from dirs.system import evaluate
from dirs.system.params import ParameterError
from dirs.tracking import stage_run

log = logging.getLogger(__name__)

#: Columns of ``allocation.csv`` (one row per method × allocation).
ABLATION_COLUMNS = [
    "method",
    "allocation",
    "n_samples",
    "objective",
    "objective_std",
    "nrr_opt",
    "nrr_opt_min",
    "decision_ms",
    "decision_batched_ms",
]


def _objectives(policy, params, online, rng) -> dict[tuple[str, str], Callable[[np.ndarray], np.ndarray]]:
    """(method, allocation) → ``objective(gains) -> (T,)`` with that method's own allocation."""
    kw = {**levy_kwargs(online), "rng": rng}
    kw.pop("allocation", None)  # set per row
    pmax = params.per_iotd("max_power_w", policy.num_iotds)
    fmax = params.per_server("mec_cpu_hz", policy.num_servers)

    def vote_equal_shares(g):
        a = policy.decide(g)
        return price_allocation(a, equal_shares(a, fmax), np.where(a > 0, pmax, 0.0), g, params)

    return {
        ("levy", "exact"): lambda g: levy_flight(g, params, remote(g, params), allocation="exact", **kw).objective,
        ("levy", "search"): lambda g: levy_flight(g, params, remote(g, params), allocation="search", **kw).objective,
        ("dirs", "exact"): lambda g: evaluate(policy.decide(g), g, params).objective,
        ("dirs", "equal shares, P_max"): vote_equal_shares,
        ("dirs+levy", "exact"): lambda g: levy_flight(g, params, policy.decide(g), allocation="exact", **kw).objective,
        ("dirs+levy", "search"): lambda g: (
            levy_flight(g, params, policy.decide(g), allocation="search", **kw).objective
        ),
    }


def evaluate_allocation(cfg, *, scenario, channels, optimum, policy, table, params=None) -> None:
    """The (method, allocation) rows of :func:`_objectives` whose method is in ``params['methods']``
    (the ablation experiment's ``methods:``; default all) on the test samples → ``allocation.csv``."""
    import torch

    from dirs.learn import load_policy
    from dirs.stages.evaluate import load_instance, load_reference

    with stage_run("evaluate_allocation", cfg) as run:
        torch.set_num_threads(1)  # batch-1 latency, as every evaluation
        sc, gains = load_instance(scenario, channels)
        opt = load_reference(optimum, scenario, channels, len(gains), sc)["objective"]
        pol = load_policy(Path(policy).parent)
        rng = np.random.default_rng([int(cfg.seed), 0xA110C])
        k = min(int(cfg.evaluation.timing_samples), len(gains))
        rows = []
        objectives = _objectives(pol, sc.params, cfg.search.online, rng)
        wanted = list((params or {}).get("methods") or dict.fromkeys(m for m, _ in objectives))
        unknown = sorted(set(wanted) - {m for m, _ in objectives})
        if unknown:
            raise ParameterError(
                f"experiment.methods: the allocation ablation has no method {unknown}; "
                f"allowed: {sorted({m for m, _ in objectives})}"
            )
        for (method, alloc), objective in objectives.items():
            if method not in wanted:
                continue
            # the objective callables are timed like any decide(): batched, then median of batch-1 calls
            single_ms, batched_ms, obj = time_decide(objective, gains, k)
            obj = obj.astype(np.float64)
            nrr = opt / obj
            rows.append(
                {
                    "method": method,
                    "allocation": alloc,
                    "n_samples": len(gains),
                    "objective": float(obj.mean()),
                    "objective_std": float(obj.std()),
                    "nrr_opt": float(nrr.mean()),
                    "nrr_opt_min": float(nrr.min()),
                    "decision_ms": single_ms,
                    "decision_batched_ms": batched_ms,
                }
            )
            run.log_metrics({f"{method}.{alloc.split(',')[0].replace(' ', '_')}.nrr_opt": rows[-1]["nrr_opt"]})
            log.info("%s (%s): NRR %.5f, %.2f ms/sample", method, alloc, rows[-1]["nrr_opt"], rows[-1]["decision_ms"])
        io.write_csv_with_provenance(
            table, pd.DataFrame(rows, columns=ABLATION_COLUMNS), io.provenance(optimum=optimum, policy=policy)
        )
        run.log_artifact(table)


STAGES = {
    "evaluate_allocation": Stage(
        evaluate_allocation,
        lambda cfg: {
            **scenario_files(cfg),
            "optimum": optimum_file(cfg),
            "policy": model_dir(cfg, "dirs") / "policy.pt",
            "table": evaluation_file(cfg, "allocation.csv"),
        },
        reads=("search.online", "evaluation.timing_samples"),
    ),
}
