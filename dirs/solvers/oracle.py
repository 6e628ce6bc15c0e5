"""Exact optimum of the offloading problem (docs/design.md §3) and bounds for heterogeneous tasks.

With identical task sizes the objective is Σ_i c_{i,a_i} + Σ_j φT F n_j² / F_j^max.  The congestion
term is convex in n_j, so the k-th IoTD on server j adds φT F (2k − 1) / F_j^max: every server gets
"slots" with those marginal costs.  :func:`solve_exact_tables` solves each sample exactly with
:func:`solve_identical_one`: large problems as a min-cost flow (IoTD → local or server → slot arcs →
sink) with :func:`dirs.solvers.flow.solve_flow_one`: exactly
pruned, integer-scaled for OR-Tools, then certified optimal on the float costs by the absence of a
negative cycle in the contracted residual graph, and repaired by cycle cancelling where rounding cost
anything; small ones (paper sizes, where it is faster) by :func:`_assign_one`, the independent
cross-check of the flow: one
rectangular assignment problem, IoTDs × slots, solved by :func:`scipy.optimize.linear_sum_assignment`
on the clipped savings c_i0 − c_ij − slot cost (an IoTD matched with a non-positive saving stays
local), with slots whose marginal cost is at least every IoTD's best saving on that server pruned.
It is exact too, but slow when servers have many useful slots (large F_j^max / F).

With heterogeneous CPU demands the problem is a convex MIQP (docs/design.md §9):
:func:`dirs.solvers.certified.solve_certified` proves the optimum (Lagrangian dual bound + branch and
bound); :func:`solve_bounded` is its root alone (best decision found, the exact relaxation bound and
the gap); :func:`relaxation_lower_bound` is the older Frank-Wolfe bound of the same relaxation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from dirs.solvers.costs import CostTables, cost_tables
from dirs.solvers.flow import solve_flow_one
from dirs.system.params import ParameterError, SystemParams

#: Above this many IoTD × useful-slot entries the min-cost flow beats the assignment (measured with
#: ``python -m dirs.bench flow``: xlarge 200 × 100 entries, assignment 0.39 ms vs flow 0.73 ms;
#: N = 2000, M = 50: 2000 × 500 entries, 16.8 ms vs 8.8 ms; many more slots than N needs: seconds vs ms).
FLOW_ABOVE_ENTRIES = 100_000


def _useful_slots(best: np.ndarray, slot_unit: np.ndarray, n: int) -> np.ndarray:
    """(M,) slots worth opening per server: slot k (1-based, marginal cost slot_unit (2k − 1)) is
    useful iff slot_unit (2k − 1) < best saving on that server ⇔ k < (best/slot_unit + 1)/2; a server
    no IoTD can reach (best = −inf) has none."""
    ratio = np.where(np.isfinite(best), best / slot_unit, -1.0)
    return np.clip(np.ceil((ratio + 1.0) / 2.0).astype(np.int64) - 1, 0, n)


def solve_identical_one(tx: np.ndarray, local: np.ndarray, slot_unit: np.ndarray) -> np.ndarray:
    """Exact decision ``(N,)`` of one sample with identical tasks (docs/design.md §3.2): the slot
    assignment (:func:`_assign_one`) while the problem is small, the min-cost flow
    (:func:`dirs.solvers.flow.solve_flow_one`) above :data:`FLOW_ABOVE_ENTRIES`; both are exact and
    cross-checked against each other in ``tests/test_flow.py``."""
    n = tx.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    kmax = _useful_slots((local[:, None] - tx).max(axis=0), slot_unit, n)
    if n * int(kmax.sum()) > FLOW_ABOVE_ENTRIES:
        return solve_flow_one(tx, local, slot_unit)
    return _assign_one(tx, local, slot_unit)


def _assign_one(tx: np.ndarray, local: np.ndarray, slot_unit: np.ndarray) -> np.ndarray:
    """Exact decision for one sample.  tx: (N, M); local: (N,); slot_unit[j] = φT F / F_j^max."""
    n, m = tx.shape
    saving = local[:, None] - tx  # (N, M) saving of offloading before congestion
    best = saving.max(axis=0)  # (M,)
    # slot k (1-based) costs slot_unit (2k-1); keep slots with cost < best saving on that server
    kmax = _useful_slots(best, slot_unit, n)
    if kmax.sum() == 0:
        return np.zeros(n, dtype=np.int64)
    cols_server = np.repeat(np.arange(m), kmax)
    k = np.concatenate([np.arange(1, c + 1) for c in kmax]) if kmax.size else np.empty(0)
    slot_cost = slot_unit[cols_server] * (2.0 * k - 1.0)
    gain = saving[:, cols_server] - slot_cost[None, :]
    np.maximum(gain, 0.0, out=gain)
    rows, cols = linear_sum_assignment(gain, maximize=True)
    decision = np.zeros(n, dtype=np.int64)
    keep = gain[rows, cols] > 0
    decision[rows[keep]] = cols_server[cols[keep]] + 1
    return decision


def solve_exact_tables(tables: CostTables) -> np.ndarray:
    """Exact decisions ``(T, N)`` from precomputed :class:`CostTables` (identical tasks only).

    One exact solve per sample (:func:`solve_identical_one`, docs/design.md §3.2).  With
    per-sample task fields (docs/design.md §9) the tasks must be identical within each sample; F may
    differ between samples.  N = 0 gives an empty ``(T, 0)`` result.
    """
    sf = tables.sqrt_f
    if not np.all(sf == sf[..., :1]):
        raise ParameterError(
            "cpu_cycles: solve_exact needs identical task sizes (docs/design.md §3); use "
            "dirs.solvers.certified.solve_certified for heterogeneous tasks (docs/design.md §9)"
        )
    out = np.zeros(tables.tx.shape[:2], dtype=np.int64)
    if out.shape[1] == 0:
        return out
    if sf.ndim == 1 and tables.local.ndim == 1:
        slot_unit = tables.phi_t * sf[0] ** 2 / tables.mec_cpu_hz
        for t in range(tables.tx.shape[0]):
            out[t] = solve_identical_one(tables.tx[t], tables.local, slot_unit)
        return out
    sf_tn, local_tn = tables.sqrt_f_tn, tables.local_tn
    for t in range(tables.tx.shape[0]):
        slot_unit = tables.phi_t * sf_tn[t, 0] ** 2 / tables.mec_cpu_hz
        out[t] = solve_identical_one(tables.tx[t], local_tn[t], slot_unit)
    return out


def solve_exact(gains: np.ndarray, params: SystemParams) -> np.ndarray:
    """Exact optimal decisions for every channel sample.

    gains: ``(T, N, M)`` (or ``(N, M)``).  Returns ``(T, N)`` ints in 0..M (or ``(N,)``).
    Raises :class:`ParameterError` for heterogeneous CPU demands (see :func:`solve_bounded`).
    """
    g = np.asarray(gains, dtype=np.float64)
    out = solve_exact_tables(cost_tables(g, params))
    return out[0] if g.ndim == 2 else out


# ------------------------------------------------------------------ heterogeneous tasks
@dataclass(frozen=True)
class BoundedSolution:
    """Best decision found, its objective, and a lower bound on the optimum, per sample."""

    decisions: np.ndarray
    """(T, N) best decisions found."""
    objective: np.ndarray
    """(T,) their objective."""
    lower_bound: np.ndarray
    """(T,) lower bound on the optimal objective (continuous relaxation, Frank-Wolfe dual bound)."""

    @property
    def gap(self) -> np.ndarray:
        """(T,) relative optimality gap (objective − bound) / objective."""
        return (self.objective - self.lower_bound) / self.objective


def relaxation_lower_bound(tables: CostTables, iterations: int = 300) -> np.ndarray:
    """Lower bound of the continuous relaxation by Frank-Wolfe with exact line search.

    Relaxation: z_i ∈ simplex over {local, 1..M};  f(z) = Σ_i z_i·c_i + Σ_j φT (Σ_i z_ij √F_i)² / F_j^max.
    f is convex, so f(z) + min_s ∇f(z)·(s − z) ≤ f* ≤ optimum of the integer problem.
    """
    opts = tables.options()  # (T, N, M+1)
    t_, n, m1 = opts.shape
    w = tables.phi_t / tables.mec_cpu_hz  # (M,)
    sf = tables.sqrt_f_tn  # (T, N)
    z = np.zeros_like(opts)
    z[..., 0] = 1.0
    best = np.full(t_, -np.inf)
    for _ in range(iterations):
        loads = np.einsum("tnm,tn->tm", z[..., 1:], sf)  # (T, M)
        grad = opts.copy()
        grad[..., 1:] += 2.0 * w * loads[:, None, :] * sf[:, :, None]
        fval = (z * opts).sum((1, 2)) + (w * loads * loads).sum(-1)
        s_idx = grad.argmin(-1)
        s = np.zeros_like(z)
        np.put_along_axis(s, s_idx[..., None], 1.0, -1)
        dvec = s - z
        gap = -(grad * dvec).sum((1, 2))
        best = np.maximum(best, fval - gap)
        # exact line search on the quadratic f(z + γ d)
        dl = np.einsum("tnm,tn->tm", dvec[..., 1:], sf)
        lin = (grad * dvec).sum((1, 2))
        quad = (w * dl * dl).sum(-1)
        gamma = np.clip(np.where(quad > 0, -lin / (2 * np.where(quad > 0, quad, 1.0)), 1.0), 0.0, 1.0)
        z += gamma[:, None, None] * dvec
    return best


def solve_bounded(gains: np.ndarray, params: SystemParams, fw_iterations: int = 300) -> BoundedSolution:
    """Best decision found and a lower bound, for any task sizes (heterogeneous: convex MIQP).

    The root of :func:`dirs.solvers.certified.solve_certified` (no branching): Greedy + local
    search and the relaxation's rounding as incumbents, the exact continuous relaxation (Lagrangian
    dual, docs/design.md §9) as the bound — tighter than :func:`relaxation_lower_bound`'s Frank-Wolfe
    bound, and exact for identical tasks.  ``fw_iterations`` is kept for compatibility (unused).
    Use ``solve_certified`` for a proven optimum.
    """
    from dirs.solvers.certified import solve_certified_tables

    return solve_certified_tables(cost_tables(np.asarray(gains, dtype=np.float64), params), node_limit=1)
