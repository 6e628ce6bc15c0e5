"""Random task sizes and server capacities for heterogeneous instances (docs/design.md §9, [hetero]).

A *spec* maps a field of :class:`dirs.system.SystemParams` to a distribution given as a small dict:

* ``{"dist": "uniform", "low": a, "high": b}`` — U[a, b];
* ``{"dist": "loguniform", "low": a, "high": b}`` — exp(U[ln a, ln b]) (0 < a);
* ``{"dist": "fixed", "value": v}`` — the constant v.

Every number must lie in the field's physically meaningful range
(:data:`dirs.system.params.PHYSICAL_RANGES`, e.g. ``cpu_cycles`` in [1, 1e15], ``data_bits`` in [1, 1e12]).
Per-IoTD fields (``data_bits`` in bits, ``cpu_cycles``, ``local_cpu_hz``, …; docs/design.md §1 units) come
from :func:`sample_tasks`, per IoTD ``(N,)`` or per channel sample ``(T, N)`` (``size=T``: per-slot
tasks, docs/design.md §9); ``mec_cpu_hz`` from :func:`sample_servers`.  The result is a plain dict to pass to
``SystemParams.replace(**...)``.  Every error names the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from dirs.system.params import PER_IOTD_FIELDS, PER_SERVER_FIELDS, ParameterError, check_physical

DISTRIBUTIONS = {"uniform": ("low", "high"), "loguniform": ("low", "high"), "fixed": ("value",)}


def _number(field: str, key: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ParameterError(f"{field}.{key}: expected a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{field}.{key}: expected a number, got {value!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise ParameterError(f"{field}.{key}: must be finite and > 0 (a physical size), got {value!r}")
    check_physical(field, v, f"{field}.{key}")
    return v


def check_distribution(field: str, dist: Any) -> dict[str, Any]:
    """Validate one distribution dict of ``field``; returns it with numbers as floats."""
    if not isinstance(dist, Mapping):
        raise ParameterError(
            f"{field}: expected a distribution dict like {{'dist': 'uniform', 'low': ..., 'high': ...}}, got {dist!r}"
        )
    kind = dist.get("dist")
    if not isinstance(kind, str) or kind not in DISTRIBUTIONS:
        raise ParameterError(f"{field}.dist: unknown distribution {kind!r}; allowed: {sorted(DISTRIBUTIONS)}")
    keys = DISTRIBUTIONS[kind]
    extra = sorted(set(dist) - {"dist", *keys})
    missing = [k for k in keys if k not in dist]
    if missing or extra:
        raise ParameterError(
            f"{field}: a {kind!r} distribution takes exactly {list(keys)}; missing {missing}, unknown {extra}"
        )
    out = {"dist": kind, **{k: _number(field, k, dist[k]) for k in keys}}
    if kind != "fixed" and out["low"] > out["high"]:
        raise ParameterError(f"{field}: low must be <= high, got low={out['low']}, high={out['high']}")
    return out


def draw(field: str, dist: Mapping[str, Any], shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Samples of shape ``shape`` from the distribution ``dist`` of ``field``."""
    d = check_distribution(field, dist)
    if d["dist"] == "fixed":
        return np.full(shape, d["value"])
    if d["dist"] == "uniform":
        return rng.uniform(d["low"], d["high"], size=shape)
    return np.exp(rng.uniform(np.log(d["low"]), np.log(d["high"]), size=shape))


def _as_rng(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _check_spec(spec: Any, allowed: tuple[str, ...], what: str) -> Mapping[str, Any]:
    if not isinstance(spec, Mapping):
        raise ParameterError(f"{what}: expected a dict of field -> distribution, got {spec!r}")
    unknown = sorted(set(spec) - set(allowed))
    if unknown:
        raise ParameterError(f"{what}: unknown field(s) {unknown}; allowed: {list(allowed)}")
    return spec


def sample_tasks(spec: Mapping[str, Any], num_iotds: int, rng, size: int | None = None) -> dict[str, np.ndarray]:
    """Per-IoTD task parameters drawn from ``spec`` (module docstring).

    Returns ``{field: array}`` with arrays ``(N,)``, or ``(size, N)`` for per-slot tasks (one row per
    channel sample).  Fields are drawn in the spec's order from ``rng`` (a Generator or a seed).
    """
    spec = _check_spec(spec, PER_IOTD_FIELDS, "tasks")
    if int(num_iotds) < 1:
        raise ParameterError(f"num_iotds: must be >= 1, got {num_iotds}")
    if size is not None and int(size) < 1:
        raise ParameterError(f"size: must be >= 1 samples, got {size}")
    shape = (int(num_iotds),) if size is None else (int(size), int(num_iotds))
    rng = _as_rng(rng)
    return {name: draw(name, dist, shape, rng) for name, dist in spec.items()}


def sample_servers(spec: Mapping[str, Any], num_servers: int, rng) -> dict[str, np.ndarray]:
    """Per-server parameters (``mec_cpu_hz``) drawn from ``spec``: ``{field: (M,) array}``."""
    spec = _check_spec(spec, PER_SERVER_FIELDS, "servers")
    if int(num_servers) < 1:
        raise ParameterError(f"num_servers: must be >= 1, got {num_servers}")
    rng = _as_rng(rng)
    return {name: draw(name, dist, (int(num_servers),), rng) for name, dist in spec.items()}


__all__ = ["DISTRIBUTIONS", "check_distribution", "draw", "sample_servers", "sample_tasks"]
