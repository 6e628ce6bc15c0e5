"""System parameters of the MEC model (paper §III, Table I; DESIGN §1).

Every field may be a scalar or an array: per-IoTD fields broadcast over the IoTD axis (shape
``(N,)``), per-server fields over the server axis (shape ``(M,)``).  Validation happens once, at
construction, and names the field, the offending value and what is allowed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

ArrayLike = float | np.ndarray

#: Fields that may vary per IoTD (broadcast over axis ``N``).
PER_IOTD_FIELDS = ("data_bits", "cpu_cycles", "bandwidth_hz", "local_cpu_hz", "max_power_w", "kappa")
#: Fields that may vary per server (broadcast over axis ``M``).
PER_SERVER_FIELDS = ("mec_cpu_hz",)
#: Scalar-only fields.
SCALAR_FIELDS = ("noise_w", "nu", "beta0", "phi_t", "phi_e")


class ParameterError(ValueError):
    """A system parameter is missing, of the wrong shape or outside its allowed range."""


def _as_field(name: str, value: Any) -> ArrayLike:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return float(arr)
    if arr.ndim != 1:
        raise ParameterError(f"{name}: expected a scalar or a 1-D array, got shape {arr.shape}")
    arr = arr.copy()
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class SystemParams:
    """Physical constants and weights of the MEC system (DESIGN §1).

    Units: bits, CPU cycles, Hz, W, m.  Defaults are the paper's Table I (``beta0`` is ours).
    """

    data_bits: ArrayLike = 8e5
    """D_i: task input size in bits (100 kB = 8e5 bits, 1 kB = 1000 bytes). Per IoTD."""
    cpu_cycles: ArrayLike = 1e9
    """F_i: CPU cycles the task needs. Per IoTD."""
    bandwidth_hz: ArrayLike = 1e6
    """B: channel bandwidth of each IoTD's uplink in Hz. Per IoTD."""
    local_cpu_hz: ArrayLike = 1e9
    """f_i0: local CPU frequency of an IoTD in Hz. Per IoTD."""
    max_power_w: ArrayLike = 1.5
    """P_max: maximum transmit power of an IoTD in W. Per IoTD."""
    noise_w: float = 1e-12
    """sigma^2: noise power in W (eq. 2 as printed)."""
    kappa: ArrayLike = 1e-27
    """kappa: effective switched capacitance; local execution power is kappa * f0**nu. Per IoTD."""
    nu: float = 3.0
    """nu: exponent of the local execution power."""
    beta0: float = 1e-3
    """beta0: path-loss constant at 1 m (-30 dB; the paper leaves it open, ours)."""
    mec_cpu_hz: ArrayLike = 15e9
    """F_j^max: CPU capacity of MEC server j in Hz. Per server."""
    phi_t: float = 1.0
    """phi_T: weight of time (s) in the cost Phi_i."""
    phi_e: float = 1.0
    """phi_E: weight of energy (J) in the cost Phi_i."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in SCALAR_FIELDS:
                try:
                    value = float(value)
                except (TypeError, ValueError):
                    raise ParameterError(f"{f.name}: expected a number, got {value!r}") from None
            else:
                value = _as_field(f.name, value)
            object.__setattr__(self, f.name, value)
            arr = np.asarray(value)
            if not np.all(np.isfinite(arr)):
                raise ParameterError(f"{f.name}: must be finite, got {value!r}")
        positive = PER_IOTD_FIELDS + PER_SERVER_FIELDS + ("noise_w", "nu", "beta0")
        for name in positive:
            arr = np.asarray(getattr(self, name))
            if np.any(arr <= 0):
                raise ParameterError(f"{name}: must be > 0, got {getattr(self, name)!r}")
        if self.phi_t < 0 or self.phi_e < 0:
            raise ParameterError(
                f"phi_t, phi_e: weights must be >= 0, got phi_t={self.phi_t}, phi_e={self.phi_e}"
            )
        if self.phi_t == 0:
            raise ParameterError(
                "phi_t: must be > 0 (with no weight on time the optimal transmit power tends to 0 "
                f"and the transmission time to infinity), got phi_t={self.phi_t}, phi_e={self.phi_e}"
            )

    # ------------------------------------------------------------------ shapes
    def check_sizes(self, num_iotds: int, num_servers: int) -> None:
        """Raise if an array field does not match ``num_iotds`` (N) or ``num_servers`` (M)."""
        for name in PER_IOTD_FIELDS:
            arr = np.asarray(getattr(self, name))
            if arr.ndim == 1 and arr.shape[0] != num_iotds:
                raise ParameterError(f"{name}: per-IoTD array has length {arr.shape[0]}, expected N={num_iotds}")
        for name in PER_SERVER_FIELDS:
            arr = np.asarray(getattr(self, name))
            if arr.ndim == 1 and arr.shape[0] != num_servers:
                raise ParameterError(
                    f"{name}: per-server array has length {arr.shape[0]}, expected M={num_servers}"
                )

    def per_iotd(self, name: str, num_iotds: int) -> np.ndarray:
        """Field ``name`` broadcast to shape ``(N,)``."""
        return np.broadcast_to(np.asarray(getattr(self, name), dtype=np.float64), (num_iotds,))

    def per_server(self, name: str, num_servers: int) -> np.ndarray:
        """Field ``name`` broadcast to shape ``(M,)``."""
        return np.broadcast_to(np.asarray(getattr(self, name), dtype=np.float64), (num_servers,))

    @property
    def identical_tasks(self) -> bool:
        """True when every IoTD has the same CPU demand F (the exact optimum of DESIGN §3 applies)."""
        f = np.asarray(self.cpu_cycles)
        return bool(f.ndim == 0 or np.all(f == f.flat[0]))

    # ------------------------------------------------------------- (de)serialise
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.tolist() if isinstance(v, np.ndarray) else float(v)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SystemParams":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ParameterError(f"unknown system parameter(s) {unknown}; allowed: {sorted(known)}")
        return cls(**data)

    def replace(self, **changes: Any) -> "SystemParams":
        return dataclasses.replace(self, **changes)


__all__ = [
    "ParameterError",
    "SystemParams",
    "PER_IOTD_FIELDS",
    "PER_SERVER_FIELDS",
    "SCALAR_FIELDS",
]
