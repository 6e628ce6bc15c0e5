"""System parameters of the MEC model (paper §III, Table I; docs/design.md §1).

Every field may be a scalar or an array: per-IoTD fields broadcast over the IoTD axis (shape
``(N,)``), per-server fields over the server axis (shape ``(M,)``).  A per-IoTD field may also be
given per channel sample, shape ``(T, N)`` (docs/design.md §9, per-slot tasks): it broadcasts like an
``(N,)`` one against ``(T, N)`` decisions; :meth:`SystemParams.sample` picks one sample's params.
Validation happens once, at construction, and names the field, the offending value and what is
allowed.
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


#: Physically meaningful range ``(low, high, unit)`` of each field that configurations and task /
#: capacity distributions may set (docs/design.md §1.2): wide enough for any MEC deployment, narrow
#: enough that every cost stays finite.  Checked by the configuration (``scenario.<field>``), the
#: ``hetero`` family's distributions and the any-size scheduler's training mixture; a SystemParams
#: built in code is only checked for finite, positive values.
PHYSICAL_RANGES: dict[str, tuple[float, float, str]] = {
    "data_bits": (1.0, 1e12, "bits per task input, up to 125 GB"),
    "cpu_cycles": (1.0, 1e15, "CPU cycles per task"),
    "bandwidth_hz": (1.0, 1e12, "Hz of uplink bandwidth"),
    "local_cpu_hz": (1e3, 1e12, "Hz of local CPU"),
    "max_power_w": (1e-9, 1e3, "W of transmit power"),
    "kappa": (1e-40, 1e-15, "effective switched capacitance"),
    "mec_cpu_hz": (1e3, 1e14, "Hz of server CPU capacity"),
    "phi_t": (1e-6, 1e6, "weight of time"),
    "phi_e": (0.0, 1e6, "weight of energy"),
}


class ParameterError(ValueError):
    """A system parameter is missing, of the wrong shape or outside its allowed range."""


def check_physical(field: str, value: Any, key: str | None = None) -> None:
    """Raise unless every entry of ``value`` lies in ``PHYSICAL_RANGES[field]`` (``key`` names it)."""
    if field not in PHYSICAL_RANGES:
        return
    low, high, unit = PHYSICAL_RANGES[field]
    arr = np.asarray(value, dtype=np.float64)
    bad = ~((arr >= low) & (arr <= high))
    if np.any(bad):
        v = float(arr.flat[int(np.argmax(bad))])
        raise ParameterError(
            f"{key or field}: {v!r} is outside the physically meaningful range [{low:g}, {high:g}] ({unit})"
        )


def _as_field(name: str, value: Any, max_ndim: int = 1) -> ArrayLike:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"{name}: expected a number or an array of numbers, got {value!r}") from None
    if arr.ndim == 0:
        return float(arr)
    if arr.ndim > max_ndim:
        allowed = "a scalar, an (N,) or a (T, N) array" if max_ndim == 2 else "a scalar or a 1-D array"
        raise ParameterError(f"{name}: expected {allowed}, got shape {arr.shape}")
    arr = arr.copy()
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class SystemParams:
    """Physical constants and weights of the MEC system (docs/design.md §1).

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
                value = _as_field(f.name, value, 2 if f.name in PER_IOTD_FIELDS else 1)
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
            raise ParameterError(f"phi_t, phi_e: weights must be >= 0, got phi_t={self.phi_t}, phi_e={self.phi_e}")
        if self.phi_t == 0:
            raise ParameterError(
                "phi_t: must be > 0 (with no weight on time the optimal transmit power tends to 0 "
                f"and the transmission time to infinity), got phi_t={self.phi_t}, phi_e={self.phi_e}"
            )

    # ------------------------------------------------------------------ shapes
    @property
    def num_samples(self) -> int | None:
        """T when some per-IoTD field is given per sample (shape ``(T, N)``, docs/design.md §9), else None."""
        for name in PER_IOTD_FIELDS:
            arr = np.asarray(getattr(self, name))
            if arr.ndim == 2:
                return int(arr.shape[0])
        return None

    def check_sizes(self, num_iotds: int, num_servers: int, num_samples: int | None = None) -> None:
        """Raise if an array field does not match ``num_iotds`` (N), ``num_servers`` (M) or, for
        per-sample ``(T, N)`` fields, ``num_samples`` (T; and every such field must agree on T)."""
        t_seen: tuple[str, int] | None = None
        for name in PER_IOTD_FIELDS:
            arr = np.asarray(getattr(self, name))
            if arr.ndim >= 1 and arr.shape[-1] != num_iotds:
                raise ParameterError(
                    f"{name}: per-IoTD array has {arr.shape[-1]} IoTDs (shape {arr.shape}), expected N={num_iotds}"
                )
            if arr.ndim == 2:
                if t_seen is not None and arr.shape[0] != t_seen[1]:
                    raise ParameterError(
                        f"{name}: per-sample array has {arr.shape[0]} samples but {t_seen[0]} has {t_seen[1]}"
                    )
                t_seen = (name, int(arr.shape[0]))
                if num_samples is not None and arr.shape[0] != num_samples:
                    raise ParameterError(
                        f"{name}: per-sample array has {arr.shape[0]} samples, expected T={num_samples} "
                        "(one row per channel sample)"
                    )
        for name in PER_SERVER_FIELDS:
            arr = np.asarray(getattr(self, name))
            if arr.ndim == 1 and arr.shape[0] != num_servers:
                raise ParameterError(f"{name}: per-server array has length {arr.shape[0]}, expected M={num_servers}")

    def iotd_shape(self, num_iotds: int) -> tuple[int, ...]:
        """``(T, N)`` when some per-IoTD field is per sample, else ``(N,)``."""
        t = self.num_samples
        return (num_iotds,) if t is None else (t, num_iotds)

    def per_iotd(self, name: str, num_iotds: int) -> np.ndarray:
        """Field ``name`` broadcast to ``(N,)``, or its ``(T, N)`` array when given per sample."""
        arr = np.asarray(getattr(self, name), dtype=np.float64)
        if arr.ndim == 2:
            if arr.shape[1] != num_iotds:
                raise ParameterError(f"{name}: per-sample array has shape {arr.shape}, expected (T, {num_iotds})")
            return arr
        return np.broadcast_to(arr, (num_iotds,))

    def per_server(self, name: str, num_servers: int) -> np.ndarray:
        """Field ``name`` broadcast to shape ``(M,)``."""
        return np.broadcast_to(np.asarray(getattr(self, name), dtype=np.float64), (num_servers,))

    def sample(self, t: int) -> SystemParams:
        """The params of channel sample ``t``: every per-sample ``(T, N)`` field replaced by its row t
        (docs/design.md §9).  Params without per-sample fields are returned unchanged."""
        changes = {}
        for name in PER_IOTD_FIELDS:
            v = getattr(self, name)
            if isinstance(v, np.ndarray) and v.ndim == 2:
                if not -v.shape[0] <= t < v.shape[0]:
                    raise ParameterError(f"{name}: sample index {t} out of range for {v.shape[0]} samples")
                changes[name] = v[t]
        return self.replace(**changes) if changes else self

    @property
    def identical_tasks(self) -> bool:
        """True when every IoTD (of every sample) has the same CPU demand F (docs/design.md §3 applies)."""
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
    def from_dict(cls, data: dict[str, Any]) -> SystemParams:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ParameterError(f"unknown system parameter(s) {unknown}; allowed: {sorted(known)}")
        return cls(**data)

    def replace(self, **changes: Any) -> SystemParams:
        return dataclasses.replace(self, **changes)


__all__ = [
    "PHYSICAL_RANGES",
    "ParameterError",
    "check_physical",
    "SystemParams",
    "PER_IOTD_FIELDS",
    "PER_SERVER_FIELDS",
    "SCALAR_FIELDS",
]
