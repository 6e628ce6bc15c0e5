"""One slot of the time-coupled model: pricing the served tasks and the drift-plus-penalty slot problem
(docs/design.md §11.2–§11.3).

The drift-plus-penalty problem (eq. 11.8) adds to eq. 11.6 a price π_j = Z_j / V per second of server
work, π_j F_i / F_j^max on option j of IoTD i: a per-(IoTD, option) constant, so the form is unchanged.

The tasks served in slot t are the head-of-line tasks of the IoTDs with a non-empty queue (the set S).
Each IoTD i ∈ S has a *time weight* w_i > 0; the slot's resources are allocated for the weighted cost

    Σ_{i ∈ S} φT w_i T_i + φE E_i                                                   (eq. 11.6)

which, exactly as in docs/design.md §2 for w = 1, separates given the decision a:

* power: IoTD i minimises D_i (φT w_i + φE p) / r_ij(p): the closed form of §2.2 with φT w_i in place
  of φT (p* grows with w_i: time is dearer);
* CPU: server j minimises φT Σ_{i→j} w_i F_i / f_ij subject to Σ f_ij ≤ F_j^max, so
  f_ij = F_j^max √(w_i F_i) / Σ_{k→j} √(w_k F_k) and the server's weighted cost is
  φT (Σ_{i→j} √(w_i F_i))² / F_j^max.

So the weighted slot problem is exactly the form the certified solver takes — c_{i,a} = the option's
weighted transmission or local cost, √F_i replaced by √(w_i F_i) — and :func:`slot_tables` builds
those :class:`dirs.solvers.costs.CostTables`. With w ≡ 1 (``weights=None``) everything is the paper's:
``slot_tables`` is :func:`dirs.solvers.costs.cost_tables` and :func:`price` returns the per-task times
and energies whose weighted sum is ``dirs.system.evaluate(a, gains, params).objective``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from dirs.solvers.costs import CostTables, cost_tables
from dirs.system.allocation import local_cost, optimal_transmission
from dirs.system.params import ParameterError, SystemParams


@dataclass(frozen=True)
class Priced:
    """Time and energy of each served task (n,) under the weighted allocation (eq. 11.6)."""

    time_s: np.ndarray
    """T_i: transmission + compute time if offloaded, F_i / f_i0 if local (seconds)."""
    energy_j: np.ndarray
    """E_i: transmission energy if offloaded, local execution energy otherwise (joules)."""
    cost: np.ndarray
    """Φ_i = φT T_i + φE E_i: the paper's cost of the task (unweighted; eq. 11.4)."""
    cycles_on: np.ndarray
    """(M,) Σ F_i over the tasks offloaded to each server (for the server utilisation)."""


def check_weights(weights, num: int, name: str = "time_weights") -> np.ndarray | None:
    """``None`` or an ``(num,)`` array of finite weights > 0."""
    if weights is None:
        return None
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (num,):
        raise ParameterError(f"{name}: expected shape ({num},), one weight per IoTD, got {w.shape}")
    if not (np.isfinite(w).all() and (w > 0).all()):
        raise ParameterError(f"{name}: weights must be finite and > 0")
    return w


def _fields(params: SystemParams, n: int) -> dict[str, np.ndarray]:
    return {
        name: np.asarray(params.per_iotd(name, n), dtype=np.float64)
        for name in ("data_bits", "cpu_cycles", "bandwidth_hz", "max_power_w")
    }


def slot_tables(
    gains: np.ndarray,
    params: SystemParams,
    weights: np.ndarray | None = None,
    server_price: np.ndarray | None = None,
) -> CostTables:
    """Cost tables (T = 1) of the weighted slot problem (eqs. 11.6, 11.8) over the served IoTDs.

    gains: ``(n, M)`` of the served IoTDs; params: their tasks and device fields (``(n,)`` or scalars;
    :meth:`dirs.online.sim.SlotState.served_params`); weights: ``(n,)`` time weights w_i, ``None`` = 1;
    server_price: ``(M,)`` cost per second of server work, π_j ≥ 0 (Z_j / V), adding π_j F_i / F_j^max to
    every option j of IoTD i (``None`` = 0). ``tables.objective(a)`` is Σ_i φT w_i T_i + φE E_i under the
    weighted allocation plus Σ_j π_j Σ_{i→j} F_i / F_j^max; with neither (both ``None``) the tables are
    :func:`dirs.solvers.costs.cost_tables`, the paper's problem.
    """
    g = np.asarray(gains, dtype=np.float64)
    tables = cost_tables(g, params) if weights is None else _weighted_tables(g, params, weights)
    if server_price is None:
        return tables
    n, m = g.shape
    pi = np.asarray(server_price, dtype=np.float64)
    if pi.shape != (m,) or not (np.isfinite(pi).all() and (pi >= 0).all()):
        raise ParameterError(f"server_price: expected ({m},) finite prices >= 0, got shape {pi.shape}")
    extra = np.asarray(params.per_iotd("cpu_cycles", n))[:, None] * (pi / tables.mec_cpu_hz)[None, :]
    return dataclasses.replace(tables, tx=tables.tx + extra[None])


