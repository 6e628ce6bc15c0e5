"""Lévy flight search over offloading decisions (paper §IV-C, Algorithm 4; docs/design.md §4).

Two variants, both vectorised over a population ``P`` and a batch of ``T`` channel samples (arrays
``(P, T, N)``), both with greedy selection (eq. 23) so a member never gets worse:

* ``proposed`` (Alg. 4).  Iteration G = 1..G_max uses the control parameter γ = 2 − 2G/G_max and
  Mantegna steps d (exponent β, :func:`dirs.common.mantegna_steps`):

  - *h-mutation* (eqs. 20-21): IoTD i of member x jumps to a uniformly random choice in {0..M}
    when γ·|d_i| exceeds its normalised gain ĥ_{i,x_i} = h_{i,x_i} / Σ_j h_ij (1/M for a local
    IoTD); IoTDs on a strong link therefore move rarely, weak ones often, and less and less as γ
    falls to 0.
  - *Lévy crossover* (eq. 22): the trial u takes the mutant's entry where γ·|d'_i| > th (a fresh
    step d'), else the target's.
  - *greedy selection* (eq. 23): x ← u if f(u) < f(x).

* ``classic`` (eq. 18): x ← clip(round(x + η·d), 0, M), then the same greedy selection.

Allocation modes:

* ``exact``: only the decision is searched; it is priced with the closed-form optimal allocation
  (:class:`dirs.solvers.costs.CostTables`).
* ``search``: the paper's x = [a, f, p] (eq. 19): CPU shares f and transmit powers p are searched
  too (multiplicative Lévy steps in log space, applied with the same crossover mask as the
  decision), then repaired to satisfy p ≤ P_max and Σ_{i→j} f_ij ≤ F_j^max (each over-full server
  scales its shares down proportionally), and priced with those f and p (:func:`price_allocation`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dirs.common import mantegna_steps
from dirs.solvers.costs import CostTables, cost_tables
from dirs.system.allocation import local_cost, transmission
from dirs.system.cost import check_decisions, check_gains
from dirs.system.params import ParameterError, SystemParams

VARIANTS = ("proposed", "classic")
ALLOCATIONS = ("exact", "search")

#: Smallest transmit power the ``search`` allocation may use, as a fraction of P_max.
_P_FLOOR = 1e-6
#: Scale of the multiplicative Lévy steps of f and p in the ``search`` allocation (log space).
_LOG_STEP = 0.5


@dataclass
class LevyResult:
    """Outcome of :func:`levy_flight` for a batch of T channel samples."""

    decisions: np.ndarray
    """(T, N) best decision per sample, ints 0..M."""
    objective: np.ndarray
    """(T,) its objective (with the searched f and p under ``allocation="search"``)."""
    history: np.ndarray
    """(G_max + 1, T) best objective in the population per iteration (row 0 = the start)."""
    cpu_hz: np.ndarray | None = None
    """(T, N) searched CPU frequency f_ij (0 for local IoTDs); ``allocation="search"`` only."""
    power_w: np.ndarray | None = None
    """(T, N) searched transmit power p_ij (0 for local IoTDs); ``allocation="search"`` only."""


def _as_rng(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def check_settings(population: int, iterations: int, beta: float, th: float, variant: str, allocation: str) -> None:
    """Fail early, naming the setting and the allowed values."""
    if int(population) < 1:
        raise ParameterError(f"population: must be >= 1, got {population}")
    if int(iterations) < 0:
        raise ParameterError(f"iterations: must be >= 0, got {iterations}")
    if not 0 < beta <= 2:
        raise ParameterError(f"beta: Lévy exponent must lie in (0, 2], got {beta}")
    if not 0 <= th <= 1:
        raise ParameterError(f"th: crossover threshold must lie in [0, 1], got {th}")
    if variant not in VARIANTS:
        raise ParameterError(f"variant: unknown Lévy flight variant {variant!r}; allowed: {list(VARIANTS)}")
    if allocation not in ALLOCATIONS:
        raise ParameterError(f"allocation: unknown allocation mode {allocation!r}; allowed: {list(ALLOCATIONS)}")


def normalised_gains(gains: np.ndarray) -> np.ndarray:
    """ĥ ``(T, N, M+1)`` of eq. 20: column 0 (local) = 1/M, column j = h_ij / Σ_k h_ik."""
    g = np.asarray(gains, dtype=np.float64)
    m = g.shape[-1]
    share = g / g.sum(-1, keepdims=True)
    loc = np.full(g.shape[:-1] + (1,), 1.0 / m)
    return np.concatenate([loc, share], axis=-1)


def h_mutation(x: np.ndarray, hnorm: np.ndarray, gamma: float, beta: float, rng: np.random.Generator) -> np.ndarray:
    """Mutant of eqs. 20-21: IoTD i re-draws uniformly from {0..M} where γ·|d_i| > ĥ_{i,x_i}.

    x: ``(P, T, N)`` decisions; hnorm: ``(T, N, M+1)`` from :func:`normalised_gains`.
    """
    m1 = hnorm.shape[-1]
    d = np.abs(mantegna_steps(beta, x.shape, rng))
    h_sel = np.take_along_axis(np.broadcast_to(hnorm, x.shape + (m1,)), x[..., None], -1)[..., 0]
    jump = gamma * d > h_sel
    fresh = rng.integers(0, m1, size=x.shape)
    return np.where(jump, fresh, x)


def levy_crossover_mask(shape, gamma: float, beta: float, th: float, rng: np.random.Generator) -> np.ndarray:
    """Eq. 22: True where the trial takes the mutant's entry (γ·|d'_i| > th)."""
    return gamma * np.abs(mantegna_steps(beta, shape, rng)) > th


def classic_move(x: np.ndarray, num_servers: int, beta: float, eta: float, rng: np.random.Generator) -> np.ndarray:
    """Eq. 18: x + η·d, rounded to the nearest choice and clipped to {0..M}."""
    d = mantegna_steps(beta, x.shape, rng)
    return np.clip(np.rint(x + eta * d), 0, num_servers).astype(np.int64)


def init_population(
    start: np.ndarray, population: int, hnorm: np.ndarray, beta: float, rng: np.random.Generator, gamma: float = 1.0
) -> np.ndarray:
    """Initial population ``(P, T, N)`` from ``start`` ``(T, N)``.

    Member 0 is ``start`` itself (so with greedy selection the result is never worse than the
    start); members 1..P−1 are h-mutants of it (eqs. 20-21) at control parameter ``gamma``.
    """
    start = np.asarray(start, dtype=np.int64)
    pop = np.broadcast_to(start, (population,) + start.shape).copy()
    if population > 1:
        pop[1:] = h_mutation(pop[1:], hnorm, gamma, beta, rng)
    return pop


STARTS = ("greedy", "remote", "best", "random")


def start_decisions(
    kind: str, gains: np.ndarray, params: SystemParams, tables: CostTables | None = None, rng=None
) -> np.ndarray:
    """Start decisions ``(T, N)`` of a search: ``greedy`` | ``remote`` | ``best`` (the better of the
    two per sample) | ``random`` (uniform in {0..M}, no capacity rule)."""
    from dirs.solvers.heuristics import greedy_tables, remote

    kind = getattr(kind, "value", kind)
    if kind not in STARTS:
        raise ParameterError(f"start: unknown start {kind!r}; allowed: {list(STARTS)}")
    g = check_gains(gains)
    g = g[None] if g.ndim == 2 else g
    if kind == "random":
        return _as_rng(rng).integers(0, g.shape[-1] + 1, size=g.shape[:2])
    if kind == "remote":
        return remote(g, params)
    tables = tables if tables is not None else cost_tables(g, params)
    gr = greedy_tables(tables)
    if kind == "greedy":
        return gr
    rm = remote(g, params)
    better = tables.objective(rm) < tables.objective(gr)
    return np.where(better[:, None], rm, gr)


# ------------------------------------------------------------------ searched allocation (eq. 19)
@dataclass(frozen=True)
class _Physics:
    """Per-IoTD / per-server constants for pricing an explicit allocation, broadcast-ready."""

    x: np.ndarray  # (T, N, M) h/σ²
    data_bits: np.ndarray  # (N,), or (T, N) per sample (docs/design.md §9)
    bandwidth: np.ndarray  # (N,) or (T, N)
    cpu_cycles: np.ndarray  # (N,) or (T, N)
    pmax: np.ndarray  # (N,) or (T, N)
    fmax: np.ndarray  # (M,)
    local: np.ndarray  # (N,) or (T, N) local cost
    phi_t: float
    phi_e: float

    @classmethod
    def build(cls, gains: np.ndarray, params: SystemParams) -> _Physics:
        n, m = gains.shape[-2:]
        params.check_sizes(n, m, gains.shape[0] if gains.ndim == 3 else None)
        loc, _, _ = local_cost(params)
        loc = np.asarray(loc, dtype=np.float64)
        return cls(
            x=gains / params.noise_w,
            data_bits=params.per_iotd("data_bits", n),
            bandwidth=params.per_iotd("bandwidth_hz", n),
            cpu_cycles=params.per_iotd("cpu_cycles", n),
            pmax=params.per_iotd("max_power_w", n),
            fmax=params.per_server("mec_cpu_hz", m),
            local=np.broadcast_to(loc, loc.shape if loc.ndim == 2 else (n,)),
            phi_t=params.phi_t,
            phi_e=params.phi_e,
        )


def _price(a: np.ndarray, f: np.ndarray, p: np.ndarray, ph: _Physics) -> np.ndarray:
    """Objective ``(...,)`` of decisions a with explicit CPU shares f and powers p ``(..., T, N)``."""
    off = a > 0
    m = ph.x.shape[-1]
    x_sel = np.take_along_axis(np.broadcast_to(ph.x, a.shape + (m,)), np.maximum(a - 1, 0)[..., None], -1)[..., 0]
    p_ = np.where(off, p, 1.0)
    f_ = np.where(off, f, 1.0)
    _, t_tx, e_tx = transmission(x_sel, ph.data_bits, ph.bandwidth, p_)
    cost_off = ph.phi_t * (t_tx + ph.cpu_cycles / f_) + ph.phi_e * e_tx
    return np.where(off, cost_off, ph.local).sum(-1)


def _repair(a: np.ndarray, f: np.ndarray, p: np.ndarray, ph: _Physics) -> tuple[np.ndarray, np.ndarray]:
    """Project onto the constraints: P_max·1e-6 ≤ p ≤ P_max; Σ_{i→j} f_ij ≤ F_j^max; 0 when local."""
    m = ph.fmax.shape[0]
    off = a > 0
    p = np.where(off, np.clip(p, _P_FLOOR * ph.pmax, ph.pmax), 0.0)
    f = np.where(off, np.maximum(f, 1.0), 0.0)
    onehot = a[..., None] == np.arange(1, m + 1)
    load = np.einsum("...nm,...n->...m", onehot.astype(np.float64), f)  # (..., T, M)
    scale = np.where(load > ph.fmax, ph.fmax / np.maximum(load, 1.0), 1.0)
    scale_i = np.take_along_axis(scale, np.maximum(a - 1, 0), -1)
    return f * np.where(off, scale_i, 1.0), p


def equal_shares(a: np.ndarray, fmax: np.ndarray) -> np.ndarray:
    """CPU share F_j^max / n_j for every offloaded IoTD (0 when local): a feasible f for ``a``."""
    m = fmax.shape[0]
    onehot = a[..., None] == np.arange(1, m + 1)
    counts = onehot.sum(-2)  # (..., T, M)
    share = fmax / np.maximum(counts, 1)
    return np.where(a > 0, np.take_along_axis(share, np.maximum(a - 1, 0), -1), 0.0)


def price_allocation(
    decisions: np.ndarray, cpu_hz: np.ndarray, power_w: np.ndarray, gains: np.ndarray, params: SystemParams
) -> np.ndarray:
    """Objective ``(T,)`` of decisions with an explicit allocation (f, p), each ``(T, N)``.

    The allocation must be feasible (checked): 0 < p ≤ P_max, f > 0 for offloaded IoTDs and
    Σ_{i→j} f_ij ≤ F_j^max (relative tolerance 1e-9).
    """
    g = check_gains(gains)
    g = g[None] if g.ndim == 2 else g
    a = check_decisions(decisions, g.shape[1], g.shape[2])
    a = np.broadcast_to(a, g.shape[:2])
    ph = _Physics.build(g, params)
    f = np.asarray(cpu_hz, dtype=np.float64)
    p = np.asarray(power_w, dtype=np.float64)
    off = a > 0
    if np.any(off & ~((p > 0) & (p <= ph.pmax * (1 + 1e-12)))):
        raise ParameterError("power_w: offloaded IoTDs need 0 < p <= max_power_w")
    if np.any(off & ~(f > 0)):
        raise ParameterError("cpu_hz: offloaded IoTDs need a CPU share f > 0")
    m = g.shape[2]
    load = np.einsum("tnm,tn->tm", (a[..., None] == np.arange(1, m + 1)).astype(np.float64), np.where(off, f, 0.0))
    if np.any(load > ph.fmax * (1 + 1e-9)):
        raise ParameterError("cpu_hz: the CPU shares on a server exceed its mec_cpu_hz")
    return _price(a, f, p, ph)


def _mutate_alloc(f, p, gamma, beta, rng):
    """Multiplicative Lévy steps of f and p in log space: v = x · exp(s·γ·d)."""
    df = mantegna_steps(beta, f.shape, rng)
    dp = mantegna_steps(beta, p.shape, rng)
    return (f * np.exp(np.clip(_LOG_STEP * gamma * df, -30, 30)), p * np.exp(np.clip(_LOG_STEP * gamma * dp, -30, 30)))


# ------------------------------------------------------------------------------ the search
def levy_flight(
    gains,
    params: SystemParams,
    start=None,
    *,
    population: int = 5,
    iterations: int = 10,
    beta: float = 1.5,
    th: float = 0.4,
    variant: str = "proposed",
    rng=None,
    allocation: str = "exact",
    tables: CostTables | None = None,
    eta: float = 1.0,
    progress: bool = False,
) -> LevyResult:
    """Lévy flight search (Alg. 4, or the classic eq. 18) from ``start`` on every channel sample.

    gains: ``(T, N, M)`` (or ``(N, M)``); start: ``(T, N)`` decisions, ``None`` = Remote
    (:func:`dirs.solvers.heuristics.remote`).  population P ≥ 1, iterations G_max ≥ 0,
    β ∈ (0, 2], th ∈ [0, 1]; ``eta`` is the classic variant's step size η.  ``tables``:
    precomputed :func:`dirs.solvers.costs.cost_tables` of ``gains`` (reused, not recomputed).
    Returns the best member per sample and the best objective per iteration.
    """
    check_settings(population, iterations, beta, th, variant, allocation)
    rng = _as_rng(rng)
    g = check_gains(gains)
    single = g.ndim == 2
    g = g[None] if single else g
    t_, n, m = g.shape
    params.check_sizes(n, m, t_)
    if start is None:
        from dirs.solvers.heuristics import remote

        start = remote(g, params)
    a0 = check_decisions(start, n, m)
    a0 = np.broadcast_to(a0, (t_, n)) if a0.ndim == 1 else a0
    if a0.shape[0] != t_:
        raise ParameterError(f"start: {a0.shape[0]} samples but gains has {t_}")
    if tables is None:
        tables = cost_tables(g, params)
    elif tables.tx.shape != g.shape:
        raise ParameterError(f"tables: cost tables of shape {tables.tx.shape} do not match gains {g.shape}")
    hnorm = normalised_gains(g)
    P = int(population)
    G = int(iterations)

    pop = init_population(a0, P, hnorm, beta, rng)
    search = allocation == "search"
    if search:
        ph = _Physics.build(g, params)
        f_pop = equal_shares(pop, ph.fmax)
        p_pop = np.where(pop > 0, ph.pmax, 0.0)
        if P > 1:  # members other than the start draw their powers at random
            p_pop[1:] = np.where(pop[1:] > 0, rng.uniform(_P_FLOOR, 1.0, size=pop[1:].shape) * ph.pmax, 0.0)
        fit = _price(pop, f_pop, p_pop, ph)
    else:
        fit = tables.objective(pop)  # (P, T)
    history = np.empty((G + 1, t_))
    history[0] = fit.min(0)

    steps = range(1, G + 1)
    if progress:
        from tqdm import tqdm

        steps = tqdm(steps, desc=f"levy[{variant}]", leave=False)
    for it in steps:
        gamma = 2.0 - 2.0 * it / G
        if variant == "proposed":
            mutant = h_mutation(pop, hnorm, gamma, beta, rng)
            take = levy_crossover_mask(pop.shape, gamma, beta, th, rng)
            trial = np.where(take, mutant, pop)
        else:
            trial = classic_move(pop, m, beta, eta, rng)
            take = trial != pop
        if search:
            fv, pv = _mutate_alloc(f_pop, p_pop, max(gamma, 1e-3) if variant == "proposed" else 1.0, beta, rng)
            moved = trial != pop
            # an IoTD that changes server starts from that server's equal share and a random power
            fv = np.where(moved, equal_shares(trial, ph.fmax), fv)
            pv = np.where(moved | (pop == 0), rng.uniform(_P_FLOOR, 1.0, size=pop.shape) * ph.pmax, pv)
            f_t = np.where(take, fv, f_pop)
            p_t = np.where(take, pv, p_pop)
            f_t, p_t = _repair(trial, f_t, p_t, ph)
            fit_t = _price(trial, f_t, p_t, ph)
        else:
            fit_t = tables.objective(trial)
        better = fit_t < fit  # eq. 23: greedy selection, per member and sample
        pop = np.where(better[..., None], trial, pop)
        fit = np.where(better, fit_t, fit)
        if search:
            f_pop = np.where(better[..., None], f_t, f_pop)
            p_pop = np.where(better[..., None], p_t, p_pop)
        history[it] = fit.min(0)

    best = fit.argmin(0)  # (T,)
    cols = np.arange(t_)
    out = LevyResult(decisions=pop[best, cols], objective=fit[best, cols], history=history)
    if search:
        out.cpu_hz = f_pop[best, cols]
        out.power_w = p_pop[best, cols]
    if single:
        out.decisions, out.objective, out.history = out.decisions[0], out.objective[0], out.history[:, 0]
        if search:
            out.cpu_hz, out.power_w = out.cpu_hz[0], out.power_w[0]
    return out


__all__ = [
    "ALLOCATIONS",
    "LevyResult",
    "VARIANTS",
    "classic_move",
    "equal_shares",
    "h_mutation",
    "init_population",
    "levy_crossover_mask",
    "levy_flight",
    "normalised_gains",
    "price_allocation",
    "start_decisions",
]


def levy_kwargs(settings) -> dict:
    """Keyword arguments of :func:`levy_flight` from one Lévy settings block of the config
    (``search.online``, ``search.demo``, ``search.fig4``: population, iterations, beta, th, and
    optionally variant and allocation) — the one place that turns settings into a search."""

    def plain(v):
        return str(getattr(v, "value", v))

    out = dict(
        population=int(settings.population),
        iterations=int(settings.iterations),
        beta=float(settings.beta),
        th=float(settings.th),
    )
    for key in ("variant", "allocation"):
        if key in settings and settings[key] is not None:
            out[key] = plain(settings[key])
    return out
