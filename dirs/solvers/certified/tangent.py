"""The whole problem as one tangent-cut MILP on HiGHS: the slow reference the certified solver is
compared with in tests and ``python -m dirs.bench certified --milp`` (docs/design.md §9)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from dirs.solvers.costs import CostTables


def _objective(a: np.ndarray, c: np.ndarray, s: np.ndarray, w: np.ndarray) -> float:
    loads = np.bincount(a, weights=s, minlength=w.shape[0] + 1)[1:]
    return float(c[np.arange(a.shape[0]), a].sum() + w @ (loads * loads))


@dataclass(frozen=True)
class MilpResult:
    """Outcome of :func:`solve_tangent_milp` for one sample."""

    decision: np.ndarray
    """(N,) best decision found."""
    objective: float
    """Its objective (exact, quadratic)."""
    lower_bound: float
    """HiGHS's dual bound of the last tangent-cut MILP (a valid bound on the optimum)."""
    rounds: int
    """MILPs solved (cuts are added lazily between them)."""
    seconds: float
    converged: bool
    """True when the last MILP was solved to ``mip_rel_gap`` and its cuts were tight at the solution."""


def solve_tangent_milp(
    tables: CostTables,
    t: int = 0,
    *,
    time_limit_s: float = 60.0,
    mip_rel_gap: float = 1e-9,
    initial_cuts: int = 8,
    max_rounds: int = 50,
) -> MilpResult:
    """Reference optimum of sample ``t`` by HiGHS (:func:`scipy.optimize.milp`) on a tangent-cut MILP.

    Variables x_ij ∈ {0, 1} (option j of IoTD i, one per IoTD) and y_j ≥ 0 with
    y_j ≥ w_j (2 L̄ L_j − L̄²) (tangents of w_j L_j² at points L̄, L_j = Σ_i s_i x_ij); minimise
    Σ c_ij x_ij + Σ y_j.  Tangents start at ``initial_cuts`` points per server and are added lazily
    at each solution's loads until every y_j is tight (docs/design.md §9: an outer approximation of the
    convex MIQP, exact at convergence).  ``time_limit_s`` covers every round together.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix, vstack

    t0 = time.perf_counter()
    c = tables.options()[t]
    n, m1 = c.shape
    m = m1 - 1
    sf = tables.sqrt_f_tn[t]
    sigma = float(np.mean(sf))
    s = sf / sigma
    w = tables.phi_t / tables.mec_cpu_hz * sigma * sigma
    nx = n * m1
    cost = np.concatenate([c.ravel(), np.ones(m)])
    integrality = np.concatenate([np.ones(nx), np.zeros(m)])
    bounds = Bounds(np.zeros(nx + m), np.concatenate([np.ones(nx), np.full(m, np.inf)]))
    rows = np.repeat(np.arange(n), m1)
    assign = LinearConstraint(coo_matrix((np.ones(nx), (rows, np.arange(nx))), shape=(n, nx + m)), 1.0, 1.0)
    cuts: list[tuple[int, float]] = []
    total = s.sum()
    for j in range(m):
        cuts += [(j, float(v)) for v in np.linspace(0.0, total, initial_cuts)[1:]]

    def cut_rows(batch):
        # w (2 L̄ L − L̄²) − y ≤ 0  ⇔  2 w L̄ Σ_i s_i x_ij − y_j ≤ w L̄²
        r, col, val, ub = [], [], [], []
        for k, (j, lb) in enumerate(batch):
            r += [k] * (n + 1)
            col += list(np.arange(n) * m1 + j + 1) + [nx + j]
            val += list(2.0 * w[j] * lb * s) + [-1.0]
            ub.append(w[j] * lb * lb)
        return coo_matrix((val, (r, col)), shape=(len(batch), nx + m)), np.asarray(ub)

    a_best, f_best, bound, rounds, converged = None, np.inf, -np.inf, 0, False
    mats, ubs = [], []
    new = cuts
    while rounds < max_rounds:
        mat, ub = cut_rows(new)
        mats.append(mat)
        ubs.append(ub)
        left = time_limit_s - (time.perf_counter() - t0)
        if left <= 0:
            break
        res = milp(
            cost,
            integrality=integrality,
            bounds=bounds,
            constraints=[assign, LinearConstraint(vstack(mats).tocsr(), -np.inf, np.concatenate(ubs))],
            options={"time_limit": left, "mip_rel_gap": mip_rel_gap, "disp": False},
        )
        rounds += 1
        if res.x is None:
            break
        bound = float(getattr(res, "mip_dual_bound", np.nan))
        x = res.x[:nx].reshape(n, m1)
        a = x.argmax(1)
        f = _objective(a, c, s, w)
        if f < f_best:
            a_best, f_best = a, f
        loads = np.bincount(a, weights=s, minlength=m1)[1:]
        y = res.x[nx:]
        loose = w * loads * loads > y + 1e-8 * max(1.0, f)  # HiGHS's feasibility tolerance is ~1e-7
        if res.status == 0 and not loose.any():
            converged = True
            break
        if res.status != 0:  # time limit inside HiGHS
            break
        new = [(j, float(loads[j])) for j in np.flatnonzero(loose)]
    return MilpResult(
        decision=np.asarray(a_best, dtype=np.int64),
        objective=float(f_best),
        lower_bound=bound,
        rounds=rounds,
        seconds=time.perf_counter() - t0,
        converged=converged,
    )


__all__ = ["MilpResult", "solve_tangent_milp"]
