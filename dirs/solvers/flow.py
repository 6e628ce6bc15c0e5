"""Exact optimum for identical tasks as a min-cost flow, with an exact optimality certificate.

docs/design.md §3.2: with F_i = F the objective of one channel sample is

    Σ_i c_{i,a_i} + Σ_j u_j n_j²,      u_j = φT F / F_j^max,  n_j = #{i : a_i = j},

c_{i0} the local cost, c_{ij} the transmission cost.  Since n² = Σ_{k=1}^{n} (2k − 1) this is a min-cost
flow: every IoTD i sends one unit from its node either to the sink directly (local, cost c_{i0}) or to
server j (cost c_{ij}), and server j reaches the sink through unit "slot" arcs of increasing marginal
costs u_j (2k − 1), k = 1, 2, ….  Convex slot costs make the cheapest slots a prefix, so a flow of
minimum cost is an optimal decision, and the network matrix is totally unimodular, so the LP optimum
is integral (the same argument as the slot assignment of :func:`dirs.solvers.oracle._assign_one`).

**The solve.**  Costs are shifted per IoTD by −c_{i0} (every IoTD sends exactly one unit, so this
changes every feasible flow's cost by the same constant): local arcs cost 0, server arcs −s_{ij} with
the saving s_{ij} = c_{i0} − c_{ij}.  Exact pruning (an optimum exists that uses none of what is
dropped; take an optimum with the fewest offloaded IoTDs, then the fewest violations of (3)):

1. arc (i, j) only if s_{ij} > u_j — an IoTD on j with s_{ij} ≤ u_j ≤ u_j(2n_j − 1) may go local at
   no loss, lowering the number offloaded;
2. K_j slots for server j, K_j = #{k : s_{(k),j} > u_j (2k − 1)} with s_{(k),j} the k-th largest
   saving on j: the n_j IoTDs on j in such an optimum all have s_{ij} > u_j (2n_j − 1) (else one goes
   local), and the condition is monotone in k, so n_j ≤ K_j;
3. when R = Σ_j K_j < N, server j keeps only its R IoTDs of largest saving: if i on j is not among
   them, at most R − 1 of them are offloaded (n ≤ K), so one of them, i', is local, and swapping i and
   i' changes the objective by s_{ij} − s_{i'j} ≤ 0 without changing any n;
4. arc (i, j) only if c_{ij} + u_j ≤ min(c_{i0}, min_{j'} c_{ij'} + u_{j'}(2K_{j'} + 1)) — otherwise
   moving i to the minimising option strictly lowers the objective in every optimum with n ≤ K.

IoTDs left without a server arc stay local and are not in the graph.  OR-Tools'
:class:`SimpleMinCostFlow` (cost scaling) needs integer costs: the costs are scaled so that the
largest is about 2^62 / (number of nodes + 1) (its overflow limit) and rounded.

**The certificate.**  Rounding may cost exactness (near ties), so the decision is then verified on the
*unscaled, unpruned* problem and repaired.  A flow is optimal iff its residual graph has no negative
cycle.  In the residual graph of a decision the source's arcs are saturated, IoTD i is entered only
from its current option a_i (reverse arc, cost −c_{i,a_i}) and leaves only to another option j (cost
c_{ij}); server j's used slots are 1..n_j.  Contracting the IoTDs and the parallel slot arcs (a simple
cycle uses each node, hence each IoTD and each contracted arc, at most once) leaves M + 2 nodes
{local = 0, servers 1..M, sink T} and the arcs

* option j' → option j: d_{j'j} = min_{i : a_i = j'} (c_{ij} − c_{ij'}) (move that IoTD from j' to j);
* server j → T: u_j (2 n_j + 1), its next slot;  T → server j: −u_j (2 n_j − 1), its last used slot
  (none when n_j = 0);  local ↔ T: 0 both ways (local capacity is unlimited).

Along a simple cycle every option keeps its count except the one entered from T (one IoTD fewer) and
the one leaving to T (one more), so the cycle's cost is exactly the objective change of applying its
moves.  The decision is optimal iff this dense (M + 2)-node graph has no negative cycle.  It is
detected by Karp's minimum-mean-cycle recursion (vectorised Bellman–Ford over walks of exactly k arcs,
O(M³)), the cycle read off the minimising walk; a cycle of cost below −10^-12 × (the largest cost
magnitude in play) is cancelled (each arc j' → j moves its arg-min IoTD), and this repeats until none
is left.  Every cancellation strictly lowers the objective (checked; a "cycle" at rounding noise ends the
loop), so the loop ends.  After it a minimum-mean cycle (Karp's walk contains one) costs at least
−ε, ε = 10^-12 × scale, so its mean is at least −ε/2 and every simple cycle costs at least
−(M + 2) ε / 2.  The difference between the decision's flow and an optimal one splits into at most N
simple residual cycles (each passes through a distinct IoTD that changed option), so the decision is
within N (M + 2) ε / 2 of the optimum, (M + 2)/2 × 10^-12 × scale per IoTD.  Cost per verification: O(N M) for the contracted arcs, O(M³) for Karp.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

from dirs.system.params import ParameterError

#: Cycles cheaper than ``-CYCLE_RTOL × scale`` are cancelled (scale: the largest cost magnitude in play).
CYCLE_RTOL = 1e-12


# ------------------------------------------------------------------ inputs and objective
def _check(tx, local, slot_unit) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tx = np.asarray(tx, dtype=np.float64)
    local = np.asarray(local, dtype=np.float64)
    slot_unit = np.asarray(slot_unit, dtype=np.float64)
    if tx.ndim != 2:
        raise ParameterError(f"tx: expected shape (N, M), got {tx.shape}")
    n, m = tx.shape
    if local.shape != (n,):
        raise ParameterError(f"local: expected shape ({n},) to match tx {tx.shape}, got {local.shape}")
    if slot_unit.shape != (m,):
        raise ParameterError(f"slot_unit: expected shape ({m},) to match tx {tx.shape}, got {slot_unit.shape}")
    if not np.all(np.isfinite(local)):
        raise ParameterError("local: local costs must be finite")
    if np.any(np.isnan(tx)) or np.any(tx == -np.inf):
        raise ParameterError("tx: transmission costs must be finite or +inf (no NaN, no -inf)")
    if not np.all(np.isfinite(slot_unit) & (slot_unit > 0)):
        raise ParameterError(f"slot_unit: must be finite and > 0 (φT F / F_j^max), got {slot_unit}")
    return tx, local, slot_unit


def _check_decision(decision, n: int, m: int) -> np.ndarray:
    a = np.asarray(decision)
    if a.shape != (n,) or not np.issubdtype(a.dtype, np.integer):
        raise ParameterError(f"decision: expected ({n},) integers in 0..{m}, got shape {a.shape} {a.dtype}")
    if n and (a.min() < 0 or a.max() > m):
        raise ParameterError(f"decision: values must lie in 0..{m}, got {a.min()}..{a.max()}")
    return a.astype(np.int64)


def _objective(cost: np.ndarray, slot_unit: np.ndarray, a: np.ndarray) -> float:
    counts = np.bincount(a, minlength=cost.shape[1])[1:].astype(np.float64)
    return float(cost[np.arange(a.size), a].sum() + (slot_unit * counts * counts).sum())


def _change(cost: np.ndarray, slot_unit: np.ndarray, a: np.ndarray, new: np.ndarray) -> float:
    """Objective of ``new`` minus that of ``a``, summed over the few IoTDs and servers that change."""
    moved = np.flatnonzero(new != a)
    n_old = np.bincount(a[moved], minlength=cost.shape[1])[1:]
    n_new = np.bincount(new[moved], minlength=cost.shape[1])[1:]
    counts = np.bincount(a, minlength=cost.shape[1])[1:]
    after = counts - n_old + n_new
    congestion = slot_unit * (after * after - counts * counts)  # integer n² differences: exact
    return float((cost[moved, new[moved]] - cost[moved, a[moved]]).sum() + congestion.sum())


def decision_objective(tx, local, slot_unit, decision) -> float:
    """Σ_i c_{i,a_i} + Σ_j u_j n_j² of one decision (docs/design.md §3.2); c_{i0} = local, c_{ij} = tx."""
    tx, local, slot_unit = _check(tx, local, slot_unit)
    a = _check_decision(decision, *tx.shape)
    return _objective(np.concatenate([local[:, None], tx], axis=1), slot_unit, a)


# ------------------------------------------------------------------ the scaled min-cost flow
def _pruned_arcs(tx, local, saving, slot_unit) -> tuple[np.ndarray, np.ndarray]:
    """Kept IoTD → server arcs (boolean (N, M)) and slots per server K (M,) — pruning 1–4 above."""
    n, m = saving.shape
    keep = saving > slot_unit  # (1)
    desc = -np.sort(-saving, axis=0)  # k-th largest saving per server, (N, M)
    k = np.arange(1, n + 1, dtype=np.float64)[:, None]
    slots = (desc > slot_unit * (2.0 * k - 1.0)).sum(axis=0)  # (2)
    total = int(slots.sum())
    if total == 0:
        return np.zeros_like(keep), slots
    if total < n:  # (3): the R-th largest saving per server
        keep &= saving >= desc[total - 1]
    worst = np.minimum(local, (tx + slot_unit * (2.0 * slots + 1.0)).min(axis=1))  # (4)
    keep &= tx + slot_unit <= worst[:, None]
    return keep, slots


def _solve_scaled(saving: np.ndarray, keep: np.ndarray, slots: np.ndarray, slot_unit: np.ndarray) -> np.ndarray:
    """Decision of the integer-scaled, pruned min-cost flow (OR-Tools)."""
    n, m = saving.shape
    decision = np.zeros(n, dtype=np.int64)
    rows = np.flatnonzero(keep.any(axis=1))
    if rows.size == 0:
        return decision
    c = rows.size
    ii, jj = np.nonzero(keep[rows])
    arc_saving = saving[rows[ii], jj]
    sj = np.repeat(np.arange(m), slots)  # slot arcs: server, k
    sk = np.arange(sj.size) - np.repeat(np.cumsum(slots) - slots, slots) + 1
    slot_cost = slot_unit[sj] * (2.0 * sk - 1.0)
    sink = c + m
    num_nodes = c + m + 1
    biggest = max(float(arc_saving.max()), float(slot_cost.max()) if slot_cost.size else 0.0)
    limit = float((1 << 62) // (num_nodes + 1) // 2)
    ones_arc, ones_slot, ones_iotd = (np.ones(x, dtype=np.int64) for x in (ii.size, sj.size, c))
    supplies = np.zeros(num_nodes, dtype=np.int64)
    supplies[:c] = 1
    supplies[sink] = -c
    status = None
    for _ in range(8):  # halve the scale if OR-Tools still reports an overflow risk
        scale = limit / biggest
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(
            ii.astype(np.int32), (c + jj).astype(np.int32), ones_arc, -np.rint(arc_saving * scale).astype(np.int64)
        )
        flow.add_arcs_with_capacity_and_unit_cost(
            (c + sj).astype(np.int32),
            np.full(sj.size, sink, dtype=np.int32),
            ones_slot,
            np.rint(slot_cost * scale).astype(np.int64),
        )
        flow.add_arcs_with_capacity_and_unit_cost(
            np.arange(c, dtype=np.int32), np.full(c, sink, dtype=np.int32), ones_iotd, np.zeros(c, dtype=np.int64)
        )
        flow.set_nodes_supplies(np.arange(num_nodes, dtype=np.int32), supplies)
        status = flow.solve()
        if status != flow.BAD_COST_RANGE:
            break
        limit /= 2.0
    if status != flow.OPTIMAL:
        raise RuntimeError(f"OR-Tools min-cost flow failed with status {status} (N={n}, M={m})")
    used = np.asarray(flow.flows(np.arange(ii.size, dtype=np.int32))) > 0
    decision[rows[ii[used]]] = jj[used] + 1
    return decision


# ------------------------------------------------------------------ the certificate
def _residual(tx, local, slot_unit, a):
    """Contracted residual graph W ((M+2, M+2), node M+1 = sink), the option costs and the scale."""
    n, m = tx.shape
    cost = np.concatenate([local[:, None], tx], axis=1)  # (N, M+1)
    own = cost[np.arange(n), a]
    if not np.all(np.isfinite(own)):
        raise ParameterError("decision: puts an IoTD on an option of infinite cost")
    counts = np.bincount(a, minlength=m + 1)
    w = np.full((m + 2, m + 2), np.inf)
    if n:
        diff = cost - own[:, None]
        order = np.argsort(a, kind="stable")
        present = np.flatnonzero(counts)
        starts = (np.cumsum(counts) - counts)[present]
        w[present, : m + 1] = np.minimum.reduceat(diff[order], starts, axis=0)
    np.fill_diagonal(w, np.inf)
    nj = counts[1:]
    w[1 : m + 1, m + 1] = np.where(nj < n, slot_unit * (2.0 * nj + 1.0), np.inf)
    w[m + 1, 1 : m + 1] = np.where(nj > 0, -slot_unit * (2.0 * nj - 1.0), np.inf)
    w[0, m + 1] = w[m + 1, 0] = 0.0
    last = slot_unit * (2.0 * nj - 1.0)
    scale = max(
        float(np.abs(local).max()) if n else 0.0,
        float(np.abs(own).max()) if n else 0.0,
        float(last[nj > 0].max()) if np.any(nj > 0) else 0.0,
    )
    return w, cost, scale


def _cycles_of_walk(walk: list[int]) -> list[list[int]]:
    """The simple cycles a closed-or-open walk decomposes into (each as its node list, not closed)."""
    stack: list[int] = []
    where: dict[int, int] = {}
    cycles = []
    for v in walk:
        if v in where:
            p = where[v]
            cycles.append(stack[p:])
            for x in stack[p + 1 :]:
                del where[x]
            del stack[p + 1 :]
        else:
            where[v] = len(stack)
            stack.append(v)
    return cycles


def _negative_cycle(w: np.ndarray, tol: float) -> tuple[list[int], float] | None:
    """A cycle of cost < −tol in the dense graph ``w`` (inf: no arc), by Karp's recursion, or None."""
    v = w.shape[0]
    d = np.empty((v + 1, v))
    parent = np.empty((v + 1, v), dtype=np.int64)
    d[0] = 0.0
    cols = np.arange(v)
    for k in range(1, v + 1):
        cand = d[k - 1][:, None] + w
        parent[k] = cand.argmin(axis=0)
        d[k] = cand[parent[k], cols]
    last = d[v]
    if not np.any(np.isfinite(last)):
        return None  # no walk of v arcs: acyclic
    with np.errstate(invalid="ignore"):
        ratio = (last[None, :] - d[:v]) / (v - np.arange(v))[:, None]
    ratio = np.where(np.isfinite(d[:v]), ratio, -np.inf)
    mean = np.where(np.isfinite(last), ratio.max(axis=0), np.inf)
    best: tuple[list[int], float] | None = None
    for end in np.argsort(mean):  # the minimising end first; the others only as a safety net
        if not mean[end] < 0:
            break
        walk = [int(end)]
        for k in range(v, 0, -1):
            walk.append(int(parent[k][walk[-1]]))
        walk.reverse()
        for cyc in _cycles_of_walk(walk):
            cost = float(sum(w[x, y] for x, y in zip(cyc, cyc[1:] + cyc[:1])))
            if cost < -tol and (best is None or cost < best[1]):
                best = (cyc, cost)
        if best is not None:
            return best
    return None


