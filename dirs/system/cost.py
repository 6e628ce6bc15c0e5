"""Vectorised evaluation of offloading decisions (paper eqs. 2-9 with the exact allocation).

``evaluate(decisions, gains, params)`` prices a batch of decisions ``(T, N)`` on channel samples
``(T, N, M)``: per sample the objective Σ_i Φ_i, the total time Σ_i T_i and total energy Σ_i E_i.
No Python loop over samples or IoTDs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dirs.system.allocation import local_cost, optimal_transmission
from dirs.system.params import ParameterError, SystemParams


@dataclass(frozen=True)
class Costs:
    """Evaluation of a batch of decisions; arrays have a leading sample axis T."""

    objective: np.ndarray
    """(T,) Σ_i φT T_i + φE E_i — lower is better; the paper's reward is 1/objective."""
    time: np.ndarray
    """(T,) Σ_i T_i in seconds."""
    energy: np.ndarray
    """(T,) Σ_i E_i in joules."""
    per_iotd: np.ndarray | None = None
    """(T, N) Φ_i, only with ``return_allocation=True``."""
    power_w: np.ndarray | None = None
    """(T, N) transmit power (0 for local IoTDs), only with ``return_allocation=True``."""
    cpu_hz: np.ndarray | None = None
    """(T, N) CPU frequency serving each task (server share f_ij, or f_i0 when local)."""

    @property
    def reward(self) -> np.ndarray:
        """The paper's reward 1 / objective."""
        return 1.0 / self.objective


def as_gains(gains, name: str = "gains") -> np.ndarray:
    """``gains`` as a float64 array; anything that is not numbers (a string, ``None``, a ragged list,
    booleans) is one ParameterError naming ``name``."""
    try:
        kind = np.asarray(gains).dtype.kind if not isinstance(gains, (str, bytes)) else "U"
    except (TypeError, ValueError):  # e.g. a ragged nested list
        kind = "O"
    if kind not in "iuf":
        raise ParameterError(
            f"{name}: expected a numeric array of channel gains (T, N, M) or (N, M), got "
            f"{type(gains).__name__} {str(gains)[:60]!r}"
        )
    return np.asarray(gains, dtype=np.float64)


def check_gains(gains: np.ndarray, name: str = "gains") -> np.ndarray:
    """Validate a gain array ``(T, N, M)`` (or ``(N, M)``): numbers, finite and strictly positive."""
    g = as_gains(gains, name)
    if g.ndim not in (2, 3):
        raise ParameterError(f"{name}: expected shape (T, N, M) or (N, M), got {g.shape}")
    if not np.all(np.isfinite(g)) or np.any(g <= 0):
        bad = tuple(int(i) for i in np.argwhere(~(np.isfinite(g) & (g > 0)))[0])
        raise ParameterError(
            f"{name}: channel gains must be finite and > 0; first bad entry at index {bad} = {float(g[bad])}"
        )
    return g


def check_decisions(decisions: np.ndarray, num_iotds: int, num_servers: int) -> np.ndarray:
    a = np.asarray(decisions)
    if a.ndim not in (1, 2) or a.shape[-1] != num_iotds:
        raise ParameterError(f"decisions: expected shape (T, {num_iotds}) or ({num_iotds},), got {a.shape}")
    if not np.issubdtype(a.dtype, np.integer):
        if not np.all(np.equal(np.mod(a, 1), 0)):
            raise ParameterError("decisions: must be integers in 0..M (0 = local, j = server j)")
        a = a.astype(np.int64)
    if a.size and (a.min() < 0 or a.max() > num_servers):
        raise ParameterError(
            f"decisions: values must lie in 0..{num_servers} (0 = local, j = server j), "
            f"got range [{a.min()}, {a.max()}]"
        )
    return a


