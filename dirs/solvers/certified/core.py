"""The core left after fixing, solved by HiGHS (:func:`scipy.optimize.milp`) (docs/design.md §3.3).

By the identity f(a) = q(λ) + Σ_i r_{i,a_i} + Σ_j w_j (L_j(a) − L̂_j)² (:mod:`.bounds`) the original
problem restricted to the free IoTDs is

    min Σ_i r_{i,a_i} + Σ_j w_j D_j²,   D_j = dev0_j + Σ_{i: a_i = j} s_i      (dev0 = fixed loads − L̂),

solved as a MILP on an outer approximation: y_j ≥ w_j (2 t D_j − t²) for tangent points t (a grid,
points around the incumbent's deviations, then lazily at each solution's D until tight).  Every
tangent is below w_j D_j², so the MILP's optimum — and HiGHS's dual bound of it — is a lower bound
of the core's optimum.  HiGHS computes that bound with its own tolerances (dual feasibility 1e-7 on
the scaled model): the bound used is lowered by :meth:`_Model.margin`, never taken to the last digit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

#: Extra tangent points around the incumbent's load deviations, in units of the mean √F of the
#: core, used when the gap asked is below :data:`FOCUS_BELOW_GAP`.  Measured (large 180 × 8,
#: per-slot, 8 samples, 1e-6): fewer lazy-cut rounds, 95 s → 42 s in all; at 1e-4 (xlarge) the larger
#: model slows HiGHS ≈ 3×, hence the threshold.
FOCUS_OFFSETS = (0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8, 1.2)
FOCUS_BELOW_GAP = 1e-5
#: HiGHS's dual feasibility tolerance (its default), on the scaled model: the bound is lowered by it.
_HIGHS_FEAS = 1e-7


class _Model:
    """The scaled core MILP: variables x (one per allowed pair), y_j (≥ w_j D_j²), D_j (free)."""

    def __init__(self, red, s, dev0, w, ub_core):
        from scipy.optimize import Bounds, LinearConstraint
        from scipy.sparse import coo_matrix

        k, m1 = red.shape
        m = m1 - 1
        # values O(1e3): HiGHS's absolute tolerances then stay far below the pruning tolerance
        self.kappa = float(np.clip(1e3 / max(ub_core, 1e-300), 1e-3, 1e9))
        self.red, self.s, self.dev0, self.w = red, s, dev0, w
        self.w_s = w * self.kappa
        self.pi, self.pj = np.nonzero(np.isfinite(red))
        nv = self.nv = self.pi.size
        self.k, self.m, self.nvar = k, m, nv + 2 * m
        self.cost = np.concatenate([red[self.pi, self.pj] * self.kappa, np.ones(m), np.zeros(m)])
        self.integrality = np.concatenate([np.ones(nv), np.zeros(2 * m)])
        # a core solution that beats the incumbent has every term below ub_core: y_j = w_j D_j² ≤ ub_core,
        # |D_j| ≤ √(ub_core / w_j).  Bounding y and D so loses nothing the search needs (the lower bound
        # returned is capped by the incumbent) and keeps HiGHS's tolerance margin small (:meth:`margin`).
        self.y_max = float(ub_core * self.kappa) * (1.0 + 1e-9)
        self.d_max = np.sqrt(self.y_max / self.w_s)
        self.bounds = Bounds(
            np.concatenate([np.zeros(nv + m), -self.d_max]),
            np.concatenate([np.ones(nv), np.full(m, self.y_max), self.d_max]),
        )
        ones = coo_matrix((np.ones(nv), (self.pi, np.arange(nv))), shape=(k, self.nvar))
        sel = np.flatnonzero(self.pj > 0)
        dmat = coo_matrix(  # D_j − Σ_i s_i x_ij = dev0_j
            (
                np.concatenate([np.ones(m), -s[self.pi[sel]]]),
                (np.concatenate([np.arange(m), self.pj[sel] - 1]), np.concatenate([nv + m + np.arange(m), sel])),
            ),
            shape=(m, self.nvar),
        )
        self.fixed = [LinearConstraint(ones, 1.0, 1.0), LinearConstraint(dmat, dev0, dev0)]
        self.reach = np.minimum(np.abs(dev0) + 2.0 * s.max(), self.d_max)

    def cuts(self, j: np.ndarray, t: np.ndarray):
        """Rows 2 w_j t D_j − y_j ≤ w_j t² (y_j ≥ the tangent of w_j D_j² at t), scaled."""
        from scipy.sparse import coo_matrix

        r = np.arange(j.size)
        mat = coo_matrix(
            (
                np.concatenate([2.0 * self.w_s[j] * t, -np.ones(j.size)]),
                (np.concatenate([r, r]), np.concatenate([self.nv + self.m + j, self.nv + j])),
            ),
            shape=(j.size, self.nvar),
        )
        return mat.tocsr(), self.w_s[j] * t * t

    def value(self, choice: np.ndarray) -> float:
        d = self.dev0 + np.bincount(choice, weights=self.s, minlength=self.m + 1)[1:]
        return float(self.red[np.arange(self.k), choice].sum() + self.w @ (d * d))

    def consistent(self, bound_scaled: float, choice: np.ndarray) -> bool:
        """False when HiGHS's dual bound exceeds (beyond :meth:`margin`) the model's objective at a
        point of the model we can build ourselves: x = ``choice``, D its deviations, y_j = w_j D_j²
        (feasible when inside the y and D bounds; every tangent is below w_j D_j²)."""
        d = self.dev0 + np.bincount(choice, weights=self.s, minlength=self.m + 1)[1:]
        y = self.w_s * d * d
        if np.any(np.abs(d) > self.d_max) or np.any(y > self.y_max):
            return True  # not a point of the bounded model: nothing to compare
        return bound_scaled - self.margin(bound_scaled) <= self.value(choice) * self.kappa * (1.0 + 1e-9)

    def margin(self, bound_scaled: float) -> float:
        """HiGHS's possible excess in a dual bound, in the scaled units (module doc).  A node's LP
        bound is a dual objective computed with reduced costs feasible to ±1e-7: it may exceed the
        LP's optimum by 1e-7 times each variable's range (x: 1; y_j: its bound; D_j: twice its bound), plus
        1e-9 relative for the solve's own rounding.  Integrality tolerances do not enter: node LPs are
        relaxations whatever they are, and every solution is re-priced exactly."""
        ranges = self.nv + self.m * self.y_max + 2.0 * float(self.d_max.sum())
        return _HIGHS_FEAS * ranges + 1e-9 * abs(bound_scaled)


def _initial_points(model: _Model, grid: int, focus) -> tuple[np.ndarray, np.ndarray]:
    m, reach = model.m, model.reach
    j = np.repeat(np.arange(m), 2 * grid + 1)
    t = np.concatenate([np.linspace(-reach[i], reach[i], 2 * grid + 1) for i in range(m)])
    if focus is not None:  # the optimum's deviations are usually near the incumbent's
        offs = np.concatenate([[0.0], np.outer([1.0, -1.0], FOCUS_OFFSETS).ravel()]) * float(model.s.mean())
        j = np.concatenate([j, np.repeat(np.arange(m), offs.size)])
        t = np.concatenate([t, (focus[:, None] + offs[None, :]).ravel()])
    return j, t


@dataclass(frozen=True)
class CoreProblem:
    """The core of one sample (module doc)."""

    red: np.ndarray
    """(k, M+1) reduced costs of the free IoTDs (``inf`` = excluded option)."""
    s: np.ndarray
    """(k,) their normalised √F."""
    dev0: np.ndarray
    """(M,) fixed loads − L̂."""
    w: np.ndarray
    ub_core: float
    """The incumbent's core value: a better decision has every term below it."""
    focus: np.ndarray | None = None
    """(M,) deviations to put extra tangent points around (the incumbent's), or None."""