def _apply(cost: np.ndarray, a: np.ndarray, cycle: list[int]) -> np.ndarray:
    """``a`` with the moves of ``cycle`` applied: each arc option x → option y moves x's arg-min IoTD."""
    m1 = cost.shape[1]
    new = a.copy()
    for x, y in zip(cycle, cycle[1:] + cycle[:1]):
        if x < m1 and y < m1:  # arcs through the sink move nobody
            idx = np.flatnonzero(a == x)
            if idx.size == 0:
                raise ParameterError(f"cycle: arc {x} -> {y} leaves an option that no IoTD uses")
            new[idx[np.argmin(cost[idx, y] - cost[idx, x])]] = y
    return new


def apply_cycle(tx, local, slot_unit, decision, cycle) -> np.ndarray:
    """``decision`` after cancelling ``cycle`` (nodes as returned by :func:`negative_cycle`); its
    objective changes by the cycle's cost."""
    tx, local, slot_unit = _check(tx, local, slot_unit)
    a = _check_decision(decision, *tx.shape)
    m = tx.shape[1]
    nodes = [int(x) for x in cycle]
    if not nodes or min(nodes) < 0 or max(nodes) > m + 1 or len(set(nodes)) != len(nodes):
        raise ParameterError(f"cycle: expected distinct nodes in 0..{m + 1}, got {nodes}")
    return _apply(np.concatenate([local[:, None], tx], axis=1), a, nodes)


