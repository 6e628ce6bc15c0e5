"""Incumbents of the certified solver: single-IoTD moves and pair exchanges (docs/design.md §3.3).

They only propose decisions; every decision is priced exactly (:meth:`Sample.objective`), so nothing
here affects a bound.
"""

from __future__ import annotations

import numpy as np


def one_opt(a: np.ndarray, c: np.ndarray, s: np.ndarray, w: np.ndarray, max_rounds: int = 10_000) -> np.ndarray:
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


def swap_search(a: np.ndarray, c: np.ndarray, s: np.ndarray, w: np.ndarray, max_rounds: int = 10_000) -> np.ndarray:
    """Best single-IoTD move or pair exchange (i: j → k, l: k → j) until none improves.

    The exchange's change is Δc + w_j (2 L_j δ + δ²) + w_k (δ² − 2 L_k δ) with δ = s_l − s_i (local
    has w = 0); every pair at once, ``(N, N)`` arrays.
    """
    a = one_opt(a, c, s, w, max_rounds)
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
        a = one_opt(a, c, s, w, max_rounds)
    return a
