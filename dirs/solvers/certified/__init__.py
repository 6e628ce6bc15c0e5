"""Certified optimum for heterogeneous tasks (docs/design.md §3.3, §9): Lagrangian dual bound,
granularity bound, reduced-cost fixing, and an exact search of the few IoTDs left free.

With the closed-form CPU split (docs/design.md §2) one channel sample's objective is

    f(a) = Σ_i c_{i,a_i} + Σ_j w_j L_j(a)²,   L_j(a) = Σ_{i: a_i = j} s_i,   w_j = φT / F_j^max,  s_i = √F_i,

over a ∈ {0..M}^N (c_{i0} = local cost, c_{ij} = transmission cost): a convex MIQP.  The parts, each
with the inequality that justifies it in its module docstring and in docs/design.md §3.3:

* :mod:`.problem` — a sample in normalised units, the pruning test and the rounding margins (every
  bound is lowered by its floating-point error before it is compared; never rounded up);
* :mod:`.dual` — the Lagrangian dual q(λ) ≤ min f for every λ, maximised by smoothed Newton + exact KKT;
* :mod:`.bounds` — the identity f(a) = q(λ) + Σ r + Σ w (L − L̂)², the per-server granularity bound
  and reduced-cost fixing;
* :mod:`.incumbents` — Greedy polished by moves and pair exchanges (decisions only, priced exactly);
* :mod:`.branch` — depth-first branch and bound over small cores;
* :mod:`.core` — HiGHS on larger cores, tangent cuts below w D², its dual bound lowered by HiGHS's
  tolerances;
* :mod:`.solve` — one sample from root to proof; :mod:`.tangent` — the whole-problem HiGHS MILP,
  the slow reference of the tests and benchmarks.

The proven relative gap (objective − lower_bound)/objective is ≤ ``rel_gap`` (at least
:data:`.problem.REL_GAP_FLOOR`) unless the time limit stopped the search (``proven = False``).
Identical tasks within a sample (docs/design.md §3) take the exact slot assignment unless
``identical="bb"`` asks for the same search as heterogeneous tasks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from dirs.solvers.certified.problem import Sample
from dirs.solvers.certified.solve import Options, Result, solve_one
from dirs.solvers.costs import CostTables, cost_tables
from dirs.solvers.oracle import BoundedSolution, solve_identical_one
from dirs.system.params import ParameterError, SystemParams

_IDENTICAL = ("assignment", "bb")


@dataclass(frozen=True)
class CertifiedSolution(BoundedSolution):
    """:class:`BoundedSolution` plus per-sample search statistics of :func:`solve_certified`."""

    root_bound: np.ndarray
    """(T,) the continuous relaxation's bound max_λ q(λ) at the root."""
    nodes: np.ndarray
    """(T,) branch-and-bound nodes whose dual was solved (1 = the root alone; 0 = assignment)."""
    free_iotds: np.ndarray
    """(T,) IoTDs with more than one option left after reduced-cost fixing at the root."""
    solve_time_s: np.ndarray
    """(T,) wall-clock seconds per sample (cost tables excluded)."""
    proven: np.ndarray
    """(T,) bool: the search finished (gap ≤ rel_gap); False when a time or node limit stopped it."""

    @property
    def solve_ms(self) -> np.ndarray:
        """(T,) milliseconds per sample (``solve_time_s`` · 1e3)."""
        return self.solve_time_s * 1e3


def _check(rel_gap: float, time_limit_s: float, node_limit: int, identical: str) -> None:
    if not 0 <= rel_gap < 1:
        raise ParameterError(f"rel_gap: must lie in [0, 1), got {rel_gap}")
    if not time_limit_s > 0:
        raise ParameterError(f"time_limit_s: must be > 0, got {time_limit_s}")
    if int(node_limit) < 1:
        raise ParameterError(f"node_limit: must be >= 1, got {node_limit}")
    if identical not in _IDENTICAL:
        raise ParameterError(f"identical: unknown mode {identical!r}; allowed: {list(_IDENTICAL)}")


