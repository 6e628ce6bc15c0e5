"""An independent reference for one channel sample: own pricing, brute force, own HiGHS model.

Nothing here imports :mod:`dirs.solvers`, :mod:`dirs.system.allocation` or :mod:`dirs.system.cost`;
only the fields of a :class:`~dirs.system.params.SystemParams` are read.  The model (docs/design.md
§1, §2, §9): IoTD i pays c_i0 locally or c_ij offloading to server j, and server j's compute cost
with the optimal CPU split is φT (Σ_{i→j} √C_i)² / F_j, so one sample's objective is

    f(a) = Σ_i c_{i,a_i} + Σ_j w_j L_j(a)²,     L_j(a) = Σ_{i: a_i = j} √C_i,     w_j = φT / F_j.

* **Pricing** (:func:`price`).  c_i0 = φT C_i/f_i0 + φE κ_i f_i0^ν C_i/f_i0.  c_ij = min over
  0 < p ≤ P_max of D_i (φT + φE p) / (B_i log2(1 + p h_ij/σ²)), found by a vectorised
  golden-section search in log p over [P_max e^-80, P_max] (the function of p is unimodal: its
  derivative changes sign once), then compared with the endpoint P_max.  No closed form is used:
  the search reads the cost function only.
* **Brute force** (:func:`brute_force`): every one of the (M+1)^N decisions, vectorised in chunks.
* **MILP** (:func:`solve_milp`): integer counts z_gk (how many IoTDs of group g take option k, local
  included; identical IoTDs form one group, singletons are binaries), one continuous y_j per server
  with y_j ≥ w_j (2 t L_j − t²) for a growing set of tangent points t (an outer approximation of the
  convex term, so every bound of the model is a bound of f); costs are taken relative to each IoTD's
  cheapest option, so HiGHS's objective lies in [0, f].  HiGHS (:func:`scipy.optimize.milp`) solves
  it, the loads of its solution become new tangent points, and the loop stops when the model is
  exact at its own solution (then its optimum is f's) or the target gap is reached.  The objective
  is scaled to ~10^4 so HiGHS's absolute gap (10^-6) is ~10^-10 relative.  The lower bound returned
  is HiGHS's dual bound *lowered* by a safety margin for its tolerances (:data:`DUAL_FEAS_TOL` per
  unit of variable range, :data:`REL_SAFETY` relative; ~2e-9 relative in all): the bound is never
  trusted to the last digit.  Identical servers get load-ordering rows (symmetry), and optionally
  options no decision as good as the incumbent can use are dropped (:func:`fixable`).  The decision
  returned is priced here.
* **Local search** (:func:`improve`): single-IoTD moves and pair exchanges, for incumbents.
* **Relaxation bound** (:func:`relaxation_bound`): the continuous relaxation's bound
  q(λ) = Σ_i min(c_i0, min_j c_ij + λ_j √C_i) − Σ_j λ_j²/(4 w_j), valid for every λ ≥ 0 (weak
  duality), maximised by Frank–Wolfe on the relaxed primal (the Frank–Wolfe gap bound *is* q at
  λ = 2 w L) and L-BFGS-B; for instances too large for the MILP.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

_LN2 = math.log(2.0)
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
#: Width of the golden-section bracket in ln p below ln P_max, and its number of steps (the bracket
#: shrinks by 0.618 a step: 80 · 0.618^100 ≈ 1e-19, below the resolution of ln p).
_LOG_SPAN = 80.0
_GOLDEN_STEPS = 100
#: Per-IoTD fields of the model (scalars, (N,) or per sample (T, N)).
IOTD_FIELDS = ("data_bits", "cpu_cycles", "bandwidth_hz", "local_cpu_hz", "max_power_w", "kappa")
#: Objective scale handed to HiGHS (its absolute MIP gap, 1e-6, is then ~1e-10 relative).
_MILP_SCALE = 1e4
#: HiGHS's primal/dual feasibility tolerance (1e-7): the safety margin charges it per unit of
#: variable range (every binary has range 1) on the scaled objective …
DUAL_FEAS_TOL = 1e-7
#: … plus this much relative to the bound itself.
REL_SAFETY = 1e-9
#: Largest (M+1)^N that :func:`brute_force` enumerates.
BRUTE_FORCE_CAP = 2_000_000


# ----------------------------------------------------------------------------------- pricing
def _iotd_field(params, name: str, n: int, sample: int | None) -> np.ndarray:
    arr = np.asarray(getattr(params, name), dtype=np.float64)
    if arr.ndim == 2:
        if sample is None:
            raise ValueError(f"{name} is given per sample (shape {arr.shape}): pass sample=")
        arr = arr[sample]
    return np.array(np.broadcast_to(arr, (n,)), dtype=np.float64)


def transmission_cost(data_bits, bandwidth_hz, max_power_w, noise_w, phi_t, phi_e, gains):
    """(cost, power) of offloading: min over 0 < p ≤ P_max of D (φT + φE p) / (B log2(1 + p h/σ²)).

    ``gains`` ``(..., M)``; the per-IoTD arguments broadcast against ``gains[..., 0]``.  Golden-section
    search in ln p (module docstring), then the endpoint P_max.
    """
    h = np.asarray(gains, dtype=np.float64)
    d = np.asarray(data_bits, dtype=np.float64)[..., None]
    b = np.asarray(bandwidth_hz, dtype=np.float64)[..., None]
    pmax = np.broadcast_to(np.asarray(max_power_w, dtype=np.float64)[..., None], h.shape)
    x = h / float(noise_w)

    def cost(z):
        p = np.exp(z)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            rate = b * np.log1p(p * x) / _LN2
            out = d * (phi_t + phi_e * p) / rate
        return np.where(np.isfinite(out) & (rate > 0), out, np.inf)

    hi = np.log(pmax)
    lo = hi - _LOG_SPAN
    a, bb = lo.copy(), hi.copy()
    c = bb - _GOLDEN * (bb - a)
    e = a + _GOLDEN * (bb - a)
    fc, fe = cost(c), cost(e)
    for _ in range(_GOLDEN_STEPS):
        left = fc <= fe  # the minimum lies in [a, e]
        bb = np.where(left, e, bb)
        a = np.where(left, a, c)
        keep_z = np.where(left, c, e)  # the interior point that survives
        keep_f = np.where(left, fc, fe)
        new_z = np.where(left, bb - _GOLDEN * (bb - a), a + _GOLDEN * (bb - a))
        new_f = cost(new_z)
        c = np.where(left, new_z, keep_z)
        fc = np.where(left, new_f, keep_f)
        e = np.where(left, keep_z, new_z)
        fe = np.where(left, keep_f, new_f)
    z = np.where(fc <= fe, c, e)
    fz = np.minimum(fc, fe)
    f_hi = cost(hi)
    at_max = f_hi <= fz
    return np.where(at_max, f_hi, fz), np.where(at_max, pmax, np.exp(z))


def local_cost(cpu_cycles, local_cpu_hz, kappa, nu, phi_t, phi_e):
    """φT C/f0 + φE κ f0^ν C/f0 (time and energy of running the task on the device)."""
    c = np.asarray(cpu_cycles, dtype=np.float64)
    f0 = np.asarray(local_cpu_hz, dtype=np.float64)
    seconds = c / f0
    return phi_t * seconds + phi_e * np.asarray(kappa, dtype=np.float64) * f0**nu * seconds


@dataclass(frozen=True)
class Problem:
    """One channel sample, priced from the raw fields: everything the solvers below need."""

    local: np.ndarray
    """(N,) c_i0."""
    tx: np.ndarray
    """(N, M) c_ij at the minimising power."""
    root: np.ndarray
    """(N,) √C_i."""
    weight: np.ndarray
    """(M,) w_j = φT / F_j."""
    power: np.ndarray | None = None
    """(N, M) the minimising power (diagnostics)."""

    @property
    def n(self) -> int:
        return int(self.tx.shape[0])

    @property
    def m(self) -> int:
        return int(self.tx.shape[1])

    @property
    def options(self) -> np.ndarray:
        """(N, M+1) option costs, column 0 local."""
        return np.concatenate([self.local[:, None], self.tx], axis=1)

    def loads(self, decisions) -> np.ndarray:
        """(K, M) Σ √C of the IoTDs on each server (``decisions`` (K, N) or (N,) → (M,))."""
        a = np.asarray(decisions)
        single = a.ndim == 1
        a = np.atleast_2d(a)
        out = np.stack([np.where(a == j + 1, self.root, 0.0).sum(-1) for j in range(self.m)], axis=-1)
        return out[0] if single else out

    def objective(self, decisions) -> np.ndarray | float:
        """f(a) of ``decisions`` (K, N) → (K,), or of one (N,) → float."""
        a = np.asarray(decisions, dtype=np.int64)
        single = a.ndim == 1
        a = np.atleast_2d(a)
        if a.shape[-1] != self.n or a.min(initial=0) < 0 or a.max(initial=0) > self.m:
            raise ValueError(f"decisions: expected ints in 0..{self.m} of shape (K, {self.n}), got {a.shape}")
        own = np.take_along_axis(np.broadcast_to(self.options, a.shape + (self.m + 1,)), a[..., None], -1)[..., 0]
        total = own.sum(-1) + (self.weight * self.loads(a) ** 2).sum(-1)
        return float(total[0]) if single else total


def price(gains, params, sample: int | None = None) -> Problem:
    """:class:`Problem` of one sample: ``gains`` ``(N, M)``; ``sample`` picks the row of per-sample
    ``(T, N)`` fields."""
    h = np.asarray(gains, dtype=np.float64)
    if h.ndim != 2:
        raise ValueError(f"gains: expected one sample (N, M), got shape {h.shape}")
    n, m = h.shape
    f = {name: _iotd_field(params, name, n, sample) for name in IOTD_FIELDS}
    phi_t, phi_e = float(params.phi_t), float(params.phi_e)
    tx, power = transmission_cost(
        f["data_bits"], f["bandwidth_hz"], f["max_power_w"], float(params.noise_w), phi_t, phi_e, h
    )
    local = local_cost(f["cpu_cycles"], f["local_cpu_hz"], f["kappa"], float(params.nu), phi_t, phi_e)
    mec = np.array(np.broadcast_to(np.asarray(params.mec_cpu_hz, dtype=np.float64), (m,)))
    return Problem(local=local, tx=tx, root=np.sqrt(f["cpu_cycles"]), weight=phi_t / mec, power=power)


# ----------------------------------------------------------------------------------- solvers
@contextlib.contextmanager
def _quiet_stdout():
    """Silence file descriptor 1 (output of compiled code) for the duration of the block."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):  # no real fd 1 (embedded, captured): leave it
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


