"""Population baselines of paper §V-D on the decision space {0..M}^N (docs/design.md §5): PSO and DE.

* :func:`differential_evolution_search` — SciPy's :func:`scipy.optimize.differential_evolution`
  (``integrality`` on every IoTD, ``vectorized=True`` so each generation is one call of
  :meth:`CostTables.objective`, ``updating="deferred"``, seeded ``rng``), one optimisation per
  channel sample.
* :func:`pso` — a textbook global-best particle swarm (Clerc–Kennedy constriction weights
  w = 0.7298, c1 = c2 = 1.49618) on continuous positions in [−0.5, M + 0.5] decoded by rounding,
  vectorised over particles × samples × IoTDs.

Both offer the **textbook** start (a uniformly random initial population: the paper's baselines)
and a **seeded** start (Greedy and Remote solutions in the initial population, the rest random),
which shows what a good start buys.  Both use the exact allocation for pricing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dirs.solvers.costs import CostTables, cost_tables
from dirs.system.cost import check_gains
from dirs.system.params import ParameterError, SystemParams


@dataclass
class SwarmResult:
    """Outcome of :func:`pso` or :func:`differential_evolution_search` for T channel samples."""

    decisions: np.ndarray
    """(T, N) best decision per sample, ints 0..M."""
    objective: np.ndarray
    """(T,) its objective (exact allocation)."""
    initial: np.ndarray
    """(T,) best objective in the initial population."""
    history: np.ndarray
    """(iterations + 1, T) best objective so far per iteration/generation (row 0 = initial)."""
    evaluations: int
    """Objective evaluations per sample."""


def _as_rng(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _prepare(gains, params, tables):
    g = check_gains(gains)
    single = g.ndim == 2
    g = g[None] if single else g
    params.check_sizes(g.shape[1], g.shape[2], g.shape[0])
    if tables is None:
        tables = cost_tables(g, params)
    elif tables.tx.shape != g.shape:
        raise ParameterError(f"tables: cost tables of shape {tables.tx.shape} do not match gains {g.shape}")
    return g, single, tables


def heuristic_seeds(gains: np.ndarray, params: SystemParams, tables: CostTables) -> np.ndarray:
    """(2, T, N) heuristic members of a seeded initial population: Greedy and Remote."""
    from dirs.solvers.heuristics import greedy_tables, remote

    return np.stack([greedy_tables(tables), remote(gains, params)])


def initial_population(
    size: int, gains, params, tables: CostTables, seeded: bool, rng: np.random.Generator
) -> np.ndarray:
    """(size, T, N) initial decisions: uniform in {0..M}; with ``seeded`` the first members are
    the heuristic solutions of :func:`heuristic_seeds`."""
    t_, n, m = tables.tx.shape
    pop = rng.integers(0, m + 1, size=(size, t_, n))
    if seeded:
        seeds = heuristic_seeds(gains, params, tables)[:size]
        pop[: len(seeds)] = seeds
    return pop


def _finish(single: bool, res: SwarmResult) -> SwarmResult:
    if single:
        res.decisions, res.objective, res.initial = res.decisions[0], res.objective[0], res.initial[0]
        res.history = res.history[:, 0]
    return res


# ------------------------------------------------------------------------------------ PSO
def pso(
    gains,
    params: SystemParams,
    *,
    particles: int = 30,
    iterations: int = 100,
    seeded: bool = False,
    rng=None,
    tables: CostTables | None = None,
    w: float = 0.7298,
    c1: float = 1.49618,
    c2: float = 1.49618,
) -> SwarmResult:
    """Global-best PSO on every channel sample at once (see module docstring).

    Positions live in [−0.5, M + 0.5]^N; a particle's decision is its rounded position.  Velocities
    are clamped to ±(M + 1)/2.  ``seeded`` puts Greedy and Remote among the initial particles.
    """
    if int(particles) < 2:
        raise ParameterError(f"particles: PSO needs >= 2 particles, got {particles}")
    if int(iterations) < 0:
        raise ParameterError(f"iterations: must be >= 0, got {iterations}")
    rng = _as_rng(rng)
    g, single, tables = _prepare(gains, params, tables)
    t_, n, m = g.shape
    lo, hi = -0.5, m + 0.5
    vmax = (m + 1) / 2.0
    a0 = initial_population(int(particles), g, params, tables, seeded, rng)
    x = a0 + rng.uniform(-0.49, 0.49, size=a0.shape)  # jitter inside each decision's rounding cell
    v = rng.uniform(-vmax, vmax, size=x.shape) * 0.1

    def decode(pos):
        return np.clip(np.rint(pos), 0, m).astype(np.int64)

    pbest_x = x.copy()
    pbest_f = tables.objective(decode(x))  # (S, T)
    history = np.empty((int(iterations) + 1, t_))
    cols = np.arange(t_)
    gi = pbest_f.argmin(0)
    history[0] = pbest_f[gi, cols]
    initial = history[0].copy()
    for it in range(1, int(iterations) + 1):
        gbest_x = pbest_x[gi, cols]  # (T, N)
        r1 = rng.random(x.shape)
        r2 = rng.random(x.shape)
        v = w * v + c1 * r1 * (pbest_x - x) + c2 * r2 * (gbest_x[None] - x)
        np.clip(v, -vmax, vmax, out=v)
        x = np.clip(x + v, lo, hi)
        f = tables.objective(decode(x))
        better = f < pbest_f
        pbest_x = np.where(better[..., None], x, pbest_x)
        pbest_f = np.where(better, f, pbest_f)
        gi = pbest_f.argmin(0)
        history[it] = pbest_f[gi, cols]
    best = decode(pbest_x[gi, cols])
    return _finish(
        single,
        SwarmResult(
            decisions=best,
            objective=pbest_f[gi, cols],
            initial=initial,
            history=history,
            evaluations=int(particles) * (int(iterations) + 1),
        ),
    )


# ------------------------------------------------------------------------------------- DE
def differential_evolution_search(
    gains,
    params: SystemParams,
    *,
    popsize: int = 2,
    maxiter: int = 100,
    seeded: bool = False,
    rng=None,
    tables: CostTables | None = None,
    mutation=(0.5, 1.0),
    recombination: float = 0.7,
    strategy: str = "best1bin",
    progress: bool = False,
) -> SwarmResult:
    """SciPy differential evolution on each channel sample (see module docstring).

    ``popsize`` is SciPy's multiplier: the population has popsize·N members (at least 5);
    ``maxiter`` generations.  The initial population is drawn here (uniform in {0..M}, plus Greedy
    and Remote when ``seeded``) and passed as ``init`` so both variants start from a known set.
    """
    from scipy.optimize import differential_evolution

    if int(popsize) < 1:
        raise ParameterError(f"popsize: must be >= 1, got {popsize}")
    if int(maxiter) < 1:
        raise ParameterError(f"maxiter: must be >= 1, got {maxiter}")
    rng = _as_rng(rng)
    g, single, tables = _prepare(gains, params, tables)
    t_, n, m = g.shape
    size = max(5, int(popsize) * n)
    init = initial_population(size, g, params, tables, seeded, rng)  # (S, T, N)
    bounds = [(0, m)] * n
    integrality = np.ones(n, dtype=bool)
    decisions = np.empty((t_, n), dtype=np.int64)
    objective = np.empty(t_)
    history = np.empty((int(maxiter) + 1, t_))
    evaluations = 0
    samples = range(t_)
    if progress:
        from tqdm import tqdm

        samples = tqdm(samples, desc="DE", leave=False)
    for t in samples:
        one = tables_slice(tables, t)
        hist: list[float] = []

        def fun(xs: np.ndarray) -> np.ndarray:  # xs: (N, S) (vectorized=True)
            a = np.clip(np.rint(np.asarray(xs).T), 0, m).astype(np.int64)
            return one.objective(a[:, None, :])[:, 0]

        def callback(intermediate_result):
            hist.append(float(intermediate_result.fun))

        res = differential_evolution(
            fun,
            bounds,
            integrality=integrality,
            vectorized=True,
            updating="deferred",
            polish=False,
            init=init[:, t, :].astype(np.float64),
            maxiter=int(maxiter),
            popsize=int(popsize),
            tol=0.0,
            atol=0.0,
            mutation=mutation,
            recombination=recombination,
            strategy=strategy,
            rng=np.random.default_rng(rng.integers(1 << 62)),
            callback=callback,
        )
        decisions[t] = np.clip(np.rint(res.x), 0, m).astype(np.int64)
        objective[t] = one.objective(decisions[t][None])[0]
        first = float(one.objective(init[:, t, None, :]).min())
        h = np.minimum.accumulate(np.array([first] + hist))
        history[: len(h), t] = h
        history[len(h) :, t] = h[-1]
        evaluations = max(evaluations, size * (int(res.nit) + 1))
    initial = history[0].copy()
    return _finish(
        single,
        SwarmResult(
            decisions=decisions, objective=objective, initial=initial, history=history, evaluations=evaluations
        ),
    )


def tables_slice(tables: CostTables, t: int) -> CostTables:
    """The cost tables of sample ``t`` alone (shape (1, N, M); per-sample task fields sliced too)."""
    return tables.take(slice(t, t + 1))


#: Registry for the benchmark and stages: name → callable(gains, params, budget, seeded, rng, tables).
SWARMS = {
    "pso": lambda g, p, budget, seeded, rng, tables=None, **kw: pso(
        g, p, iterations=budget, seeded=seeded, rng=rng, tables=tables, **kw
    ),
    "de": lambda g, p, budget, seeded, rng, tables=None, **kw: differential_evolution_search(
        g, p, maxiter=budget, seeded=seeded, rng=rng, tables=tables, **kw
    ),
}

__all__ = [
    "SWARMS",
    "SwarmResult",
    "differential_evolution_search",
    "heuristic_seeds",
    "initial_population",
    "pso",
    "tables_slice",
]