def solve_certified_tables(
    tables: CostTables,
    *,
    rel_gap: float = 1e-6,
    time_limit_s: float = 60.0,
    node_limit: int = 1_000_000,
    identical: str = "assignment",
    start: np.ndarray | None = None,
    core_milp_above: int = 8,
) -> CertifiedSolution:
    """Certified optimum of every sample of ``tables`` (module docstring; docs/design.md §9).

    rel_gap: prune when the bound is within ``rel_gap``·UB of the incumbent UB (the proven gap is
    then ≤ rel_gap; the HiGHS core is asked for at least 1e-9).  time_limit_s: per sample; a
    sample stopped by it has ``proven = False`` and a valid, looser lower bound.  node_limit: own
    branch-and-bound nodes per sample; 1 = the root alone (incumbents, relaxation and granularity
    bounds, no search; :func:`dirs.solvers.oracle.solve_bounded`).  core_milp_above: cores with more
    free IoTDs go to HiGHS directly (smaller ones too, after 400 own nodes).  identical:
    ``"assignment"`` solves a sample with identical tasks by the exact slot assignment (docs/design.md §3),
    ``"bb"`` by the same search as heterogeneous ones.  start: optional ``(T, N)`` decisions used
    as incumbents besides Greedy.
    """
    from dirs.solvers.heuristics import greedy_tables
    from dirs.solvers.local_search import improve_tables

    _check(rel_gap, time_limit_s, node_limit, identical)
    options = Options(
        rel_gap=rel_gap, time_limit_s=time_limit_s, node_limit=int(node_limit), core_milp_above=core_milp_above
    )
    t_, n, m = tables.tx.shape
    opts = tables.options()
    sf_tn = tables.sqrt_f_tn
    local_tn = tables.local_tn
    w_raw = tables.phi_t / tables.mec_cpu_hz
    greedy = improve_tables(greedy_tables(tables), tables)
    if start is not None:
        st = np.asarray(start, dtype=np.int64)
        if st.shape != (t_, n):
            raise ParameterError(f"start: expected shape ({t_}, {n}), got {st.shape}")
        better = tables.objective(st) < tables.objective(greedy)
        greedy = np.where(better[:, None], st, greedy)
    out = {
        k: []
        for k in (
            "decisions",
            "objective",
            "lower_bound",
            "root_bound",
            "nodes",
            "free_iotds",
            "solve_time_s",
            "proven",
        )
    }
    for t in range(t_):
        t0 = time.perf_counter()
        sf = sf_tn[t]
        if identical == "assignment" and np.all(sf == sf[0]):
            a = solve_identical_one(tables.tx[t], local_tn[t], tables.phi_t * sf[0] ** 2 / tables.mec_cpu_hz)
            obj = float(tables.take(t).objective(a[None])[0])
            res = Result(a, obj, obj, obj, 0, 0, True)
        else:
            sample = Sample.from_costs(opts[t], sf, w_raw, rel_gap, time_limit_s)
            res = solve_one(sample, greedy[t], options)
        out["decisions"].append(res.decision)
        out["objective"].append(res.objective)
        out["lower_bound"].append(res.lower_bound)
        out["root_bound"].append(min(res.root_bound, res.objective))
        out["nodes"].append(res.nodes)
        out["free_iotds"].append(res.free)
        out["solve_time_s"].append(time.perf_counter() - t0)
        out["proven"].append(res.proven)
    decisions = np.stack(out["decisions"]).astype(np.int64)
    # report the objective as CostTables prices it (the same figure as evaluate())
    objective = tables.objective(decisions)
    lower = np.minimum(np.asarray(out["lower_bound"]), objective)
    return CertifiedSolution(
        decisions=decisions,
        objective=objective,
        lower_bound=lower,
        root_bound=np.asarray(out["root_bound"]),
        nodes=np.asarray(out["nodes"], dtype=np.int64),
        free_iotds=np.asarray(out["free_iotds"], dtype=np.int64),
        solve_time_s=np.asarray(out["solve_time_s"]),
        proven=np.asarray(out["proven"], dtype=bool),
    )


def solve_certified(
    gains: np.ndarray,
    params: SystemParams,
    *,
    rel_gap: float = 1e-6,
    time_limit_s: float = 60.0,
    node_limit: int = 1_000_000,
    identical: str = "assignment",
    start: np.ndarray | None = None,
    core_milp_above: int = 8,
) -> CertifiedSolution:
    """Certified optimal decisions for every channel sample, any task sizes (docs/design.md §9).

    gains: ``(T, N, M)`` (or ``(N, M)``); params: per-IoTD fields may be per sample ``(T, N)``.
    Returns a :class:`CertifiedSolution` (decisions ``(T, N)``, objective, lower_bound, gap, and
    per-sample nodes and solve times); see :func:`solve_certified_tables` for the options.
    """
    g = np.asarray(gains, dtype=np.float64)
    return solve_certified_tables(
        cost_tables(g, params),
        rel_gap=rel_gap,
        time_limit_s=time_limit_s,
        node_limit=node_limit,
        identical=identical,
        start=start,
        core_milp_above=core_milp_above,
    )


__all__ = ["CertifiedSolution", "solve_certified", "solve_certified_tables"]
