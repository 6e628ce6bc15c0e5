"""One sample from root to proof, and the batch entry points (docs/design.md §3.3, §9).

Per sample: incumbents (Greedy + moves and exchanges, the relaxation's rounding), the root dual,
the granularity bound, reduced-cost fixing, then the core — by :func:`.branch.branch_and_bound` when
small, by HiGHS (:func:`.core.core_milp`) when large or when the own search spends its budget.
The lower bound returned is the best valid one (granularity bound; the floor of everything
discarded; HiGHS's lowered bound), capped by the objective.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dirs.solvers.certified.bounds import best_server_bound, fix_options
from dirs.solvers.certified.branch import Core, Incumbent, branch_and_bound
from dirs.solvers.certified.core import FOCUS_BELOW_GAP, CoreProblem, core_milp
from dirs.solvers.certified.dual import Dual, DualProblem, maximise
from dirs.solvers.certified.incumbents import swap_search
from dirs.solvers.certified.problem import REL_GAP_FLOOR, TAU_START, Sample, prunes, rounding, safe


@dataclass(frozen=True)
class Options:
    """How far a sample is searched (:func:`dirs.solvers.certified.solve_certified_tables`)."""

    rel_gap: float = 1e-6
    time_limit_s: float = 60.0
    node_limit: int = 1_000_000
    core_milp_above: int = 8
    """Cores with more free IoTDs go to HiGHS directly."""
    core_budget: int = 400
    """Own branch-and-bound nodes before a small core is handed to HiGHS."""
    server_bound: bool = True


@dataclass
class Result:
    decision: np.ndarray
    objective: float
    lower_bound: float
    root_bound: float
    nodes: int
    free: int
    proven: bool


def _root(sample: Sample, inc: Incumbent) -> Dual:
    """The continuous relaxation over every IoTD, warm-started at the incumbent's loads; its
    rounding (polished) is offered as an incumbent."""
    lam0 = 2.0 * sample.w * np.bincount(inc.a, weights=sample.s, minlength=sample.m + 1)[1:]
    whole = DualProblem(sample.gam, sample.s, 0.0, np.zeros(sample.m), sample.w)
    root = maximise(whole, lam0, TAU_START * sample.spread, sample.tau_stop)
    inc.offer(sample, swap_search(root.argmin, sample.c, sample.s, sample.w))
    return root


def solve_one(sample: Sample, incumbent: np.ndarray, opts: Options) -> Result:
    """Certified optimum of one sample (module doc)."""
    start = swap_search(incumbent, sample.c, sample.s, sample.w)
    inc = Incumbent(start, sample.objective(start))
    root = _root(sample, inc)

    def done(lb: float, nodes: int = 1, free: int = 0, proven: bool = True) -> Result:
        return Result(inc.a, inc.value, min(inc.value, lb), root.bound, nodes, free, proven)

    if prunes(root.bound, inc.value, sample.tol(inc.value)):
        return done(safe(root.bound))
    red = root.reduced(sample.s)
    gran = best_server_bound(red, root.x, sample.s, sample.w, root.lam) if opts.server_bound else None
    global_lb = safe(root.bound + (gran.beta.sum() if gran is not None else 0.0))
    if prunes(global_lb, inc.value, sample.tol(inc.value)):
        return done(global_lb)
    excl, fix_bound = fix_options(root.bound, red, gran, inc.value, sample.tol(inc.value))
    floor = float(safe(fix_bound[excl]).min()) if excl.any() else np.inf
    allowed = ~excl
    if not allowed.any(1).all():  # some IoTD has no option left: nothing beats the incumbent by tol
        return done(max(floor, global_lb))
    core = Core.from_allowed(sample, allowed)
    if opts.node_limit <= 1:  # the root alone (solve_bounded)
        return done(global_lb, free=core.size, proven=False)
    nodes = 1
    if core.size <= opts.core_milp_above:
        search = branch_and_bound(sample, core, root, inc, floor, opts.node_limit, opts.core_budget)
        if search.status != "budget":
            lb = max(search.floor, global_lb)
            return done(lb, search.nodes, core.size, search.status == "done")
        nodes = search.nodes  # the core MILP below re-solves the whole core
    lb, finished = _core(sample, core, root, inc)
    lb = max(min(floor, lb), global_lb)
    tol_abs = max(sample.rel_gap, REL_GAP_FLOOR) * inc.value
    return done(lb, nodes, core.size, finished or inc.value - lb <= tol_abs)


def _core(sample: Sample, core: Core, root: Dual, inc: Incumbent) -> tuple[float, bool]:
    """HiGHS on the core; ``(a safe lower bound on every decision of the core region, finished)``."""
    fi = core.free_idx
    red_free = np.where(core.allowed[fi], root.reduced(sample.s)[fi], np.inf)
    dev0 = core.load0 - root.lam / (2.0 * sample.w)
    focus = None
    if sample.rel_gap < FOCUS_BELOW_GAP:  # the incumbent's load deviations (its core part)
        focus = dev0 + np.bincount(inc.a[fi], weights=sample.s[fi], minlength=sample.m + 1)[1:]
    tol_abs = max(sample.rel_gap, REL_GAP_FLOOR) * inc.value
    problem = CoreProblem(red_free, sample.s[fi], dev0, sample.w, inc.value - root.bound, focus)
    choice, _, bound, finished = core_milp(problem, tol_abs, sample.time_left())
    if choice is not None:
        inc.offer(sample, core.decision(choice))
    if bound == np.inf:  # the core has no solution: nothing beats the incumbent by tol
        return np.inf, finished
    if bound == -np.inf:  # HiGHS gave no bound
        return safe(root.bound), finished
    # dev0 carries the rounding of the fixed loads and of L̂: the core's values may be off by
    # w_j (2 |D_j| + e_j) e_j per server (|D_j| ≤ |dev0_j| + Σ s of the core)
    e = rounding(sample.n + 2, core.load0 + np.abs(root.lam / (2.0 * sample.w)))
    reach = np.abs(dev0) + sample.s[fi].sum()
    return safe(root.bound + bound - float(sample.w @ ((2.0 * reach + e) * e))), finished