def negative_cycle(tx, local, slot_unit, decision) -> tuple[list[int], float] | None:
    """A negative cycle of ``decision``'s contracted residual graph (module docstring), or None.

    Nodes: 0 = local, 1..M = servers, M + 1 = sink.  Returns ``(nodes, cost)``; the cost is the objective
    change of applying the cycle's moves.  None certifies that ``decision`` is optimal up to cycles of
    cost ≥ −:data:`CYCLE_RTOL` × scale.
    """
    tx, local, slot_unit = _check(tx, local, slot_unit)
    a = _check_decision(decision, *tx.shape)
    w, _, scale = _residual(tx, local, slot_unit, a)
    return _negative_cycle(w, CYCLE_RTOL * scale)


def cancel_negative_cycles(tx, local, slot_unit, decision, max_rounds: int | None = None) -> tuple[np.ndarray, int]:
    """Repair ``decision`` to an exact optimum by cancelling negative residual cycles.

    Returns the repaired decision and the number of cycles cancelled.  ``max_rounds`` (default
    10 (N + M) + 100) bounds the work; exceeding it raises :class:`RuntimeError`.
    """
    tx, local, slot_unit = _check(tx, local, slot_unit)
    return _cancel(tx, local, slot_unit, _check_decision(decision, *tx.shape).copy(), max_rounds)


