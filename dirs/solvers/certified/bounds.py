"""The granularity bound and reduced-cost fixing (docs/design.md §3.3).

Identity: for every λ and every decision a, with reduced costs r_ij = c_ij + λ_j s_i − min_k (c_ik +
λ_k s_i) ≥ 0 (cheapest option o_i, r_{i,o_i} = 0) and L̂ = λ/(2w),

    f(a) = q(λ) + Σ_i r_{i,a_i} + Σ_j w_j (L_j(a) − L̂_j)².

*Granularity bound* (:func:`server_bound`): the relaxation balances loads with fractions of IoTDs,
integers cannot.  An IoTD moving o_i → k pays r_ik; charge ``leave_i = min(θ·min_{k'≥1, k'≠o_i} r_ik',
r_i0)`` to server o_i and ``(1 − θ) r_ik`` to server k (all of r_ik when o_i is local).  A move to a
server is charged leave_i + (1 − θ) r_ik ≤ θ r_ik + (1 − θ) r_ik = r_ik, a move to local leave_i ≤
r_i0: the charges never exceed the moves' costs, so f(a) − q(λ) ≥ Σ_j [charges_j(a) + w_j (L_j(a) −
L̂_j)²] ≥ Σ_j β_j with β_j = min over subsets S of server j's candidate moves of Σ_S κ + w_j (δ_j +
Σ_S σ)² (δ_j = L_j(o) − L̂_j; a move with κ ≥ w_j δ_j² never beats moving nothing and is left out).
Valid for every θ ∈ [0, 1).

*Fixing* (:func:`fix_options`): every a with a_i = k ≠ o_i costs at least q + r_ik + Σ_{j ∉ {o_i,
k}} β_j (server j's charges and load do not involve IoTD i), plus, for servers o_i and k, their subset
problems with the deviation shifted by ∓s_i (the forced IoTD may stay among the candidates: a larger
set only lowers the minimum).  An option whose bound prunes (:func:`dirs.solvers.certified.problem.prunes`)
is excluded; the cheapest option o_i is never priced as a move (its bound is the global one).

Every β_j is lowered by the rounding of its subset sums (:func:`_subset_margin`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dirs.solvers.certified.problem import prunes, rounding, safe

#: Charge splits θ tried by the granularity bound (the better one is kept).
THETAS = (0.5, 0.75)


def _relax(d: float, k: float, start: int, kap_l: list, sig_l: list, w: float) -> float:
    """Continuous relaxation of the subset problem over candidates ``start..`` (sorted by κ/|σ|):
    move the deviation toward 0 with the cheapest κ per unit |σ| first while that price is below the
    square's slope 2 w |d| (exact for fractional moves; moves away from 0 never help)."""
    x = abs(d)
    if x == 0.0:
        return k
    want_pos = d < 0
    for m in range(start, len(kap_l)):
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


def subset_min(delta: float, kap: np.ndarray, sig: np.ndarray, w: float, max_nodes: int = 20_000, cap: float = np.inf):
    """A lower bound on min_S Σ_{m∈S} κ_m + w (δ + Σ_{m∈S} σ_m)² over subsets S (κ ≥ 0), and S.

    Depth-first search in order of κ/|σ|, pruned by :func:`_relax`.  Exact unless ``max_nodes`` is
    reached; then the root's continuous relaxation (a valid lower bound) and S = None.  With ``cap``
    only values below it are searched: the result is min(minimum, cap).  Returns
    ``(value, S as an index array into the candidates, or None)``.
    """
    if kap.size == 0:
        return min(w * delta * delta, cap), np.empty(0, dtype=np.int64)
    order = np.argsort(kap / np.abs(sig), kind="stable")
    kap_l, sig_l = kap[order].tolist(), sig[order].tolist()
    n = len(kap_l)
    best, best_set = min(w * delta * delta, cap), ()
    nodes = 0
    stack = [(0, delta, 0.0, ())]
    while stack:
        i, d, k, chosen = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            return min(_relax(delta, 0.0, 0, kap_l, sig_l, w), best), None
        v = k + w * d * d
        if v < best:
            best, best_set = v, chosen
        if i >= n or _relax(d, k, i, kap_l, sig_l, w) >= best:
            continue
        stack.append((i + 1, d, k, chosen))
        if k + kap_l[i] < best:
            stack.append((i + 1, d + sig_l[i], k + kap_l[i], chosen + (i,)))
    return best, order[list(best_set)]


def _subset_margin(delta: float, kap: np.ndarray, sig: np.ndarray, w: float, err_delta: float) -> float:
    """Rounding bound of any subset value Σ κ + w (δ + Σ σ)² of these candidates, δ itself known to
    ±``err_delta``: every deviation stays within D = |δ| + Σ|σ| + err, so the error is at most
    w (2D + err)·err + rounding of n + 2 terms of size Σκ + w D²."""
    dev = abs(delta) + float(np.abs(sig).sum()) + err_delta
    return w * (2.0 * dev + err_delta) * err_delta + rounding(kap.size + 2, float(kap.sum()) + w * dev * dev)