def core_milp(problem: CoreProblem, tol: float, time_limit_s: float, grid: int = 15):
    """Solve the core (module doc).  Returns ``(choice (k,) or None, its core value, a safe lower
    bound on the core optimum (+inf: no core solution, −inf: none found), finished)``.
    """
    red, s, dev0, w, ub_core, focus = (
        problem.red, problem.s, problem.dev0, problem.w, problem.ub_core, problem.focus,
    )  # fmt: skip
    from scipy.optimize import LinearConstraint, milp
    from scipy.sparse import vstack

    t0 = time.perf_counter()
    model = _Model(red, s, dev0, w, ub_core)
    mats, ubs = [], []
    j, t = _initial_points(model, grid, focus)
    best, best_val, bound, finished = None, np.inf, -np.inf, False
    factor, errors = 0.5, 0
    while True:
        if j.size:
            mat, ub = model.cuts(j, t)
            mats.append(mat)
            ubs.append(ub)
        left = time_limit_s - (time.perf_counter() - t0)
        if left <= 0:
            break
        gap = factor * tol / max(min(best_val, ub_core), 1e-12)
        # presolve off: HiGHS's presolve once returned an "optimal" core whose value and dual bound
        # were far above the value of its own solution (a wrong certificate found by the fuzzer);
        # without it the solves are as fast on the benchmark instances
        options = {"time_limit": left, "mip_rel_gap": min(max(gap, 1e-9), 1e-2), "disp": False, "presolve": False}
        if errors:
            options["presolve"] = errors % 2 == 1  # after a solve error or an inconsistent answer: the other setting
        cuts = LinearConstraint(vstack(mats).tocsr(), -np.inf, np.concatenate(ubs))
        res = milp(
            model.cost,
            integrality=model.integrality,
            bounds=model.bounds,
            constraints=[*model.fixed, cuts],
            options=options,
        )
        if res.status == 2:  # infeasible: no core solution at all (the incumbent is optimal)
            return best, best_val, np.inf, True
        if res.status == 4 and errors < 3:  # HiGHS's "solve error": retry the same model
            errors += 1
            j = t = np.empty(0)
            continue
        if res.x is None:
            break
        x = res.x[: model.nv] > 0.5
        choice = np.zeros(model.k, dtype=np.int64)
        choice[model.pi[x]] = model.pj[x]
        val = model.value(choice)
        if val < best_val:
            best, best_val = choice, val
        bs = float(res.mip_dual_bound)
        if not model.consistent(bs, choice):  # HiGHS's bound above a point of its own model: not a bound
            if errors < 3:
                errors += 1
                j = t = np.empty(0)
                continue
            break
        bound = max(bound, (bs - model.margin(bs)) / model.kappa)
        if best_val - bound <= tol:
            finished = True
            break
        if res.status != 0:  # HiGHS hit the time limit
            break
        d = dev0 + np.bincount(choice, weights=s, minlength=model.m + 1)[1:]
        y = res.x[model.nv : model.nv + model.m] / model.kappa
        loose = w * d * d > y + max(0.25 * tol / model.m, 1e-6 / model.kappa)
        if not loose.any():  # cuts tight but HiGHS's gap not within tol: tighten the gap
            j = t = np.empty(0)
            factor *= 0.25
            if gap <= 1e-9:
                break
            continue
        j, t = np.flatnonzero(loose), d[loose]
    return best, best_val, bound, finished
