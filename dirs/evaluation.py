"""One way to measure every method on the held-out samples, so tables compare like with like.

Each method is a ``decide(gains) -> decisions`` callable.  :func:`measure` prices its decisions
with :func:`dirs.system.evaluate` and reports, per method, the mean objective, time and energy,
the NRR against the exact optimum (mean of per-sample objective(opt)/objective(method)), and two
decision times: the median over single samples (batch 1, fresh sample each repetition) and the
per-sample time of one batched call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import numpy as np

from dirs.system import SystemParams, evaluate

Decide = Callable[[np.ndarray], np.ndarray]

COLUMNS = [
    "method",
    "n_samples",
    "objective",
    "objective_std",
    "time",
    "energy",
    "nrr_opt",
    "nrr_opt_min",
    "decision_ms",
    "decision_batched_ms",
    "train_s",
]


def time_decide(
    decide: Decide, gains: np.ndarray, timing_samples: int, single: Callable[[int], Decide] | None = None
) -> tuple[float, float, np.ndarray]:
    """Decisions on all of ``gains`` and (batch-1 median ms, batched ms per sample).

    ``single(t)``, if given, is the decide function of sample ``t`` alone (methods whose params hold
    per-sample task arrays, docs/design.md §9); its construction is not timed."""
    t0 = time.perf_counter()
    decisions = np.asarray(decide(gains))
    batched = (time.perf_counter() - t0) * 1e3 / len(gains)
    k = min(int(timing_samples), len(gains))
    singles = []
    for t in range(k):
        g = gains[t : t + 1]
        one = decide if single is None else single(t)
        t0 = time.perf_counter()
        one(g)
        singles.append((time.perf_counter() - t0) * 1e3)
    return (float(np.median(singles)) if singles else float("nan")), batched, decisions


def measure(
    name: str,
    decide: Decide,
    gains: np.ndarray,
    params: SystemParams,
    optimum_objective: np.ndarray,
    *,
    timing_samples: int = 50,
    train_s: float = float("nan"),
    extra: Mapping[str, float] | None = None,
    single: Callable[[int], Decide] | None = None,
) -> dict:
    """One result row (see :data:`COLUMNS`) for method ``name`` (``single``: see :func:`time_decide`)."""
    b1, batched, decisions = time_decide(decide, gains, timing_samples, single)
    return summarise(
        name,
        decisions,
        gains,
        params,
        optimum_objective,
        decision_ms=b1,
        decision_batched_ms=batched,
        train_s=train_s,
        extra=extra,
    )


def summarise(
    name: str,
    decisions: np.ndarray,
    gains: np.ndarray,
    params: SystemParams,
    optimum_objective: np.ndarray,
    *,
    decision_ms: float = float("nan"),
    decision_batched_ms: float = float("nan"),
    train_s: float = float("nan"),
    extra: Mapping[str, float] | None = None,
) -> dict:
    c = evaluate(decisions, gains, params)
    nrr = np.asarray(optimum_objective) / c.objective
    row = {
        "method": name,
        "n_samples": int(len(gains)),
        "objective": float(c.objective.mean()),
        "objective_std": float(c.objective.std(ddof=1)) if len(gains) > 1 else 0.0,
        "time": float(c.time.mean()),
        "energy": float(c.energy.mean()),
        "nrr_opt": float(nrr.mean()),
        "nrr_opt_min": float(nrr.min()),
        "decision_ms": float(decision_ms),
        "decision_batched_ms": float(decision_batched_ms),
        "train_s": float(train_s),
    }
    row.update(extra or {})
    return row
