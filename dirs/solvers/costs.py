"""Per-sample cost tables shared by every solver: transmission cost per (IoTD, server), local cost.

With the closed-form allocation (docs/design.md §2) the objective of one channel sample is
Σ_i c_{i,a_i} + Σ_j φT (Σ_{i: a_i=j} √F_i)² / F_j^max (docs/design.md §3, §9): the tables hold c (local
and transmission costs) and √F.  Task fields given per sample (docs/design.md §9) make ``local`` and
``sqrt_f`` ``(T, N)``; otherwise they stay ``(N,)``, so per-IoTD-only results do not change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dirs.system.allocation import local_cost, transmission_cost
from dirs.system.cost import check_gains
from dirs.system.params import ParameterError, SystemParams


@dataclass(frozen=True)
class CostTables:
    """Everything a decision-space solver needs, for a batch of T channel samples."""

    tx: np.ndarray
    """(T, N, M) transmission cost φT·D/r + φE·p D/r at the optimal power."""
    local: np.ndarray
    """(N,) local cost φT·T_i0 + φE·E_i0; (T, N) when task fields vary per sample."""
    sqrt_f: np.ndarray
    """(N,) √F_i (the CPU allocation's weight); (T, N) when F varies per sample."""
    mec_cpu_hz: np.ndarray
    """(M,) F_j^max."""
    phi_t: float

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.tx.shape  # type: ignore[return-value]

    @property
    def per_sample(self) -> bool:
        """True when ``local`` or ``sqrt_f`` is given per sample, ``(T, N)``."""
        return self.local.ndim == 2 or self.sqrt_f.ndim == 2

    @property
    def local_tn(self) -> np.ndarray:
        """(T, N) local cost (a broadcast view when it is per IoTD only)."""
        return np.broadcast_to(self.local, self.tx.shape[:2])

    @property
    def sqrt_f_tn(self) -> np.ndarray:
        """(T, N) √F (a broadcast view when it is per IoTD only)."""
        return np.broadcast_to(self.sqrt_f, self.tx.shape[:2])

    def take(self, index) -> CostTables:
        """The tables of the samples ``index`` (a slice or an index array): slices ``tx`` and every
        per-sample ``(T, N)`` field alike."""
        if isinstance(index, (int, np.integer)):
            index = slice(int(index), int(index) + 1) if index != -1 else slice(-1, None)
        return CostTables(
            tx=self.tx[index],
            local=self.local[index] if self.local.ndim == 2 else self.local,
            sqrt_f=self.sqrt_f[index] if self.sqrt_f.ndim == 2 else self.sqrt_f,
            mec_cpu_hz=self.mec_cpu_hz,
            phi_t=self.phi_t,
        )

    def options(self) -> np.ndarray:
        """(T, N, M+1) standalone cost of each option (0 = local) ignoring congestion."""
        t = self.tx.shape[0]
        loc = np.broadcast_to(self.local[..., None], (t, self.tx.shape[1], 1))
        return np.concatenate([loc, self.tx], axis=-1)

    def objective(self, decisions: np.ndarray) -> np.ndarray:
        """Objective of ``decisions`` ``(..., T, N)`` — same value as :func:`dirs.system.evaluate`.

        Any leading axes (e.g. a population) broadcast against the sample axis.
        """
        a = np.asarray(decisions)
        opts = self.options()
        base = np.take_along_axis(np.broadcast_to(opts, a.shape + (opts.shape[-1],)), a[..., None], -1)[..., 0]
        m = self.tx.shape[-1]
        onehot = a[..., None] == np.arange(1, m + 1)  # (..., T, N, M)
        if self.sqrt_f.ndim == 1:
            loads = np.einsum("...nm,n->...m", onehot.astype(np.float64), self.sqrt_f)
        else:
            loads = np.einsum("...tnm,tn->...tm", onehot.astype(np.float64), self.sqrt_f)
        congestion = self.phi_t * (loads * loads / self.mec_cpu_hz).sum(-1)
        return base.sum(-1) + congestion


def cost_tables(gains: np.ndarray, params: SystemParams) -> CostTables:
    """Cost tables of channel samples ``gains`` ``(T, N, M)`` (or ``(N, M)``) under ``params``,
    whose per-IoTD fields may be per sample ``(T, N)`` (docs/design.md §9)."""
    g = check_gains(gains)
    if g.ndim == 2:
        g = g[None]
    t_, n, m = g.shape
    params.check_sizes(n, m, t_)
    tx, _, _, _ = transmission_cost(g, params)
    loc, _, _ = local_cost(params)
    loc = np.asarray(loc, dtype=np.float64)
    if tx.shape != g.shape:  # only a per-sample field against (N, M) gains could do this
        raise ParameterError(f"gains: shape {g.shape} does not match the per-sample task fields")
    return CostTables(
        tx=tx,
        local=np.broadcast_to(loc, (t_, n) if loc.ndim == 2 else (n,)).copy(),
        sqrt_f=np.sqrt(params.per_iotd("cpu_cycles", n)),
        mec_cpu_hz=params.per_server("mec_cpu_hz", m).copy(),
        phi_t=params.phi_t,
    )
