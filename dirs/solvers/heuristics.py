"""Heuristic baselines (paper §V-D; docs/design.md §5): Local, Remote, Random, and our Greedy.

* **Local**: every IoTD computes locally.
* **Remote**: every IoTD offloads to its strongest-gain server; while a server's per-IoTD CPU share
  falls below an IoTD's local CPU f_i0, its weakest-gain IoTD goes local.
* **Random**: a uniform choice in {0..M} per IoTD, then the same capacity rule.
* **Greedy** (ours): IoTDs in decreasing order of their best saving (local cost minus their cheapest
  transmission cost) each take the option of least marginal cost given the loads so far (server
  j's k-th IoTD adds φT F (2k − 1) / F_j^max).  Vectorised over samples; its loop runs over the
  N positions of the order, which is inherently sequential.
"""

from __future__ import annotations

import numpy as np

from dirs.solvers.costs import CostTables, cost_tables
from dirs.system.cost import check_gains
from dirs.system.params import SystemParams


def local(gains: np.ndarray, params: SystemParams | None = None) -> np.ndarray:
    """All IoTDs compute locally: zeros ``(T, N)``."""
    g = np.asarray(gains)
    return np.zeros(g.shape[:-1], dtype=np.int64)


def capacity_rule(decisions: np.ndarray, gains: np.ndarray, params: SystemParams) -> np.ndarray:
    """Send a server's weakest-gain IoTDs local while some IoTD's CPU share is below its f_i0.

    With the exact CPU split f_ij = F_j^max √F_i / S_j (S_j = Σ √F_k over the kept IoTDs), the
    strongest-gain prefix of length k is kept iff S_k / F^max ≤ min_{i ≤ k} √F_i / f_i0, which is
    monotone in k; the longest such prefix is kept.  Loop over servers only.  Task fields may be
    per sample ``(T, N)`` (docs/design.md §9).
    """
    a = np.array(decisions, dtype=np.int64, copy=True)
    g = np.asarray(gains, dtype=np.float64)
    t_, n, m = g.shape
    params.check_sizes(n, m, t_)
    sf = np.broadcast_to(np.sqrt(params.per_iotd("cpu_cycles", n)), (t_, n))
    ratio = np.broadcast_to(sf / params.per_iotd("local_cpu_hz", n), (t_, n))  # √F_i / f_i0
    fmax = params.per_server("mec_cpu_hz", m)
    rows = np.arange(t_)[:, None]
    for j in range(m):
        on = a == j + 1
        if not on.any():
            continue
        key = np.where(on, g[..., j], -np.inf)
        order = np.argsort(-key, axis=1, kind="stable")  # strongest first
        on_sorted = on[rows, order]
        load = np.cumsum(np.where(on_sorted, sf[rows, order], 0.0), axis=1)
        rmin = np.minimum.accumulate(np.where(on_sorted, ratio[rows, order], np.inf), axis=1)
        keep_sorted = on_sorted & (load / fmax[j] <= rmin * (1 + 1e-12))
        drop = on_sorted & ~keep_sorted
        a[rows, order] = np.where(drop, 0, a[rows, order])
    return a


def remote(gains: np.ndarray, params: SystemParams) -> np.ndarray:
    """Every IoTD to its strongest-gain server, then the capacity rule."""
    g = check_gains(gains)
    single = g.ndim == 2
    g3 = g[None] if single else g
    a = capacity_rule(g3.argmax(-1) + 1, g3, params)
    return a[0] if single else a


def random_decision(gains: np.ndarray, params: SystemParams, rng: np.random.Generator | int = 0) -> np.ndarray:
    """Uniform choice in {0..M} per IoTD, then the capacity rule."""
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(rng)
    g = check_gains(gains)
    single = g.ndim == 2
    g3 = g[None] if single else g
    a = rng.integers(0, g3.shape[-1] + 1, size=g3.shape[:2])
    a = capacity_rule(a, g3, params)
    return a[0] if single else a


def greedy_tables(tables: CostTables) -> np.ndarray:
    """Greedy decisions ``(T, N)`` from precomputed cost tables (per-IoTD or per-sample tasks)."""
    tx = tables.tx
    t_, n, m = tx.shape
    sf = tables.sqrt_f_tn
    local = tables.local_tn
    w = tables.phi_t / tables.mec_cpu_hz  # (M,)
    saving = local - tx.min(-1)  # (T, N)
    order = np.argsort(-saving, axis=1, kind="stable")
    loads = np.zeros((t_, m))
    out = np.zeros((t_, n), dtype=np.int64)
    rows = np.arange(t_)
    for k in range(n):
        i = order[:, k]
        s = sf[rows, i][:, None]
        marg = tx[rows, i] + w * (2.0 * loads * s + s * s)  # (T, M)
        j = marg.argmin(-1)
        go = marg[rows, j] < local[rows, i]
        out[rows, i] = np.where(go, j + 1, 0)
        loads[rows[go], j[go]] += s[go, 0]
    return out


def greedy(gains: np.ndarray, params: SystemParams) -> np.ndarray:
    """Greedy marginal-cost decisions for every sample (see module docstring)."""
    g = np.asarray(gains, dtype=np.float64)
    out = greedy_tables(cost_tables(g, params))
    return out[0] if g.ndim == 2 else out


#: Registry used by the pipeline and the benchmark: name → callable(gains, params, rng).
HEURISTICS = {
    "local": lambda g, p, rng: local(g, p),
    "remote": lambda g, p, rng: remote(g, p),
    "random": lambda g, p, rng: random_decision(g, p, rng),
    "greedy": lambda g, p, rng: greedy(g, p),
}


# ------------------------------------------------------------------ registry (dirs.methods)
def _register() -> None:
    from dirs.methods import register

    for name, label, fn in (
        ("local", "Local", local),
        ("remote", "Remote", remote),
        ("random", "Random", random_decision),
        ("greedy", "Greedy", greedy),
    ):

        def build(cfg, params, rng, _fn=fn, _name=name):
            if _name == "random":
                return lambda g: _fn(g, params, rng)
            return lambda g: _fn(g, params)

        build.__qualname__ = f"build_{name}"
        # one random stream for every heuristic (only Random draws from it)
        register(name, label=label, kind="heuristic", stream=(0x8E0,))(build)


_register()