@dataclass(frozen=True)
class Solution:
    """An independent solution of one sample."""

    decision: np.ndarray
    """(N,) best decision found."""
    objective: float
    """its f (:meth:`Problem.objective`)."""
    lower_bound: float
    """proven lower bound on min f (safety margin included)."""
    method: str
    """``brute-force``, ``milp`` or ``local-search`` (bound from the relaxation)."""
    proven: bool
    """True when the search finished (brute force, or the MILP converged)."""
    seconds: float
    raw_bound: float = math.nan
    """HiGHS's dual bound before the margin (``milp``)."""
    rounds: int = 0
    """HiGHS solves (``milp``)."""

    @property
    def gap(self) -> float:
        return (self.objective - self.lower_bound) / abs(self.objective)


def brute_force(problem: Problem, *, cap: int = BRUTE_FORCE_CAP, chunk: int = 1 << 15) -> Solution:
    """min f over all (M+1)^N decisions (``cap`` at most)."""
    t0 = time.perf_counter()
    n, base = problem.n, problem.m + 1
    total = base**n
    if total > cap:
        raise ValueError(f"brute force: {base}^{n} = {total} decisions exceeds the cap {cap}")
    powers = base ** np.arange(n, dtype=np.int64)
    best, best_a = math.inf, None
    for start in range(0, total, chunk):
        idx = np.arange(start, min(total, start + chunk), dtype=np.int64)
        a = (idx[:, None] // powers) % base
        obj = problem.objective(a)
        k = int(np.argmin(obj))
        if obj[k] < best:
            best, best_a = float(obj[k]), a[k].copy()
    return Solution(best_a, best, best, "brute-force", True, time.perf_counter() - t0, best, 0)


def improve(problem: Problem, decision, *, max_moves: int | None = None) -> tuple[np.ndarray, float]:
    """Single-IoTD moves and pair exchanges from ``decision`` until none improves f."""
    a = np.array(decision, dtype=np.int64)
    n = problem.n
    opts = problem.options
    s = problem.root
    w = np.concatenate([[0.0], problem.weight])
    rows = np.arange(n)
    cur = problem.objective(a)
    max_moves = 20 * n + 100 if max_moves is None else max_moves
    moves = 0
    while moves < max_moves:
        moved = False
        while moves < max_moves:  # best single move
            load = np.concatenate([[0.0], problem.loads(a)])
            la = load[a]
            out = opts[rows, a] + w[a] * (la**2 - (la - s) ** 2)
            into = opts + w * ((load + s[:, None]) ** 2 - load**2)
            into[rows, a] = out
            delta = into - out[:, None]
            i, j = np.unravel_index(int(np.argmin(delta)), delta.shape)
            if not delta[i, j] < -1e-13 * abs(cur):
                break
            b = a.copy()
            b[i] = j
            new = problem.objective(b)
            if not new < cur:
                break
            a, cur, moves, moved = b, new, moves + 1, True
        if n > 1 and moves < max_moves:  # best pair exchange
            load = np.concatenate([[0.0], problem.loads(a)])
            la = load[a]
            ds = s[None, :] - s[:, None]  # s_k − s_i: load change of a_i when i leaves and k enters
            li, lk = la[:, None], la[None, :]
            wi, wk = w[a][:, None], w[a][None, :]
            delta = (
                opts[rows[:, None], a[None, :]]
                + opts[rows[None, :], a[:, None]]
                - opts[rows, a][:, None]
                - opts[rows, a][None, :]
                + wi * ((li + ds) ** 2 - li**2)
                + wk * ((lk - ds) ** 2 - lk**2)
            )
            delta[a[:, None] == a[None, :]] = np.inf
            i, k = np.unravel_index(int(np.argmin(delta)), delta.shape)
            if delta[i, k] < -1e-13 * abs(cur):
                b = a.copy()
                b[i], b[k] = a[k], a[i]
                new = problem.objective(b)
                if new < cur:
                    a, cur, moves, moved = b, new, moves + 1, True
        if not moved:
            break
    return a, float(cur)


def heuristic(problem: Problem) -> tuple[np.ndarray, float]:
    """The best of a few polished starts: all local, each IoTD's cheapest option alone, a
    marginal-cost insertion in order of saving."""
    starts = [np.zeros(problem.n, dtype=np.int64)]
    alone = problem.options.copy()
    alone[:, 1:] += problem.weight * problem.root[:, None] ** 2
    starts.append(np.argmin(alone, axis=1))
    # sequential insertion: IoTDs by decreasing saving, each to its cheapest option at current loads
    order = np.argsort(alone.min(1) - problem.local)
    a = np.zeros(problem.n, dtype=np.int64)
    load = np.zeros(problem.m)
    for i in order:
        marg = problem.tx[i] + problem.weight * ((load + problem.root[i]) ** 2 - load**2)
        j = int(np.argmin(marg))
        if marg[j] < problem.local[i]:
            a[i] = j + 1
            load[j] += problem.root[i]
    starts.append(a)
    best = None
    for st in starts:
        cand = improve(problem, st)
        if best is None or cand[1] < best[1]:
            best = cand
    return best


def relaxation_bound(problem: Problem, *, iterations: int = 3000) -> float:
    """A valid lower bound: max over the λ visited of the relaxation's dual q(λ) (module docstring)."""
    return relaxation_dual(problem, iterations=iterations)[0]


def relaxation_dual(problem: Problem, *, iterations: int = 3000) -> tuple[float, np.ndarray]:
    """(q(λ), λ) at the best multipliers λ ≥ 0 found (:func:`relaxation_bound`)."""
    c, s, w = problem.options, problem.root, problem.weight
    m = problem.m

    def q(lam):
        lam = np.maximum(lam, 0.0)
        red = c + np.concatenate([[0.0], lam]) * s[:, None]
        return float(red.min(1).sum() - (lam**2 / (4 * w)).sum())

    # Frank–Wolfe on the relaxed primal: x_i on the simplex of options, f = Σ c x + Σ w L²
    x = np.zeros_like(c)
    x[np.arange(problem.n), np.argmin(c, 1)] = 1.0
    best = -math.inf
    lam_best = np.zeros(m)
    for _ in range(iterations):
        load = (x[:, 1:] * s[:, None]).sum(0)
        lam = 2 * w * load
        val = q(lam)
        if val > best:
            best, lam_best = val, lam
        grad = c + np.concatenate([[0.0], lam]) * s[:, None]
        target = np.zeros_like(c)
        target[np.arange(problem.n), np.argmin(grad, 1)] = 1.0
        d = target - x
        dl = (d[:, 1:] * s[:, None]).sum(0)
        lin = float((grad * d).sum())
        quad = float((w * dl**2).sum())
        if lin >= 0:
            break
        step = 1.0 if quad <= 0 else min(1.0, -lin / (2 * quad))
        x = x + step * d
    try:
        from scipy.optimize import minimize

        res = minimize(lambda v: -q(v), lam_best, method="L-BFGS-B", bounds=[(0, None)] * m)
        lam = np.maximum(res.x, 0.0)
        val = q(lam)
        if val > best:
            best, lam_best = val, lam
    except Exception:  # noqa: BLE001 - the Frank-Wolfe bound stands on its own
        pass
    return best, np.maximum(lam_best, 0.0)


def fixable(problem: Problem, upper: float) -> np.ndarray:
    """(N, M+1) bool: options that some decision of cost ≤ ``upper`` may use.

    For λ ≥ 0, w L² ≥ λ L − λ²/(4w), hence f(a) ≥ q(λ) + Σ_i r_{i,a_i} with r_ij = c_ij + λ_j √C_i −
    min_k (c_ik + λ_k √C_i) ≥ 0: an option with q(λ) + r_ij > ``upper`` (by a margin of 1e-9 relative
    plus rounding) belongs to no decision of cost ≤ ``upper``.  Ties are never removed.
    """
    q, lam = relaxation_dual(problem)
    red = problem.options + np.concatenate([[0.0], lam]) * problem.root[:, None]
    r = red - red.min(1, keepdims=True)
    tol = 1e-9 * abs(upper) + 1e-12 * float(np.abs(red).max(1).sum() + np.abs(q))
    return q + r <= upper + tol


def _groups(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """(inverse (N,), counts (G,)): IoTDs with equal cost rows and √C form one group."""
    key = np.concatenate([problem.options, problem.root[:, None]], axis=1)
    _, first, inverse, counts = np.unique(key, axis=0, return_index=True, return_inverse=True, return_counts=True)
    order = np.argsort(first)  # groups in order of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[np.asarray(inverse).ravel()], counts[order]


class _TangentModel:
    """The MILP of :func:`solve_milp`: integer counts z_gk (group g, option k; local k = 0) and one y_j
    per server, in scaled units (objective ~ ``_MILP_SCALE``, loads in units of the mean √C)."""

    def __init__(self, problem: Problem, best_a: np.ndarray, best_u: float, fix: bool):
        from scipy.sparse import coo_matrix

        self.problem = problem
        n, m = problem.n, problem.m
        self.member, self.counts = _groups(problem)
        g_ = self.g = len(self.counts)
        self.rep = np.array([np.flatnonzero(self.member == g)[0] for g in range(g_)])  # one IoTD per group
        # costs relative to each IoTD's cheapest option: HiGHS's objective lies in [0, f] and its
        # tolerances stay relative to f
        cheapest = problem.options.min(1)
        self.const = float(cheapest.sum())
        self.scale = _MILP_SCALE / max(abs(best_u), 1e-300)
        self.s_bar = float(problem.root.mean())
        self.sr = problem.root[self.rep] / self.s_bar
        self.wr = self.scale * problem.weight * self.s_bar**2  # y_j ≥ wr_j (2 t L − t²)
        k1 = self.k1 = m + 1
        nx = self.nx = g_ * k1
        self.cvec = np.concatenate(
            [self.scale * (problem.options[self.rep] - cheapest[self.rep, None]).ravel(), np.ones(m)]
        )
        self.integrality = np.concatenate([np.ones(nx), np.zeros(m)])
        self.lb_vars = np.zeros(nx + m)
        self.ub_vars = np.concatenate([np.repeat(self.counts.astype(np.float64), k1), np.full(m, np.inf)])
        rows, cols = np.repeat(np.arange(g_), k1), np.arange(nx)
        self.assign = coo_matrix((np.ones(nx), (rows, cols)), shape=(g_, nx + m)).tocsr()
        if fix:
            each = fixable(problem, best_u)
            each[np.arange(n), best_a] = True  # the incumbent's options pass anyway (r ≤ f − q); kept safe
            allowed = np.zeros((g_, k1), dtype=bool)
            np.logical_or.at(allowed, self.member, each)  # identical IoTDs have identical rows
            self.ub_vars[:nx] = np.where(allowed.ravel(), self.ub_vars[:nx], 0.0)
        self.sym = self._symmetry_rows()
        self.points = self._initial_points(best_a)

    def _symmetry_rows(self):
        """Rows ``A z ≥ 0``: identical servers (equal weight and cost column) in non-increasing load order."""
        from scipy.sparse import coo_matrix

        p, g_, k1 = self.problem, self.g, self.k1
        pairs = []
        for j in range(p.m):
            for k in range(j + 1, p.m):
                if p.weight[j] == p.weight[k] and np.array_equal(p.tx[:, j], p.tx[:, k]):
                    pairs.append((j, k))
                    break  # a chain: j ≥ its next identical server, which chains on
        if not pairs:
            return None
        r = np.repeat(np.arange(len(pairs)), 2 * g_)
        c = np.concatenate([np.concatenate([np.arange(g_) * k1 + j + 1, np.arange(g_) * k1 + k + 1]) for j, k in pairs])
        v = np.tile(np.concatenate([self.sr, -self.sr]), len(pairs))
        return coo_matrix((v, (r, c)), shape=(len(pairs), self.nx + p.m)).tocsr()

    def loads(self, decision) -> np.ndarray:
        return self.problem.loads(decision) / self.s_bar

    def _initial_points(self, best_a) -> list[set[float]]:
        total = float((self.sr * self.counts).sum())
        inc = self.loads(best_a)
        points = []
        for j in range(self.problem.m):
            pts = {0.0, total} | {float(v) for v in np.linspace(0.0, total, 9)}
            pts |= {
                float(inc[j] * (1 + d)) for d in (0.0, -0.005, 0.005, -0.02, 0.02, -0.05, 0.05, -0.15, 0.15, -0.4, 0.4)
            }
            points.append({p for p in pts if p >= 0})
        return points

    def cut_rows(self, pairs):
        """Rows y_j − 2 wr_j t Σ_g sr_g z_gj ≥ −wr_j t² of the tangent points ``pairs`` = [(j, t)]."""
        from scipy.sparse import coo_matrix

        g_, k1, nx = self.g, self.k1, self.nx
        rows = np.repeat(np.arange(len(pairs)), g_ + 1)
        cols = np.concatenate([np.concatenate([np.arange(g_) * k1 + j + 1, [nx + j]]) for j, _ in pairs])
        vals = np.concatenate([np.concatenate([-2 * self.wr[j] * t * self.sr, [1.0]]) for j, t in pairs])
        rhs = np.array([-self.wr[j] * t * t for j, t in pairs])
        return coo_matrix((vals, (rows, cols)), shape=(len(pairs), nx + self.problem.m)).tocsr(), rhs

    def decision_of(self, z) -> np.ndarray:
        """The decision of a solution's counts (members of a group take its options in index order)."""
        z = np.maximum(np.rint(np.asarray(z[: self.nx]).reshape(self.g, self.k1)), 0).astype(np.int64)
        a = np.zeros(self.problem.n, dtype=np.int64)
        for g in range(self.g):
            idx = np.flatnonzero(self.member == g)
            opts = np.repeat(np.arange(1, self.k1), z[g, 1:])[: len(idx)]
            a[idx[: len(opts)]] = opts
        return a

    def solve(self, mat, rhs, left: float, gap: float):
        """One HiGHS solve (again without presolve after a HiGHS "solve error")."""
        from scipy.optimize import LinearConstraint, milp

        t0 = time.perf_counter()
        cnt = self.counts.astype(np.float64)
        cons = [LinearConstraint(self.assign, cnt, cnt), LinearConstraint(mat, rhs, np.inf)]
        if self.sym is not None:
            cons.append(LinearConstraint(self.sym, 0.0, np.inf))
        for presolve in (True, False):
            with _quiet_stdout():  # HiGHS's MIP solver prints debug lines on fd 1
                res = milp(
                    self.cvec,
                    integrality=self.integrality,
                    bounds=(self.lb_vars, self.ub_vars),
                    constraints=cons,
                    options={
                        "mip_rel_gap": gap,
                        "time_limit": max(left - (time.perf_counter() - t0), 0.01),
                        "presolve": presolve,
                    },
                )
            if res.status in (0, 1):  # optimal, or a time / node limit
                break
        return res

    def bound(self, dual: float) -> tuple[float, float]:
        """(raw, safe) lower bounds on f from a dual bound of the scaled model (module docstring)."""
        margin = DUAL_FEAS_TOL * self.problem.n * self.k1 + REL_SAFETY * abs(dual)
        return self.const + dual / self.scale, self.const + (dual - margin) / self.scale

    def new_points(self, decisions) -> tuple[list[tuple[int, float]], list[bool]]:
        """Tangent points to add at the loads of ``decisions`` (where the model is not exact), and per
        decision whether the model was exact at it."""
        new, exact = [], []
        for dec in decisions:
            load, ok = self.loads(dec), True
            for j in range(self.problem.m):
                t_near = min(self.points[j], key=lambda t: abs(t - load[j]))
                if self.wr[j] * (load[j] - t_near) ** 2 > 1e-13 * _MILP_SCALE:
                    ok = False
                    self.points[j].add(float(load[j]))
                    new.append((j, float(load[j])))
            exact.append(ok)
        return new, exact


def solve_milp(
    problem: Problem,
    *,
    gap: float = 1e-9,
    time_limit_s: float = 30.0,
    start=None,
    max_rounds: int = 80,
    fix: bool = False,
) -> Solution:
    """The tangent-cut MILP of the module docstring on HiGHS, from scratch each round.

    ``fix``: drop the options no decision as good as the incumbent can use (:func:`fixable`); the
    incumbent stays feasible, so the optimum and the bound are unchanged (for large instances).

    Identical IoTDs (equal cost row and √C) are one integer variable per option (how many of them go
    there), which removes their symmetry; identical servers (equal weight and cost column) carry
    non-increasing loads in index order (sorting an optimal decision's identical servers by load keeps
    its cost, so the optimum and every bound of the model are unchanged).
    """
    from scipy.sparse import vstack

    t0 = time.perf_counter()
    best_a, best_u = heuristic(problem)
    if start is not None:
        cand = improve(problem, np.asarray(start, dtype=np.int64))
        if cand[1] < best_u:
            best_a, best_u = cand
    model = _TangentModel(problem, best_a, best_u, fix)
    mat, rhs = model.cut_rows([(j, t) for j in range(problem.m) for t in sorted(model.points[j])])
    lower, raw, rounds, converged = -math.inf, -math.inf, 0, False
    while rounds < max_rounds and time_limit_s - (time.perf_counter() - t0) > 0.05:
        rounds += 1
        res = model.solve(mat, rhs, time_limit_s - (time.perf_counter() - t0), min(gap, 1e-6) / 10)
        dual = getattr(res, "mip_dual_bound", None)
        if dual is not None and np.isfinite(dual):
            b_raw, b_safe = model.bound(float(dual))
            if b_safe > lower:  # every round's model is a relaxation of f: the best one stands
                lower, raw = b_safe, b_raw
        if res.x is None:
            break
        a = model.decision_of(res.x)
        cand = improve(problem, a)
        if cand[1] < best_u:
            best_a, best_u = cand
        new, exact = model.new_points((a, best_a))
        # exact at HiGHS's own solution: the model's optimum is f's
        if best_u - lower <= gap * abs(best_u) or (res.status == 0 and exact[0]):
            converged = True
            break
        if not new:  # HiGHS stopped (time, nodes) with nothing to add
            break
        more, more_rhs = model.cut_rows(new)
        mat, rhs = vstack([mat, more]).tocsr(), np.concatenate([rhs, more_rhs])
    lower = min(lower, best_u)
    raw = float(min(raw, best_u)) if np.isfinite(raw) else math.nan
    seconds = time.perf_counter() - t0
    return Solution(
        np.asarray(best_a, dtype=np.int64), float(best_u), float(lower), "milp", converged, seconds, raw, rounds
    )


def solve(problem: Problem, *, brute_force_cap: int = BRUTE_FORCE_CAP, **milp_options) -> Solution:
    """Brute force when (M+1)^N ≤ ``brute_force_cap``, else :func:`solve_milp`."""
    if (problem.m + 1) ** problem.n <= brute_force_cap:
        return brute_force(problem, cap=brute_force_cap)
    return solve_milp(problem, **milp_options)


__all__ = [
    "Problem",
    "Solution",
    "brute_force",
    "heuristic",
    "improve",
    "local_cost",
    "price",
    "fixable",
    "relaxation_bound",
    "relaxation_dual",
    "solve",
    "solve_milp",
    "transmission_cost",
]
