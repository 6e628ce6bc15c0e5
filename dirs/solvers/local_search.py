"""Single-IoTD improving moves, vectorised over samples (used for "DIRS + repair" and bounds).

For every sample, every IoTD i and every option o the change in objective of moving i from its
current option to o, given the current loads, is computed at once ((T, N, M+1) array); the best
improving move of each sample is applied, and the process repeats until no sample improves.
"""

from __future__ import annotations

import numpy as np

from dirs.solvers.costs import CostTables, cost_tables
from dirs.system.cost import server_loads
from dirs.system.params import SystemParams


def move_deltas(decisions: np.ndarray, tables: CostTables) -> np.ndarray:
    """(T, N, M+1) objective change of moving each IoTD to each option (0 where it already is)."""
    a = decisions
    t_, n = a.shape
    m = tables.tx.shape[-1]
    opts = tables.options()  # (T, N, M+1)
    sf = tables.sqrt_f_tn  # (T, N), a view when per IoTD only
    w = np.concatenate(([0.0], tables.phi_t / tables.mec_cpu_hz))  # congestion weight, local = 0
    loads = server_loads(a, sf, m)  # (T, M+1)
    cur = np.take_along_axis(opts, a[..., None], -1)[..., 0]  # (T, N)
    s_cur = np.take_along_axis(loads, a, 1)
    w_cur = w[a]
    # removing i from its option: cost drops by cur + w (S² − (S − √F)²)
    remove = cur + w_cur * (2.0 * s_cur * sf - sf * sf)
    # adding i to option o (o ≠ current): opts + w_o ((S_o + √F)² − S_o²)
    add = opts + w[None, None, :] * (2.0 * loads[:, None, :] * sf[:, :, None] + (sf * sf)[:, :, None])
    delta = add - remove[..., None]
    np.put_along_axis(delta, a[..., None], 0.0, -1)
    return delta


def improve_tables(decisions: np.ndarray, tables: CostTables, max_rounds: int | None = None, tol: float = 1e-12):
    """Apply best single-IoTD moves until no sample improves (or ``max_rounds``)."""
    a = np.array(decisions, dtype=np.int64, copy=True)
    t_, n = a.shape
    m1 = tables.tx.shape[-1] + 1
    rounds = max_rounds if max_rounds is not None else 4 * n * m1
    active = np.arange(t_)
    for _ in range(rounds):
        if active.size == 0:
            break
        sub = tables.take(active)
        delta = move_deltas(a[active], sub).reshape(active.size, -1)
        best = delta.argmin(-1)
        val = delta[np.arange(active.size), best]
        improving = val < -tol * np.maximum(1.0, np.abs(sub.local).sum(-1))
        rows = active[improving]
        a[rows, best[improving] // m1] = best[improving] % m1
        active = rows
    return a


def improve(decisions: np.ndarray, gains: np.ndarray, params: SystemParams, max_rounds: int | None = None):
    """Local search from ``decisions`` ``(T, N)`` on ``gains`` ``(T, N, M)``; returns improved decisions."""
    a = np.asarray(decisions)
    single = a.ndim == 1
    out = improve_tables(np.atleast_2d(a), cost_tables(gains, params), max_rounds)
    return out[0] if single else out