def _cancel(tx, local, slot_unit, a: np.ndarray, max_rounds: int | None = None) -> tuple[np.ndarray, int]:
    n, m = tx.shape
    limit = 10 * (n + m) + 100 if max_rounds is None else int(max_rounds)
    if n == 0 or m == 0:
        return a, 0
    for rounds in range(limit + 1):
        w, cost, scale = _residual(tx, local, slot_unit, a)
        found = _negative_cycle(w, CYCLE_RTOL * scale)
        if found is None:
            return a, rounds
        if rounds == limit:
            break
        new = _apply(cost, a, found[0])
        if not _change(cost, slot_unit, a, new) < 0:
            return a, rounds  # a cycle at rounding noise: nothing left to gain
        a = new
    raise RuntimeError(f"cancel_negative_cycles: still not optimal after {limit} cancellations (N={n}, M={m})")


# ------------------------------------------------------------------ entry point
def solve_flow_one(tx, local, slot_unit) -> np.ndarray:
    """Exact optimal decision ``(N,)`` (0 = local, j = server j) of one identical-task sample.

    ``tx`` ``(N, M)`` transmission costs (+inf allowed: never chosen), ``local`` ``(N,)`` local costs,
    ``slot_unit`` ``(M,)`` = φT F / F_j^max (docs/design.md §3.2).  Pruned, integer-scaled min-cost flow
    (OR-Tools), then verified and, if rounding cost anything, repaired on the exact float costs (module
    docstring).  Raises :class:`ParameterError` naming a malformed argument.
    """
    tx, local, slot_unit = _check(tx, local, slot_unit)
    n, m = tx.shape
    if n == 0 or m == 0:
        return np.zeros(n, dtype=np.int64)
    saving = local[:, None] - tx
    keep, slots = _pruned_arcs(tx, local, saving, slot_unit)
    decision = _solve_scaled(saving, keep, slots, slot_unit)
    return _cancel(tx, local, slot_unit, decision)[0]