@dataclass
class Granularity:
    """Per-server data of the granularity bound at one λ and charge split (:func:`server_bound`)."""

    o: np.ndarray  # (N,) cheapest option at λ
    s: np.ndarray  # (N,) normalised √F: the load each IoTD carries
    delta: np.ndarray  # (M,) L_j(o) − L̂_j
    err: np.ndarray  # (M,) rounding bound of delta
    kap: list  # per server: charges of its candidate moves
    sig: list  # per server: their signed load changes
    w: np.ndarray  # (M,)
    beta: np.ndarray  # (M,) β_j, lowered by its rounding margin

    def shifted(self, j: int, shift: float, cap: float) -> float:
        """A lower bound on min(β_j with server j's deviation moved by ``shift``, cap): a forced IoTD."""
        d = float(self.delta[j] + shift)
        w = float(self.w[j])
        use = self.kap[j] < min(w * d * d, cap)
        kap, sig = self.kap[j][use], self.sig[j][use]
        err = float(self.err[j] + rounding(1, abs(shift)))
        value = subset_min(d, kap, sig, w, 2_000, cap)[0]
        return max(0.0, value - _subset_margin(d, kap, sig, w, err))


def server_bound(red: np.ndarray, x: np.ndarray, s: np.ndarray, w: np.ndarray, lam: np.ndarray, theta: float = 0.5):
    """:class:`Granularity` with β ``(M,)`` ≥ 0 such that min_a f(a) ≥ q(λ) + Σ_j β_j (module doc).

    red: ``(N, M+1)`` reduced costs at λ (already lowered by their rounding); x: the prices γ + λ
    whose argmin is o.
    """
    n, m1 = red.shape
    o = x.argmin(1)
    r = red.copy()
    r[np.arange(n), o] = np.inf
    r_srv = r[:, 1:].min(1)
    fin = np.isfinite(r_srv)
    leave = np.minimum(np.where(fin, theta * np.where(fin, r_srv, 0.0), np.inf), r[:, 0])  # no 0·inf
    loads = np.bincount(o, weights=s, minlength=m1)[1:]
    lhat = lam / (2.0 * w)
    delta = loads - lhat
    err = rounding(n + 2, loads + np.abs(lhat))
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
        value = subset_min(float(delta[j]), kap[use], sig[use], float(w[j]))[0]
        beta[j] = max(0.0, value - _subset_margin(float(delta[j]), kap[use], sig[use], float(w[j]), float(err[j])))
    return Granularity(o=o, s=s, delta=delta, err=err, kap=kaps, sig=sigs, w=w, beta=beta)


def best_server_bound(red, x, s, w, lam) -> Granularity:
    """The granularity bound of the charge split in :data:`THETAS` with the largest Σ β."""
    return max((server_bound(red, x, s, w, lam, theta) for theta in THETAS), key=lambda g: g.beta.sum())


def fix_options(q: float, red: np.ndarray, gran: Granularity | None, ub: float, tol: float):
    """Reduced-cost fixing at the root (module doc): ``(excluded (N, M+1) bool, their bounds)``.

    ``fix_bound[i, k]`` is a valid lower bound on every decision with a_i = k; an option is
    excluded when that bound prunes against the incumbent ``ub`` with tolerance ``tol``.
    """
    n = red.shape[0]
    m = red.shape[1] - 1
    beta = gran.beta if gran is not None else np.zeros(m)
    beta0 = np.concatenate(([0.0], beta))  # local has no β
    o = red.argmin(1) if gran is None else gran.o
    rows = np.arange(n)
    fix_bound = q + red + (beta.sum() - beta0[o][:, None] - beta0[None, :])
    fix_bound[rows, o] = q + beta.sum()  # staying put: the global bound (never pruned here)
    excl = prunes(fix_bound, ub, tol)
    excl[rows, o] = False
    if gran is not None:  # options the two affected servers' shifted subset problems may still exclude
        near = ~excl & prunes(fix_bound + beta0[o][:, None] + beta0[None, :], ub, tol)
        near[rows, o] = False  # staying at the cheapest option is no move
        for i, k in zip(*np.nonzero(near)):
            need = ub - tol - safe(fix_bound[i, k])
            got = gran.shifted(o[i] - 1, -gran.s[i], need) if o[i] > 0 else 0.0
            if got < need and k > 0:
                got += gran.shifted(k - 1, gran.s[i], need - got)
            if got >= need:
                excl[i, k] = True
                fix_bound[i, k] += got
    return excl, fix_bound
