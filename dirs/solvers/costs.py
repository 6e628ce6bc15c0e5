"""Per-sample cost tables shared by every solver: transmission cost per (IoTD, server), local cost."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dirs.system.allocation import local_cost, transmission_cost
from dirs.system.cost import check_gains
from dirs.system.params import SystemParams


@dataclass(frozen=True)
class CostTables:
    """Everything a decision-space solver needs, for a batch of T channel samples."""

    tx: np.ndarray
    """(T, N, M) transmission cost φT·D/r + φE·p D/r at the optimal power."""
    local: np.ndarray
    """(N,) local cost φT·T_i0 + φE·E_i0."""
    sqrt_f: np.ndarray
    """(N,) √F_i (the CPU allocation's weight)."""
    mec_cpu_hz: np.ndarray
    """(M,) F_j^max."""
    phi_t: float

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.tx.shape  # type: ignore[return-value]

    def options(self) -> np.ndarray:
        """(T, N, M+1) standalone cost of each option (0 = local) ignoring congestion."""
        t = self.tx.shape[0]
        loc = np.broadcast_to(self.local[None, :, None], (t, self.tx.shape[1], 1))
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
        loads = np.einsum("...nm,n->...m", onehot.astype(np.float64), self.sqrt_f)
        congestion = self.phi_t * (loads * loads / self.mec_cpu_hz).sum(-1)
        return base.sum(-1) + congestion


def cost_tables(gains: np.ndarray, params: SystemParams) -> CostTables:
    g = check_gains(gains)
    if g.ndim == 2:
        g = g[None]
    _, n, m = g.shape
    params.check_sizes(n, m)
    tx, _, _, _ = transmission_cost(g, params)
    loc, _, _ = local_cost(params)
    return CostTables(
        tx=tx,
        local=np.broadcast_to(np.asarray(loc, dtype=np.float64), (n,)).copy(),
        sqrt_f=np.sqrt(params.per_iotd("cpu_cycles", n)),
        mec_cpu_hz=params.per_server("mec_cpu_hz", m).copy(),
        phi_t=params.phi_t,
    )
