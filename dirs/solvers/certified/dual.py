"""The Lagrangian dual bound q(λ) of docs/design.md §3.3 and its maximisation.

For the free IoTDs of a node (unit costs γ ``(k, M+1)``, ``inf`` = excluded option; normalised √F
``s``) and the fixed ones (cost ``cost0``, server loads ``load0``), with w L² = max_μ (μ L − μ²/(4w)):

    q(λ) = cost0 + λ·load0 + Σ_i s_i min_j (γ_ij + λ_j) − Σ_j λ_j² / (4 w_j)  ≤  min_a f(a)

for *every* λ ∈ R^M (λ_0 = 0 for local).  max_λ q(λ) is the continuous relaxation.  :func:`maximise`
runs Newton's method on the entropy-smoothed dual (temperature τ decreasing geometrically), and
after each stage solves the KKT system of the tie structure read off the smoothed point exactly
(:func:`_kkt`).  The bound returned is the exact q at the best multipliers reached, lowered by its
rounding margin (:func:`dirs.solvers.certified.problem.rounding`): valid whatever the accuracy of λ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dirs.solvers.certified.problem import rounding

_TAU_FACTOR = 1e-1
_NEWTON_MAX = 25


@dataclass
class Dual:
    """Multipliers reached and what the node needs of them."""

    lam: np.ndarray
    """(M,) multipliers."""
    bound: float
    """q(λ) lowered by its rounding margin: a valid lower bound on the node's optimum."""
    x: np.ndarray
    """(k, M+1) reduced prices γ_ij + λ_j (inf where excluded)."""
    iterations: int

    @property
    def argmin(self) -> np.ndarray:
        """(k,) cheapest allowed option of each IoTD at λ."""
        return self.x.argmin(1)

    def reduced(self, s: np.ndarray) -> np.ndarray:
        """(k, M+1) reduced costs r_ij = (x_ij − min_j x_ij)·s_i ≥ 0, each lowered by its rounding
        (so a bound q + r_ij is never above the exact one); 0 at the cheapest option."""
        mn = self.x.min(1, keepdims=True)
        with np.errstate(invalid="ignore"):
            r = (self.x - mn) * s[:, None]
            r -= rounding(2, (np.abs(self.x) + np.abs(mn)) * s[:, None])
        return np.where(np.isnan(r), np.inf, np.maximum(r, 0.0))


class DualProblem:
    """One node's dual: unit costs γ ``(k, M+1)`` of its free IoTDs (``inf`` = excluded option),
    their normalised √F ``s``, the cost ``cost0`` and server loads ``load0`` of its fixed IoTDs, the
    server weights ``w``; q(λ) and its smoothed version (module doc)."""

    def __init__(self, gam, s, cost0, load0, w):
        self.gam, self.s, self.cost0, self.load0, self.w, self.inv2w = gam, s, cost0, load0, w, 0.5 / w

    def exact(self, lam):
        """``(x, min_j x, q(λ) lowered by its rounding margin)``."""
        x = self.gam.copy()
        x[:, 1:] += lam
        mn = x.min(1)
        quad = lam * lam * 0.5 * self.inv2w
        q = self.cost0 + lam @ self.load0 + self.s @ mn - quad.sum()
        size = abs(self.cost0) + np.abs(lam) @ np.abs(self.load0) + self.s @ np.abs(mn) + quad.sum()
        return x, mn, float(q - rounding(mn.size + 2 * lam.size + 1, size))

    def smoothed(self, lam, tau):
        """``(x, mn, q, q_τ, p)``: q_τ = q − τ Σ_i s_i log Σ_j exp(−(x_ij − mn_i)/τ) and the softmin p."""
        x, mn, q = self.exact(lam)
        e = np.exp(-(x - mn[:, None]) / tau)
        z = e.sum(1)
        return x, mn, q, q - tau * (self.s @ np.log(z)), e / z[:, None]

    def newton_step(self, lam, p, tau):
        """Gradient and Newton direction of the smoothed dual at λ."""
        ps = p[:, 1:] * self.s[:, None]  # (k, M)
        grad = self.load0 + ps.sum(0) - lam * self.inv2w
        hess = ps.T @ p[:, 1:] / tau  # Σ s p pᵀ / τ
        hess[np.diag_indices(lam.size)] -= ps.sum(0) / tau + self.inv2w
        try:
            d = np.linalg.solve(-hess, grad)
        except np.linalg.LinAlgError:
            d = grad / self.inv2w
        return grad, d


