"""Certified optimum for heterogeneous tasks (docs/design.md §9): Lagrangian dual bound, reduced-cost
fixing, a granularity bound, and an exact search of the few IoTDs left free.

With the closed-form CPU split (docs/design.md §2) one channel sample's objective is

    f(a) = Σ_i c_{i,a_i} + Σ_j w_j L_j(a)²,   L_j(a) = Σ_{i: a_i = j} s_i,   w_j = φT / F_j^max,  s_i = √F_i,

over a ∈ {0..M}^N (c_{i0} = local cost, c_{ij} = transmission cost; docs/design.md §3, §9): a convex MIQP.

**Dual bound.**  w L² = max_λ (λ L − λ²/(4w)), so for *any* multipliers λ ∈ R^M (λ_0 = 0, local)

    q(λ) = Σ_i min_j (c_ij + λ_j s_i) − Σ_j λ_j² / (4 w_j)  ≤  min_a f(a),

and max_λ q(λ) is the continuous relaxation (a convex-cost transportation problem).  q is strongly
concave; :func:`_dual` maximises it by Newton's method on the entropy-smoothed dual (softmin with
temperature τ, decreasing geometrically), and after each stage solves the KKT system of the tie
structure read off the smoothed point exactly (:func:`_kkt`), which ends it once consistent.  The
bound used is always the *exact* q at the multipliers reached, valid whatever the accuracy.

**Identity.**  For every λ and every a, with reduced costs r_ij = c_ij + λ_j s_i − min_k (c_ik + λ_k s_i)
≥ 0 and L̂ = λ/(2w):

    f(a) = q(λ) + Σ_i r_{i,a_i} + Σ_j w_j (L_j(a) − L̂_j)².

Hence (a) *reduced-cost fixing*: every a with a_i = j costs ≥ q(λ) + r_ij, so options with
q(λ) + r_ij ≥ UB − tol are discarded (UB = incumbent, tol = ``rel_gap``·UB); (b) the *granularity
bound* q(λ) + Σ_j β_j (:func:`_server_bound`): the relaxation balances loads with fractions of
IoTDs, integers cannot; per server a small subset problem prices that; (c) the IoTDs left with
more than one option (the *core*, tens of the 180–200) carry the whole remaining problem
min Σ_i r_{i,a_i} + Σ_j w_j (L_j − L̂_j)².

**Core search.**  Small cores (≤ ``core_milp_above`` IoTDs): depth-first branch and bound with the
dual re-maximised at every node (warm start), pruning, node-level fixing, the dual's rounding as an
incumbent candidate, branching on the most tied IoTD.  Larger cores, or small ones not finished in
400 nodes: HiGHS (:func:`scipy.optimize.milp`) on the core with y_j ≥ tangents of w_j (L_j − L̂_j)²,
added lazily until tight (:func:`_core_milp`; scaled so HiGHS's absolute tolerances stay far
below tol; its gap is asked for ≥ 1e-9 relative).

Incumbents at the root: Greedy + single-IoTD moves (docs/design.md §5) and the relaxation's rounding, each
polished by single-IoTD moves and pair exchanges (:func:`_swap_search`).  The lower bound returned
is the best valid one (granularity bound; pruned nodes, fixed options, open nodes; HiGHS's dual
bound), capped by the objective; the proven relative gap (objective − lower_bound)/objective is
≤ ``rel_gap`` unless the time limit stopped the search (``proven = False``).

Identical tasks within a sample (docs/design.md §3) take the exact slot assignment
(:func:`dirs.solvers.oracle._assign_one`: a totally unimodular assignment, proven optimal) unless
``identical="bb"`` asks for the same search as heterogeneous tasks.

:func:`solve_tangent_milp` is the reference: HiGHS on the whole problem's tangent-cut MILP.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from dirs.solvers.costs import CostTables, cost_tables
from dirs.solvers.oracle import BoundedSolution, _assign_one
from dirs.system.params import ParameterError, SystemParams

#: Geometric schedule of the smoothing temperature, relative to the spread of the unit costs γ.
_TAU_START = 1e-2
_TAU_STOP = 1e-11
_TAU_FACTOR = 1e-1
#: Temperature of a warm-started node solve (relative), then the same schedule down to _TAU_STOP.
_TAU_WARM = 1e-6
_NEWTON_MAX = 25
_IDENTICAL = ("assignment", "bb")
#: Smallest relative gap asked of the HiGHS core (its feasibility and gap tolerances are ~1e-9).
_MILP_GAP_FLOOR = 1e-9
#: Charge splits θ tried by the per-server granularity bound (:func:`_server_bound`).
_THETAS = (0.5, 0.75)
#: Extra tangent points of the HiGHS core around the incumbent's load deviations, in units of the
#: mean √F of the core, used when the gap asked is below :data:`_FOCUS_BELOW_GAP` (:func:`_core_milp`).
#: Measured (large 180 × 8, per-slot, 8 samples, 1e-6): fewer lazy-cut rounds, 95 s → 42 s in all;
#: at 1e-4 (xlarge) the larger model slows HiGHS ≈ 3×, hence the threshold.
_FOCUS_OFFSETS = (0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8, 1.2)
_FOCUS_BELOW_GAP = 1e-5


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


# ----------------------------------------------------------------------------- the dual
@dataclass
class _Dual:
    lam: np.ndarray  # (M,) multipliers reached
    bound: float  # exact q(λ)
    x: np.ndarray  # (k, M+1) reduced prices γ_ij + λ_j (inf where excluded)
    argmin: np.ndarray  # (k,) cheapest allowed option at λ
    iterations: int


def _kkt(
    gam: np.ndarray,
    s: np.ndarray,
    load0: np.ndarray,
    w: np.ndarray,
    x: np.ndarray,
    mn: np.ndarray,
    width: float,
    max_pairs: int,
):
    """Exact relaxation optimum for a guessed tie structure: ``(λ, consistent)`` or None.

    ``consistent`` is True when the structure's solution is primal feasible (every split z_ij ≥ 0)
    and dual consistent (at the new λ every item's assumed options are its cheapest ones): then the
    relaxed point and λ have equal value, so q(λ) *is* the relaxation optimum.

    Options within ``width`` of an item's cheapest price x_ij = γ_ij + λ_j are taken as tied; the
    other items keep their cheapest option.  The KKT conditions of the relaxation on that structure
    are linear: γ_ij + λ_j = μ_i (j tied for i, λ_0 = 0), Σ_j z_ij = 1, and
    λ_j / (2 w_j) = load of server j (fixed items + Σ_i s_i z_ij).  Solved as one linear system.
    """
    m = w.shape[0]
    tied = x <= mn[:, None] + width
    multi = tied.sum(1) > 1
    ti = np.flatnonzero(multi)
    single = ~multi
    o = x.argmin(1)
    base = load0 + np.bincount(o[single], weights=s[single], minlength=m + 1)[1:]
    if ti.size == 0:
        lam = 2.0 * w * base
        return lam, _cheapest(gam, lam, tied)
    pi, pj = np.nonzero(tied[ti])  # pairs (tie item index into ti, option)
    if pi.size > max_pairs:
        return None
    npair, nt = pi.size, ti.size
    nv = m + npair + nt  # unknowns: λ (M), z per pair, μ per tie item
    a = np.zeros((nv, nv))
    b = np.zeros(nv)
    r = np.arange(npair)
    # γ_ij + λ_j − μ_i = 0
    srv = pj > 0
    a[r[srv], pj[srv] - 1] = 1.0
    a[r, m + npair + pi] = -1.0
    b[r] = -gam[ti[pi], pj]
    # Σ_j z_ij = 1
    a[npair + pi, m + r] = 1.0
    b[npair : npair + nt] = 1.0
    # λ_j / (2 w_j) − Σ s_i z_ij = base_j
    row0 = npair + nt
    a[row0 + np.arange(m), np.arange(m)] = 0.5 / w
    a[row0 + pj[srv] - 1, m + r[srv]] = -s[ti[pi[srv]]]
    b[row0 : row0 + m] = base
    try:
        sol = np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        sol = np.linalg.lstsq(a, b, rcond=None)[0]
    lam = sol[:m]
    if not np.all(np.isfinite(lam)):
        return None
    z = sol[m : m + npair]
    return lam, bool(np.all(z >= -1e-9)) and _cheapest(gam, lam, tied)


def _cheapest(gam: np.ndarray, lam: np.ndarray, tied: np.ndarray) -> bool:
    """True when, at λ, every option marked in ``tied`` is among its item's cheapest (1e-9 rel.)."""
    x = gam.copy()
    x[:, 1:] += lam
    mn = x.min(1)
    slack = np.where(tied, x - mn[:, None], 0.0)
    return bool(np.all(slack <= 1e-9 * (1.0 + np.abs(mn)[:, None])))


def _dual(
    gam: np.ndarray,
    s: np.ndarray,
    cost0: float,
    load0: np.ndarray,
    w: np.ndarray,
    lam: np.ndarray,
    tau_start: float,
    tau_stop: float,
    stop_at: float = np.inf,
) -> _Dual:
    """Maximise q(λ) = cost0 + λ·load0 + Σ_i s_i min_j (γ_ij + λ_j) − Σ_j λ_j²/(4 w_j) (module doc).

    gam: ``(k, M+1)`` unit costs γ_ij = c_ij / s_i of the free items, ``inf`` for excluded options;
    s: ``(k,)`` their √F (normalised); cost0, load0: cost and server loads of the fixed items.
    Newton's method on the smoothed dual for τ = tau_start, tau_start/10, …, tau_stop (absolute,
    in units of γ), Armijo backtracking; after each stage the tie structure read off the smoothed
    solution is solved exactly (:func:`_kkt`), which ends the search when it is consistent (the
    relaxation is then solved to machine precision).  Returns the multipliers with the best *exact*
    q seen; stops early once q reaches ``stop_at`` (the node is pruned).
    """
    m = w.shape[0]
    inv2w = 0.5 / w
    lam = lam.copy()
    best_q, best_lam = -np.inf, lam.copy()
    iters = 0

    def exact(lam_):
        x = gam.copy()
        x[:, 1:] += lam_
        mn = x.min(1)
        return x, mn, cost0 + lam_ @ load0 + s @ mn - lam_ @ (lam_ * 0.5 * inv2w)

    def evaluate(lam_, tau):
        x, mn, q_exact = exact(lam_)
        e = np.exp(-(x - mn[:, None]) / tau)
        z = e.sum(1)
        q_tau = q_exact - tau * (s @ np.log(z))
        return x, mn, q_exact, q_tau, e / z[:, None]

    tau = tau_start
    while True:
        x, mn, q_exact, q_tau, p = evaluate(lam, tau)
        for _ in range(_NEWTON_MAX):
            if q_exact > best_q:
                best_q, best_lam = q_exact, lam.copy()
                if best_q >= stop_at:
                    return _finish_dual(gam, best_lam, best_q, iters)
            ps = p[:, 1:] * s[:, None]  # (k, M)
            grad = load0 + ps.sum(0) - lam * inv2w
            hess = ps.T @ p[:, 1:] / tau  # Σ s p pᵀ / τ
            hess[np.diag_indices(m)] -= ps.sum(0) / tau + inv2w  # − Σ s diag(p) / τ − 1/(2w)
            try:
                d = np.linalg.solve(-hess, grad)
            except np.linalg.LinAlgError:
                d = grad / inv2w
            dec = grad @ d
            if not dec > 1e-14 * (1.0 + abs(q_tau)):
                break
            step = 1.0
            while True:
                iters += 1
                lam_new = lam + step * d
                xn, mnn, qe_n, qt_n, pn = evaluate(lam_new, tau)
                if qt_n >= q_tau + 1e-4 * step * dec or step < 1e-12:
                    break
                step *= 0.5
            if qt_n < q_tau:  # no progress possible at this precision
                break
            lam, x, mn, q_exact, q_tau, p = lam_new, xn, mnn, qe_n, qt_n, pn
            if dec < 1e-3 * tau * s.sum():  # close enough for this τ: try the exact finish
                break
        if q_exact > best_q:
            best_q, best_lam = q_exact, lam.copy()
        if best_q >= stop_at:
            break
        # exact finish on the tie structure of the smoothed solution
        found = _kkt(gam, s, load0, w, x, mn, 20.0 * tau, 4 * m + 8)
        if found is not None:
            iters += 1
            lam_k, consistent = found
            qk = exact(lam_k)[2]
            if qk > best_q:
                best_q, best_lam = qk, lam_k
            if consistent:  # q(λ_k) is the relaxation optimum: nothing left to gain
                break
        if best_q >= stop_at or tau <= tau_stop:
            break
        tau *= _TAU_FACTOR
    return _finish_dual(gam, best_lam, best_q, iters)


def _finish_dual(gam, lam, q, iters) -> _Dual:
    x = gam.copy()
    x[:, 1:] += lam
    return _Dual(lam=lam, bound=float(q), x=x, argmin=x.argmin(1), iterations=iters)


# --------------------------------------------------------------------- one sample
def _objective(a: np.ndarray, c: np.ndarray, s: np.ndarray, w: np.ndarray) -> float:
    loads = np.bincount(a, weights=s, minlength=w.shape[0] + 1)[1:]
    return float(c[np.arange(a.shape[0]), a].sum() + w @ (loads * loads))


def _subset_min(delta: float, kap: np.ndarray, sig: np.ndarray, w: float, max_nodes: int = 20_000, cap: float = np.inf):
    """A lower bound on min_S Σ_{m∈S} κ_m + w (δ + Σ_{m∈S} σ_m)² over subsets S (κ ≥ 0), and S.

    Depth-first search over the candidates in order of κ/|σ|, pruned by the continuous relaxation
    of the rest (move the deviation toward 0 with the cheapest κ per unit |σ| first, while that
    price is below the square's slope 2 w |D|).  Exact unless ``max_nodes`` is reached; then the
    continuous relaxation at the root (still a valid lower bound) and S = None are returned.
    With ``cap`` the search only looks below it: the value is then min(minimum, cap) (and S is
    only meaningful below cap).  Returns ``(value, S as an index array into the candidates, or None)``.
    """
    if kap.size == 0:
        return min(w * delta * delta, cap), np.empty(0, dtype=np.int64)
    order = np.argsort(kap / np.abs(sig), kind="stable")
    kap_l = kap[order].tolist()
    sig_l = sig[order].tolist()
    n = len(kap_l)

    def relax(d: float, k: float, start: int) -> float:
        x = abs(d)
        if x == 0.0:
            return k
        want_pos = d < 0
        for m in range(start, n):
            if (sig_l[m] > 0) != want_pos:
                continue
            size = abs(sig_l[m])
            rho = kap_l[m] / size
            if rho >= 2.0 * w * x:
                break
            y = min(size, x - rho / (2.0 * w))
            k += rho * y
            x -= y
            if y < size:
                break
        return k + w * x * x

    best, best_set = min(w * delta * delta, cap), ()
    nodes = 0
    stack = [(0, delta, 0.0, ())]
    while stack:
        i, d, k, chosen = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            return min(relax(delta, 0.0, 0), best), None
        v = k + w * d * d
        if v < best:
            best, best_set = v, chosen
        if i >= n or relax(d, k, i) >= best:
            continue
        stack.append((i + 1, d, k, chosen))
        if k + kap_l[i] < best:
            stack.append((i + 1, d + sig_l[i], k + kap_l[i], chosen + (i,)))
    return best, order[list(best_set)]


@dataclass
class _Granularity:
    """Per-server data of the granularity bound (:func:`_server_bound`) at one λ and charge split."""

    o: np.ndarray  # (N,) cheapest option at λ
    delta: np.ndarray  # (M,) L_j(o) − L̂_j
    kap: list  # per server: charges of its candidate moves
    sig: list  # per server: their signed load changes
    w: np.ndarray  # (M,)
    beta: np.ndarray  # (M,) β_j

    def shifted(self, j: int, shift: float, cap: float) -> float:
        """min(β_j with server j's deviation moved by ``shift``, cap): a forced IoTD's load."""
        d = float(self.delta[j] + shift)
        lim = min(self.w[j] * d * d, cap)
        use = self.kap[j] < lim
        return _subset_min(d, self.kap[j][use], self.sig[j][use], float(self.w[j]), 2_000, cap)[0]


def _server_bound(
    red: np.ndarray, x: np.ndarray, s: np.ndarray, w: np.ndarray, lam: np.ndarray, theta: float = 0.5
) -> _Granularity:
    """β ``(M,)`` ≥ 0 with min_a f(a) ≥ q(λ) + Σ_j β_j: the granularity the relaxation ignores.

    By the identity f(a) = q(λ) + Σ_i r_i(a_i) + Σ_j w_j (L_j(a) − L̂_j)² (L̂ = λ/(2w), module doc),
    with o_i the cheapest option at λ: an IoTD moving o_i → k pays r_ik; charge θ·min_{k'≥1} r_ik'
    (or r_i0 if smaller: a move to local is charged there alone) to server o_i ("leave") and
    (1 − θ) r_ik to server k ("join"; all of r_ik when o_i is local).  The charges never exceed the
    moves' costs, so f(a) − q(λ) ≥ Σ_j [charges_j + w_j (L_j(a) − L̂_j)²] ≥ Σ_j β_j, where β_j is a
    one-server subset problem (:func:`_subset_min`) over the moves whose charge is below w_j δ_j²
    (δ_j = L_j(o) − L̂_j; a dearer move can never beat moving nothing).  Valid for every θ ∈ [0, 1).
    An IoTD forced o_i → k pays r_ik and leaves every other server's β_j valid, so
    q(λ) + r_ik + Σ_{j ∉ {o_i, k}} β_j bounds every solution with a_i = k; servers o_i and k add
    their subset problems with the deviation shifted by ∓s_i (:meth:`_Granularity.shifted`; the
    forced IoTD may stay among the candidates: a larger set only lowers the minimum).
    """
    n, m1 = red.shape
    o = x.argmin(1)
    r = red.copy()
    r[np.arange(n), o] = np.inf
    r_srv = r[:, 1:].min(1)
    fin = np.isfinite(r_srv)
    leave = np.minimum(np.where(fin, theta * np.where(fin, r_srv, 0.0), np.inf), r[:, 0])  # no 0·inf
    loads = np.bincount(o, weights=s, minlength=m1)[1:]
    delta = loads - lam / (2.0 * w)
    beta = np.zeros(m1 - 1)
    kaps, sigs = [], []
    for j in range(m1 - 1):
        rj = r[:, j + 1]
        join = np.where((o == 0) | ~np.isfinite(rj), rj, (1.0 - theta) * np.where(np.isfinite(rj), rj, 0.0))
        lv = np.flatnonzero((o == j + 1) & np.isfinite(leave))
        jn = np.flatnonzero((o != j + 1) & np.isfinite(join))
        kap = np.concatenate([leave[lv], join[jn]])
        sig = np.concatenate([-s[lv], s[jn]])
        kaps.append(kap)
        sigs.append(sig)
        use = kap < w[j] * delta[j] ** 2
        beta[j] = _subset_min(float(delta[j]), kap[use], sig[use], float(w[j]))[0]
    return _Granularity(o=o, delta=delta, kap=kaps, sig=sigs, w=w, beta=beta)


def _one_opt(a: np.ndarray, c: np.ndarray, s: np.ndarray, w: np.ndarray, max_rounds: int = 10_000) -> np.ndarray:
    """Best single-IoTD moves until none improves (the move deltas of
    :func:`dirs.solvers.local_search.move_deltas`, one sample)."""
    a = a.copy()
    n, m1 = c.shape
    w0 = np.concatenate(([0.0], w))
    rows = np.arange(n)
    for _ in range(max_rounds):
        loads = np.bincount(a, weights=s, minlength=m1)
        remove = c[rows, a] + w0[a] * (2.0 * loads[a] * s - s * s)
        add = c + w0 * (2.0 * loads[None, :] * s[:, None] + (s * s)[:, None])
        delta = add - remove[:, None]
        delta[rows, a] = 0.0
        k = int(delta.argmin())
        if not delta.flat[k] < -1e-13 * (1.0 + abs(remove).sum()):
            break
        a[k // m1] = k % m1
    return a


def _swap_search(a: np.ndarray, c: np.ndarray, s: np.ndarray, w: np.ndarray, max_rounds: int = 10_000) -> np.ndarray:
    """Best single-IoTD move or pair exchange (i: j → k, l: k → j) until none improves.

    The exchange's change is Δc + w_j (2 L_j δ + δ²) + w_k (δ² − 2 L_k δ) with δ = s_l − s_i (local
    has w = 0); every pair at once, ``(N, N)`` arrays.
    """
    a = _one_opt(a, c, s, w, max_rounds)
    n, m1 = c.shape
    w0 = np.concatenate(([0.0], w))
    rows = np.arange(n)
    delta_s = s[None, :] - s[:, None]  # δ for (i, l)
    ds2 = delta_s * delta_s
    for _ in range(max_rounds):
        loads = np.bincount(a, weights=s, minlength=m1)
        cur = c[rows, a]
        to = c[:, a]  # (i, l): c[i, a_l]
        dc = to - cur[:, None] + to.T - cur[None, :]
        wj, wk = w0[a][:, None], w0[a][None, :]
        lj, lk = loads[a][:, None], loads[a][None, :]
        dq = wj * (2.0 * lj * delta_s + ds2) + wk * (ds2 - 2.0 * lk * delta_s)
        delta = dc + dq
        delta[a[:, None] == a[None, :]] = 0.0
        k = int(delta.argmin())
        if not delta.flat[k] < -1e-13 * (1.0 + np.abs(cur).sum()):
            break
        i, other = divmod(k, n)
        a[i], a[other] = a[other], a[i]
        a = _one_opt(a, c, s, w, max_rounds)
    return a


def _core_milp(
    red: np.ndarray,
    s: np.ndarray,
    dev0: np.ndarray,
    w: np.ndarray,
    tol: float,
    time_limit_s: float,
    ub_core: float,
    grid: int = 15,
    focus: np.ndarray | None = None,
):
    """Solve the core left after fixing: min Σ_i r_{i,a_i} + Σ_j w_j (D_j + Σ_{i: a_i=j} s_i)², D = dev0.

    By the identity f(a) = q(λ) + Σ_i r_i(a_i) + Σ_j w_j (L_j(a) − λ_j/(2 w_j))² (module doc) this is
    the original problem on the free IoTDs (red: ``(k, M+1)`` reduced costs, ``inf`` = excluded;
    dev0 = fixed loads − λ/(2w); ub_core: the incumbent's core value).  HiGHS
    (:func:`scipy.optimize.milp`) on an outer approximation:
    y_j ≥ tangents of w_j D_j² (a grid, then lazily at each solution's D until tight).  Returns
    ``(choice (k,), core objective, lower bound on the core optimum, finished)``.
    focus: ``(M,)`` deviations to put extra tangent points around (:data:`_FOCUS_OFFSETS`): fewer
    lazy rounds, each of which is a fresh HiGHS solve.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix, vstack

    t0 = time.perf_counter()
    k, m1 = red.shape
    m = m1 - 1
    # scale the core so its values are O(1e3): HiGHS's absolute tolerances (~1e-7) then stay far
    # below ``tol`` in the original units
    kappa = float(np.clip(1e3 / max(ub_core, 1e-300), 1e-3, 1e9))
    red_s, w_s = red * kappa, w * kappa
    pi, pj = np.nonzero(np.isfinite(red))
    nv = pi.size
    srv = pj > 0
    # variables: x (pairs), y_j (≥ w_j D_j²), D_j (server j's load deviation, free)
    nvar = nv + 2 * m
    cost = np.concatenate([red_s[pi, pj], np.ones(m), np.zeros(m)])
    integrality = np.concatenate([np.ones(nv), np.zeros(2 * m)])
    bounds = Bounds(
        np.concatenate([np.zeros(nv + m), np.full(m, -np.inf)]), np.concatenate([np.ones(nv), np.full(2 * m, np.inf)])
    )
    assign = LinearConstraint(coo_matrix((np.ones(nv), (pi, np.arange(nv))), shape=(k, nvar)), 1.0, 1.0)
    # D_j − Σ_i s_i x_ij = dev0_j
    sel = np.flatnonzero(srv)
    dmat = coo_matrix(
        (
            np.concatenate([np.ones(m), -s[pi[sel]]]),
            (np.concatenate([np.arange(m), pj[sel] - 1]), np.concatenate([nv + m + np.arange(m), sel])),
        ),
        shape=(m, nvar),
    )
    define = LinearConstraint(dmat, dev0, dev0)

    def cuts(points):  # points: list of (j, t): y_j ≥ w_j (2 t D_j − t²)  ⇔  2 w_j t D_j − y_j ≤ w_j t²
        j = np.array([p[0] for p in points], dtype=np.int64)
        t = np.array([p[1] for p in points])
        r = np.arange(len(points))
        mat = coo_matrix(
            (
                np.concatenate([2.0 * w_s[j] * t, -np.ones(len(points))]),
                (np.concatenate([r, r]), np.concatenate([nv + m + j, nv + j])),
            ),
            shape=(len(points), nvar),
        )
        return mat.tocsr(), w_s[j] * t * t

    reach = np.abs(dev0) + 2.0 * s.max()
    points = [(j, float(t)) for j in range(m) for t in np.linspace(-reach[j], reach[j], 2 * grid + 1)]
    if focus is not None:  # the optimum's deviations are usually near the incumbent's
        offs = np.concatenate([[0.0], np.outer([1.0, -1.0], _FOCUS_OFFSETS).ravel()]) * float(s.mean())
        points += [(j, float(focus[j] + o)) for j in range(m) for o in offs]
    mats, ubs = [], []
    best, best_val, bound, finished = None, np.inf, -np.inf, False
    factor = 0.5
    errors = 0
    while True:
        mat, ub = cuts(points)
        mats.append(mat)
        ubs.append(ub)
        left = time_limit_s - (time.perf_counter() - t0)
        if left <= 0:
            break
        gap = factor * tol / max(min(best_val, ub_core), 1e-12)
        options = {"time_limit": left, "mip_rel_gap": min(max(gap, 1e-9), 1e-2), "disp": False}
        if errors:
            options["presolve"] = errors % 2 == 0  # after a solve error: the other presolve setting
        res = milp(
            cost,
            integrality=integrality,
            bounds=bounds,
            constraints=[assign, define, LinearConstraint(vstack(mats).tocsr(), -np.inf, np.concatenate(ubs))],
            options=options,
        )
        if res.status == 2:  # infeasible: no core solution at all (the incumbent is optimal)
            return best, best_val, np.inf, True
        if res.status == 4 and errors < 3:  # HiGHS's "solve error": retry the same model
            errors += 1
            points = []
            continue
        if res.x is None:
            break
        bound = max(bound, float(res.mip_dual_bound) / kappa)
        x = res.x[:nv] > 0.5
        choice = np.zeros(k, dtype=np.int64)
        choice[pi[x]] = pj[x]
        d = dev0 + np.bincount(choice, weights=s, minlength=m1)[1:]
        val = float(red[np.arange(k), choice].sum() + w @ (d * d))
        if val < best_val:
            best, best_val = choice, val
        if best_val - bound <= tol:
            finished = True
            break
        if res.status != 0:  # HiGHS hit the time limit
            break
        y = res.x[nv : nv + m] / kappa
        loose = w * d * d > y + max(0.25 * tol / m, 1e-6 / kappa)
        if not loose.any():  # cuts tight but HiGHS's gap not within tol: tighten the gap
            points = []
            factor *= 0.25
            if gap <= 1e-9:
                break
            continue
        points = [(int(j), float(d[j])) for j in np.flatnonzero(loose)]
    return best, best_val, bound, finished


@dataclass
class _Result:
    decision: np.ndarray
    objective: float
    lower_bound: float
    root_bound: float
    nodes: int
    free: int
    proven: bool


def _solve_one(
    c: np.ndarray,
    sf: np.ndarray,
    w_raw: np.ndarray,
    incumbent: np.ndarray,
    rel_gap: float,
    time_limit_s: float,
    node_limit: int,
    core_milp_above: int = 8,
    core_budget: int = 400,
    server_bound: bool = True,
) -> _Result:
    """Certified optimum of one sample: c ``(N, M+1)`` option costs, sf ``(N,)`` √F, w_raw ``(M,)``."""
    t_start = time.perf_counter()
    n, m1 = c.shape
    sigma = float(np.mean(sf))
    s = sf / sigma  # normalised: loads O(N), multipliers O(cost per IoTD)
    w = w_raw * sigma * sigma
    gam = c / s[:, None]
    spread = float(np.median(np.abs(gam))) or 1.0
    tau_stop = _TAU_STOP * spread

    best_a = _swap_search(incumbent, c, s, w)
    ub = _objective(best_a, c, s, w)

    def tol():
        return max(rel_gap, 1e-13) * ub

    # root: the continuous relaxation over every IoTD
    lam0 = 2.0 * w * np.bincount(best_a, weights=s, minlength=m1)[1:]
    root = _dual(gam, s, 0.0, np.zeros(m1 - 1), w, lam0, _TAU_START * spread, tau_stop)
    root_bound = root.bound
    floor = np.inf  # smallest bound of everything discarded
    cand = _swap_search(root.argmin, c, s, w)
    obj = _objective(cand, c, s, w)
    if obj < ub:
        best_a, ub = cand, obj
    if root.bound >= ub - tol():
        return _Result(best_a, ub, min(ub, root.bound), root_bound, 1, 0, True)

    red = (root.x - root.x.min(1, keepdims=True)) * s[:, None]  # r_ij in cost units
    # the per-server granularity bound: a global lower bound besides q
    # (any charge split θ is valid: take the better of two)
    gran = None
    beta = np.zeros(m1 - 1)
    if server_bound:
        gran = max((_server_bound(red, root.x, s, w, root.lam, theta) for theta in _THETAS), key=lambda g: g.beta.sum())
        beta = gran.beta
    global_lb = root.bound + float(beta.sum())
    if global_lb >= ub - tol():
        return _Result(best_a, ub, min(ub, global_lb), root_bound, 1, 0, True)

    # reduced-cost fixing at the root: a_i = j costs ≥ q + r_ij + Σ_{j' ∉ {o_i, j}} β_j' (_server_bound)
    beta0 = np.concatenate(([0.0], beta))  # local has no β
    o = root.x.argmin(1)
    fix_bound = root.bound + red + (beta.sum() - beta0[o][:, None] - beta0[None, :])
    fix_bound[np.arange(n), o] = root.bound  # the cheapest option is never excluded
    excl = fix_bound >= ub - tol()
    if gran is not None:
        # options the two affected servers' subset problems may still exclude
        near = ~excl & (fix_bound + beta0[o][:, None] + beta0[None, :] >= ub - tol())
        # staying at the cheapest option is no move: its bound is global_lb (< ub − tol here), and
        # the shifted subset problems below price a move o_i → k ≠ o_i only
        near[np.arange(n), o] = False
        for i, k in zip(*np.nonzero(near)):
            need = ub - tol() - fix_bound[i, k]
            got = gran.shifted(o[i] - 1, -s[i], need) if o[i] > 0 else 0.0
            if got < need and k > 0:
                got += gran.shifted(k - 1, s[i], need - got)
            if got >= need:
                excl[i, k] = True
                fix_bound[i, k] += got
    if excl.any():
        floor = min(floor, float(fix_bound[excl].min()))
    allowed = ~excl
    nopt = allowed.sum(1)
    if np.any(nopt == 0):  # some IoTD has no option left: nothing beats the incumbent by tol
        return _Result(best_a, ub, min(ub, max(floor, global_lb)), root_bound, 1, 0, True)
    fixed = nopt == 1
    free_idx = np.flatnonzero(~fixed)
    fixed_idx = np.flatnonzero(fixed)
    fix_opt = allowed[fixed_idx].argmax(1)
    cost0 = float(c[fixed_idx, fix_opt].sum())
    load0 = np.bincount(fix_opt, weights=s[fixed_idx], minlength=m1)[1:]
    k = free_idx.size
    base = np.empty(n, dtype=np.int64)
    base[fixed_idx] = fix_opt

    if node_limit <= 1:  # the root alone (solve_bounded)
        return _Result(best_a, ub, min(ub, global_lb), root_bound, 1, k, False)
    root_floor = floor
    nodes = 1
    if k <= core_milp_above:
        # a small core: depth-first branch and bound with the dual bound at every node
        best_a, ub, floor, nodes, status = _branch_and_bound(
            c,
            s,
            w,
            gam,
            spread,
            tau_stop,
            root,
            allowed,
            free_idx,
            base,
            cost0,
            load0,
            best_a,
            ub,
            floor,
            rel_gap,
            t_start,
            time_limit_s,
            node_limit,
            core_budget,
        )
        if status != "budget":
            return _Result(best_a, ub, min(ub, max(floor, global_lb)), root_bound, nodes, k, status == "done")
        floor = root_floor  # the core MILP below re-solves the whole core
    # a large core: HiGHS on the exact reformulation of the free part (module doc)
    tol_abs = max(rel_gap, _MILP_GAP_FLOOR) * ub  # HiGHS's own tolerances are ~1e-9 relative
    red_free = np.where(allowed[free_idx], red[free_idx], np.inf)
    dev0 = load0 - root.lam / (2.0 * w)
    left = time_limit_s - (time.perf_counter() - t_start)
    focus = None
    if rel_gap < _FOCUS_BELOW_GAP:  # the incumbent's load deviations (its core part)
        focus = dev0 + np.bincount(best_a[free_idx], weights=s[free_idx], minlength=m1)[1:]
    choice, val, bound, finished = _core_milp(
        red_free, s[free_idx], dev0, w, tol_abs, left, ub - root.bound, focus=focus
    )
    if choice is not None:
        a = base.copy()
        a[free_idx] = choice
        obj = _objective(a, c, s, w)
        if obj < ub:
            best_a, ub = a, obj
    # bound = +inf: the core has no solution (nothing beats UB − tol); −inf: HiGHS gave no bound
    lb = min(floor, root.bound + bound) if bound > -np.inf else root.bound
    lb = min(ub, max(lb, global_lb))
    return _Result(best_a, ub, lb, root_bound, nodes, k, finished or ub - lb <= tol_abs)


def _branch_and_bound(
    c,
    s,
    w,
    gam,
    spread,
    tau_stop,
    root,
    allowed,
    free_idx,
    base,
    cost0,
    load0,
    best_a,
    ub,
    floor,
    rel_gap,
    t_start,
    time_limit_s,
    node_limit,
    budget,
):
    """Depth-first branch and bound over the free IoTDs (module doc).

    A node = its allowed options ``(k, M+1)``, the parent's multipliers and bound.  Returns
    ``(best decision, its objective, floor, nodes, status)`` with status ``"done"`` (proven),
    ``"limit"`` (time or node limit) or ``"budget"`` (``budget`` nodes spent: hand over to HiGHS).
    """
    g_free = gam[free_idx]
    s_free = s[free_idx]

    def tol():
        return max(rel_gap, 1e-13) * ub

    def price(free_choice):
        a = base.copy()
        a[free_idx] = free_choice
        return a

    stack = [(allowed[free_idx].copy(), root.lam, root.bound)]
    nodes = 1
    while stack:
        if nodes >= budget:
            return best_a, ub, floor, nodes, "budget"
        if nodes >= node_limit or time.perf_counter() - t_start > time_limit_s:
            floor = min(floor, min(b for _, _, b in stack))
            return best_a, ub, floor, nodes, "limit"
        mask, lam, parent_bound = stack.pop()
        if parent_bound >= ub - tol():
            floor = min(floor, parent_bound)
            continue
        nodes += 1
        gm = np.where(mask, g_free, np.inf)
        d = _dual(gm, s_free, cost0, load0, w, lam, _TAU_WARM * spread, tau_stop, stop_at=ub - tol())
        bound = max(d.bound, parent_bound)
        if bound >= ub - tol():
            floor = min(floor, bound)
            continue
        # the dual's rounding: an incumbent candidate
        a = price(d.argmin)
        obj = _objective(a, c, s, w)
        if obj < ub:
            a = _one_opt(a, c, s, w)
            best_a, ub = a, _objective(a, c, s, w)
            if bound >= ub - tol():
                floor = min(floor, bound)
                continue
        # reduced-cost fixing inside the node
        red = (d.x - d.x.min(1, keepdims=True)) * s_free[:, None]
        drop = mask & (d.bound + red >= ub - tol())
        if drop.any():
            floor = min(floor, float((d.bound + red)[drop].min()))
            mask = mask & ~drop
        if not mask.any(1).all():  # an IoTD lost every option: nothing here beats UB − tol
            continue
        open_items = np.flatnonzero(mask.sum(1) > 1)
        if open_items.size == 0:  # every free item has one option left: a leaf
            a = price(mask.argmax(1))
            obj = _objective(a, c, s, w)
            if obj < ub:
                best_a, ub = a, obj
            floor = min(floor, obj)
            continue
        # branch on the most tied open item: smallest second-cheapest reduced cost
        xr = np.where(mask[open_items], red[open_items], np.inf)
        part = np.partition(xr, 1, axis=1)[:, 1]
        i = int(open_items[np.argmin(part)])
        j = int(np.where(mask[i], red[i], np.inf).argmin())
        child_out = mask.copy()
        child_out[i, j] = False
        child_in = mask.copy()
        child_in[i] = False
        child_in[i, j] = True
        stack.append((child_out, d.lam, bound))
        stack.append((child_in, d.lam, bound))
    return best_a, ub, floor, nodes, "done"


# --------------------------------------------------------------------------- public API
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
            a = _assign_one(tables.tx[t], local_tn[t], tables.phi_t * sf[0] ** 2 / tables.mec_cpu_hz)
            obj = _objective(a, opts[t], sf, w_raw)
            res = _Result(a, obj, obj, obj, 0, 0, True)
        else:
            res = _solve_one(opts[t], sf, w_raw, greedy[t], rel_gap, time_limit_s, node_limit, core_milp_above)
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


# ------------------------------------------------------------------- reference: HiGHS MILP
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


__all__ += ["MilpResult", "solve_tangent_milp"]