def server_loads(decisions: np.ndarray, weights: np.ndarray, num_servers: int) -> np.ndarray:
    """Σ of ``weights`` (per IoTD, (N,) or per sample (T, N)) over the IoTDs on each option: ``(T, M+1)``; column 0 = local."""
    t, n = decisions.shape
    idx = decisions + (num_servers + 1) * np.arange(t)[:, None]
    w = np.broadcast_to(weights, (t, n)).ravel()
    return np.bincount(idx.ravel(), weights=w, minlength=t * (num_servers + 1)).reshape(t, num_servers + 1)


def evaluate(decisions, gains, params: SystemParams, *, return_allocation: bool = False) -> Costs:
    """Objective, time and energy of ``decisions`` under the exact allocation (docs/design.md §2).

    decisions: ``(T, N)`` (or ``(N,)``) ints in 0..M, 0 = local, j = server j.
    gains: ``(T, N, M)`` (or ``(N, M)``) channel gains h_ij.
    params: per-IoTD fields scalar, ``(N,)`` or per sample ``(T, N)`` (docs/design.md §9; T must match).
    """
    g = as_gains(gains)
    single = g.ndim == 2
    if single:
        g = g[None]
    if g.ndim != 3:
        raise ParameterError(f"gains: expected shape (T, N, M) or (N, M), got {g.shape}")
    if not isinstance(params, SystemParams):
        raise ParameterError(
            f"params: expected a SystemParams (e.g. Scenario.load(...).params), got {type(params).__name__}"
        )
    t_, n, m = g.shape
    a = check_decisions(decisions, n, m)
    if a.ndim == 1:
        a = np.broadcast_to(a, (t_, n))
    if a.shape[0] != t_:
        raise ParameterError(f"decisions: {a.shape[0]} samples but gains has {t_}")
    params.check_sizes(n, m, t_)

    off = a > 0
    rows = np.repeat(np.arange(t_), n)  # flat sample index of every (t, i)
    flat = np.arange(t_ * n) * m + np.maximum(a.ravel() - 1, 0)
    # M = 0 (no server): every decision is 0 (checked above), so every IoTD runs locally
    h = g.reshape(-1)[flat].reshape(t_, n) if m else np.ones((t_, n))
    if not np.all((h > 0) & (h < np.inf) | ~off):  # NaN compares False: caught too
        raise ParameterError("gains: the gains of offloaded IoTDs must be finite and > 0")
    with np.errstate(over="ignore"):  # h / σ² beyond float range: the infinite-SNR limit (§2.3)
        x = np.where(off, h, 1.0) / params.noise_w
    d = np.asarray(params.data_bits)
    b = np.asarray(params.bandwidth_hz)
    p, t_tx, e_tx = optimal_transmission(x, params.phi_t, params.phi_e, d, b, np.asarray(params.max_power_w))

    f = params.per_iotd("cpu_cycles", n)
    sqrt_f = np.sqrt(f)
    loads = server_loads(a, sqrt_f, m)  # (T, M+1) Σ √F per option
    fmax = np.concatenate(([1.0], params.per_server("mec_cpu_hz", m)))
    s_sel = loads.reshape(-1)[rows * (m + 1) + a.ravel()].reshape(t_, n)
    s_sel[~off] = 1.0
    # compute time F_i / f_ij with f_ij = F^max √F_i / Σ √F_k  ⇒  √F_i Σ √F_k / F^max
    t_comp = sqrt_f * s_sel / fmax[a]

    _, t0, e0 = local_cost(params)
    time_i = np.where(off, t_tx + t_comp, t0)
    energy_i = np.where(off, e_tx, e0)
    cost_i = params.phi_t * time_i + params.phi_e * energy_i
    out = dict(objective=cost_i.sum(-1), time=time_i.sum(-1), energy=energy_i.sum(-1))
    if return_allocation:
        f0 = params.per_iotd("local_cpu_hz", n)
        out.update(
            per_iotd=cost_i,
            power_w=np.where(off, p, 0.0),
            cpu_hz=np.where(off, f / t_comp, f0),
        )
    if single:
        out = {k: v[0] for k, v in out.items()}
    return Costs(**out)