def _weighted_tables(g: np.ndarray, params: SystemParams, weights) -> CostTables:
    n, m = g.shape
    w = check_weights(weights, n)
    params.check_sizes(n, m)
    f = _fields(params, n)
    phi = params.phi_t * w  # φT w_i: each IoTD's price of time
    with np.errstate(over="ignore"):
        x = g / params.noise_w
    _, t, e = optimal_transmission(
        x, phi[:, None], params.phi_e, f["data_bits"][:, None], f["bandwidth_hz"][:, None], f["max_power_w"][:, None]
    )
    _, t0, e0 = local_cost(params)
    local = phi * np.broadcast_to(t0, (n,)) + params.phi_e * np.broadcast_to(e0, (n,))
    return CostTables(
        tx=(phi[:, None] * t + params.phi_e * e)[None],
        local=np.ascontiguousarray(local),
        sqrt_f=np.sqrt(w * f["cpu_cycles"]),
        mec_cpu_hz=params.per_server("mec_cpu_hz", m).copy(),
        phi_t=params.phi_t,
    )


@dataclass(frozen=True)
class Device:
    """The device and server fields :func:`price_tasks` needs, as plain arrays (no per-slot validation)."""

    bandwidth_hz: np.ndarray
    max_power_w: np.ndarray
    local_cpu_hz: np.ndarray
    kappa: np.ndarray
    """(n,) per-IoTD fields."""
    mec_cpu_hz: np.ndarray
    """(M,) F_j^max."""
    noise_w: float
    nu: float
    phi_t: float
    phi_e: float

    @classmethod
    def from_params(cls, params: SystemParams, num_iotds: int, num_servers: int) -> Device:
        def per(name: str) -> np.ndarray:
            return np.ascontiguousarray(params.per_iotd(name, num_iotds), dtype=np.float64)

        return cls(
            per("bandwidth_hz"),
            per("max_power_w"),
            per("local_cpu_hz"),
            per("kappa"),
            params.per_server("mec_cpu_hz", num_servers).copy(),
            params.noise_w,
            params.nu,
            params.phi_t,
            params.phi_e,
        )

    def take(self, idx: np.ndarray) -> Device:
        """The fields of the IoTDs ``idx``."""
        return Device(
            self.bandwidth_hz[idx],
            self.max_power_w[idx],
            self.local_cpu_hz[idx],
            self.kappa[idx],
            self.mec_cpu_hz,
            self.noise_w,
            self.nu,
            self.phi_t,
            self.phi_e,
        )


def price(decisions: np.ndarray, gains: np.ndarray, params: SystemParams, weights: np.ndarray | None = None) -> Priced:
    """Time, energy and cost of the served tasks under decisions ``(n,)`` and the allocation of eq. 11.6;
    gains ``(n, M)``, params as in :func:`slot_tables` (see :func:`price_tasks`)."""
    g = np.asarray(gains, dtype=np.float64)
    n, m = g.shape
    params.check_sizes(n, m)
    cyc = np.asarray(params.per_iotd("cpu_cycles", n), dtype=np.float64)
    bits = np.asarray(params.per_iotd("data_bits", n), dtype=np.float64)
    return price_tasks(decisions, g, bits, cyc, Device.from_params(params, n, m), weights)


def price_tasks(decisions, gains, data_bits, cpu_cycles, device: Device, weights=None) -> Priced:
    """:func:`price` on plain arrays: tasks ``data_bits``, ``cpu_cycles`` ``(n,)``, ``device`` fields of
    the same IoTDs. Vectorised; no loop over IoTDs or servers."""
    a = np.asarray(decisions, dtype=np.int64)
    g = gains
    n, m = g.shape
    w = check_weights(weights, n)
    off = a > 0
    j = np.maximum(a - 1, 0)
    h = g[np.arange(n), j] if m else np.ones(n)
    with np.errstate(over="ignore"):
        x = np.where(off, h, 1.0) / device.noise_w
    phi = device.phi_t if w is None else device.phi_t * w
    _, t_tx, e_tx = optimal_transmission(x, phi, device.phi_e, data_bits, device.bandwidth_hz, device.max_power_w)
    s = np.sqrt(cpu_cycles) if w is None else np.sqrt(w * cpu_cycles)
    loads = np.bincount(j[off], weights=s[off], minlength=m)
    fmax = device.mec_cpu_hz
    # F_i / f_ij with f_ij = F^max s_i / S_j  ⇒  (F_i / s_i) S_j / F^max  (= √F_i S_j / F^max for w = 1)
    t_comp = np.where(off, (cpu_cycles / s) * loads[j] / fmax[j], 0.0)
    t0 = cpu_cycles / device.local_cpu_hz  # eqs. 6-7, as dirs.system.allocation.local_cost
    e0 = device.kappa * device.local_cpu_hz**device.nu * t0
    time_s = np.where(off, t_tx + t_comp, t0)
    energy = np.where(off, e_tx, e0)
    cycles_on = np.bincount(j[off], weights=cpu_cycles[off], minlength=m)
    return Priced(time_s, energy, device.phi_t * time_s + device.phi_e * energy, cycles_on)


__all__ = ["Device", "Priced", "check_weights", "price", "price_tasks", "slot_tables"]