def _kkt(gam, s, load0, w, x, mn, width: float, max_pairs: int):
    """Exact relaxation optimum for a guessed tie structure: ``(λ, consistent)`` or None.

    Options within ``width`` of an item's cheapest price are taken as tied; the KKT conditions of the
    relaxation on that structure are linear — γ_ij + λ_j = μ_i (j tied for i, λ_0 = 0), Σ_j z_ij = 1,
    λ_j / (2 w_j) = load of server j — and solved as one system.  ``consistent``: the solution is
    primal feasible (z ≥ 0) and every assumed option is among its item's cheapest at the new λ, so q
    there is the relaxation optimum.  Only a candidate: its q is evaluated exactly by the caller.
    """
    m = w.shape[0]
    tied = x <= mn[:, None] + width
    multi = tied.sum(1) > 1
    ti = np.flatnonzero(multi)
    o = x.argmin(1)
    base = load0 + np.bincount(o[~multi], weights=s[~multi], minlength=m + 1)[1:]
    if ti.size == 0:
        lam = 2.0 * w * base
        return lam, _cheapest(gam, lam, tied)
    pi, pj = np.nonzero(tied[ti])
    if pi.size > max_pairs:
        return None
    npair, nt = pi.size, ti.size
    nv = m + npair + nt  # unknowns: λ (M), z per pair, μ per tie item
    a = np.zeros((nv, nv))
    b = np.zeros(nv)
    r = np.arange(npair)
    srv = pj > 0
    a[r[srv], pj[srv] - 1] = 1.0  # γ_ij + λ_j − μ_i = 0
    a[r, m + npair + pi] = -1.0
    b[r] = -gam[ti[pi], pj]
    a[npair + pi, m + r] = 1.0  # Σ_j z_ij = 1
    b[npair : npair + nt] = 1.0
    row0 = npair + nt  # λ_j / (2 w_j) − Σ s_i z_ij = base_j
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
    return lam, bool(np.all(sol[m : m + npair] >= -1e-9)) and _cheapest(gam, lam, tied)


def _cheapest(gam: np.ndarray, lam: np.ndarray, tied: np.ndarray) -> bool:
    """True when, at λ, every option marked in ``tied`` is among its item's cheapest (1e-9 rel.)."""
    x = gam.copy()
    x[:, 1:] += lam
    mn = x.min(1)
    slack = np.where(tied, x - mn[:, None], 0.0)
    return bool(np.all(slack <= 1e-9 * (1.0 + np.abs(mn)[:, None])))


def maximise(qf: DualProblem, lam, tau_start: float, tau_stop: float, stop_at: float = np.inf) -> Dual:
    """Maximise q(λ) of ``qf`` (module doc) from ``lam``; stops early once the bound reaches ``stop_at``.

    τ = tau_start, tau_start/10, …, tau_stop (absolute, in units of γ).  Returns the multipliers with
    the best (safe) exact q seen.
    """
    gam, s, load0, w = qf.gam, qf.s, qf.load0, qf.w
    best = [-np.inf, lam.copy()]
    iters = 0
    tau = tau_start
    lam = lam.copy()
    while True:
        lam, x, mn, n_it = _newton(qf, lam, tau, best, stop_at)
        iters += n_it
        if best[0] >= stop_at:
            break
        found = _kkt(gam, s, load0, w, x, mn, 20.0 * tau, 4 * w.shape[0] + 8)
        if found is not None:  # exact finish on the tie structure of the smoothed solution
            iters += 1
            qk = qf.exact(found[0])[2]
            if qk > best[0]:
                best[:] = [qk, found[0]]
            if found[1]:  # q(λ_k) is the relaxation optimum: nothing left to gain
                break
        if best[0] >= stop_at or tau <= tau_stop:
            break
        tau *= _TAU_FACTOR
    x = gam.copy()
    x[:, 1:] += best[1]
    return Dual(lam=best[1], bound=float(best[0]), x=x, iterations=iters)


def _newton(qf: DualProblem, lam, tau, best: list, stop_at: float):
    """Newton iterations with Armijo backtracking on the smoothed dual at temperature τ; updates
    ``best`` = [bound, λ] in place.  Returns ``(λ, x, mn, iterations)``."""
    x, mn, q, q_tau, p = qf.smoothed(lam, tau)
    iters = 0
    for _ in range(_NEWTON_MAX):
        if q > best[0]:
            best[:] = [q, lam.copy()]
            if q >= stop_at:
                break
        grad, d = qf.newton_step(lam, p, tau)
        dec = grad @ d
        if not dec > 1e-14 * (1.0 + abs(q_tau)):
            break
        step = 1.0
        while True:
            iters += 1
            trial = qf.smoothed(lam + step * d, tau)
            if trial[3] >= q_tau + 1e-4 * step * dec or step < 1e-12:
                break
            step *= 0.5
        if trial[3] < q_tau:  # no progress possible at this precision
            break
        lam = lam + step * d
        x, mn, q, q_tau, p = trial
        if dec < 1e-3 * tau * qf.s.sum():  # close enough for this τ: try the exact finish
            break
    if q > best[0]:
        best[:] = [q, lam.copy()]
    return lam, x, mn, iters


__all__ = ["Dual", "DualProblem", "maximise"]
