"""Depth-first branch and bound over a small core (docs/design.md §3.3).

A node fixes some options of the free IoTDs; its bound is the dual q(λ) re-maximised from the
parent's multipliers (warm start), never below the parent's.  At a node: prune when the bound
prunes against the incumbent, try the dual's rounding as an incumbent, drop options whose q + r_ij
prunes (the identity of :mod:`.bounds` holds at every node), branch on the most tied IoTD.  The
``floor`` is the smallest safe bound of everything discarded, so min(incumbent, floor) is a valid
lower bound whenever the search stops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dirs.solvers.certified.dual import Dual, DualProblem, maximise
from dirs.solvers.certified.incumbents import one_opt
from dirs.solvers.certified.problem import TAU_WARM, Sample, prunes, safe


@dataclass
class Core:
    """The free IoTDs after root fixing and what the fixed ones contribute."""

    free_idx: np.ndarray
    """(k,) indices of the IoTDs with more than one allowed option."""
    allowed: np.ndarray
    """(N, M+1) options left."""
    base: np.ndarray
    """(N,) a decision whose fixed IoTDs hold their only option."""
    cost0: float
    load0: np.ndarray
    """(M,) server loads of the fixed IoTDs."""

    @classmethod
    def from_allowed(cls, sample: Sample, allowed: np.ndarray) -> Core:
        fixed = allowed.sum(1) == 1
        fixed_idx = np.flatnonzero(fixed)
        fix_opt = allowed[fixed_idx].argmax(1)
        base = np.zeros(sample.n, dtype=np.int64)
        base[fixed_idx] = fix_opt
        return cls(
            free_idx=np.flatnonzero(~fixed),
            allowed=allowed,
            base=base,
            cost0=float(sample.c[fixed_idx, fix_opt].sum()),
            load0=np.bincount(fix_opt, weights=sample.s[fixed_idx], minlength=sample.m + 1)[1:],
        )

    @property
    def size(self) -> int:
        return int(self.free_idx.size)

    def decision(self, free_choice: np.ndarray) -> np.ndarray:
        a = self.base.copy()
        a[self.free_idx] = free_choice
        return a


@dataclass
class Incumbent:
    """Best decision found and its objective (updated in place by the searches)."""

    a: np.ndarray
    value: float

    def offer(self, sample: Sample, a: np.ndarray, polish: bool = False) -> None:
        value = sample.objective(a)
        if value < self.value:
            if polish:
                a = one_opt(a, sample.c, sample.s, sample.w)
                value = sample.objective(a)
            self.a, self.value = a, value


@dataclass
class Search:
    """Outcome of :func:`branch_and_bound`."""

    floor: float
    nodes: int
    status: str
    """``"done"`` (proven), ``"limit"`` (time or node limit) or ``"budget"`` (hand over to HiGHS)."""


def branch_and_bound(
    sample: Sample, core: Core, root: Dual, inc: Incumbent, floor: float, node_limit: int, budget: int
) -> Search:
    """Search the core from the root's multipliers (module doc); ``inc`` is updated in place."""
    g_free = sample.gam[core.free_idx]
    s_free = sample.s[core.free_idx]
    stack = [(core.allowed[core.free_idx].copy(), root.lam, root.bound)]
    nodes = 1
    while stack:
        if nodes >= budget:
            return Search(floor, nodes, "budget")
        if nodes >= node_limit or sample.out_of_time():
            return Search(min(floor, min(safe(b) for _, _, b in stack)), nodes, "limit")
        mask, lam, parent_bound = stack.pop()
        tol = sample.tol(inc.value)
        if prunes(parent_bound, inc.value, tol):
            floor = min(floor, safe(parent_bound))
            continue
        nodes += 1
        node = DualProblem(np.where(mask, g_free, np.inf), s_free, core.cost0, core.load0, sample.w)
        d = maximise(node, lam, TAU_WARM * sample.spread, sample.tau_stop, stop_at=inc.value - tol)
        bound = max(d.bound, parent_bound)
        inc.offer(sample, core.decision(d.argmin), polish=True)  # the dual's rounding
        tol = sample.tol(inc.value)
        if prunes(bound, inc.value, tol):
            floor = min(floor, safe(bound))
            continue
        children, dropped = _expand(sample, core, inc, mask, d, bound, s_free)
        floor = min(floor, dropped)
        stack.extend(children)
    return Search(floor, nodes, "done")


def _expand(sample: Sample, core: Core, inc: Incumbent, mask, d: Dual, bound: float, s_free):
    """Fix inside the node and branch: ``(children, floor)`` — the two children (none at a leaf or
    when an IoTD has no option left) and the smallest safe bound of what the node discarded."""
    tol = sample.tol(inc.value)
    red = d.reduced(s_free)
    drop = mask & prunes(d.bound + red, inc.value, tol)
    floor = np.inf
    if drop.any():
        floor = float(safe((d.bound + red)[drop]).min())
        mask = mask & ~drop
    if not mask.any(1).all():  # an IoTD lost every option: nothing here beats the incumbent by tol
        return [], floor
    open_items = np.flatnonzero(mask.sum(1) > 1)
    if open_items.size == 0:  # every free IoTD has one option left: a leaf
        a = core.decision(mask.argmax(1))
        inc.offer(sample, a)
        return [], min(floor, sample.objective(a))
    # branch on the most tied open IoTD: smallest second-cheapest reduced cost
    xr = np.where(mask[open_items], red[open_items], np.inf)
    i = int(open_items[np.argmin(np.partition(xr, 1, axis=1)[:, 1])])
    j = int(np.where(mask[i], red[i], np.inf).argmin())
    child_out = mask.copy()
    child_out[i, j] = False
    child_in = mask.copy()
    child_in[i] = False
    child_in[i, j] = True
    return [(child_out, d.lam, bound), (child_in, d.lam, bound)], floor
