"""Exact resource allocation for a fixed offloading decision (docs/design.md §2).

Given the decision, problem P1 separates:

* **CPU** (paper constraint Σ_{i→j} f_ij ≤ F_j^max): minimising φT Σ_i F_i / f_ij gives
  f_ij = F_j^max √F_i / Σ_{k→j} √F_k, and server j's compute cost φT (Σ_{i→j} √F_i)² / F_j^max.
* **Power** (p_ij ≤ P_max): each offloaded IoTD minimises
  g(p) = D (φT + φE p) / (B log2(1 + p x)),  x = h / σ²   (paper eq. 2-5).
  g'(p) = 0  ⇔  u (ln u − 1) = c  with u = 1 + p x, c = φT x / φE − 1, so
  u = exp(1 + W0(c / e)) and p* = (u − 1) / x, clipped to P_max (φE = 0 ⇒ p* = P_max).

All functions are vectorised over any leading shape.
"""

from __future__ import annotations

import numpy as np

from dirs.system.params import SystemParams

_LN2 = np.log(2.0)
_E = np.e
_BLOCK = 65536  # elements per block of the Lambert W evaluation (bounds its temporaries)


def _fritsch_step(w: np.ndarray, z: np.ndarray, log_z: np.ndarray) -> np.ndarray:
    """One step of Fritsch, Shafer & Crowley's iteration for W (fourth order; one logarithm)."""
    zn = log_z - np.log(w) - w  # ln(z / w) − w
    q = 2.0 * (1.0 + w) * (1.0 + w + (2.0 / 3.0) * zn)
    return w * (1.0 + zn / (1.0 + w) * (q - zn) / (q - 2.0 * zn))


def _w0_large(z: np.ndarray) -> np.ndarray:
    """W0 for z > 3: asymptotic guess L1 − L2 + L2/L1, then Fritsch steps (three logarithms).

    From that guess one step is exact to ≤ 1e-15 relative for z ≥ 1e3 (the channel gains of this
    model put ~99% of arguments there); smaller z (rel. error ≤ 3e-7 after one step) take a second.
    """
    l1 = np.log(z)
    l2 = np.log(l1)
    w = _fritsch_step(l1 - l2 + l2 / l1, z, l1)
    low = z < 1e3
    if low.any():
        w[low] = _fritsch_step(w[low], z[low], l1[low])
    return w


def _w0_small(z: np.ndarray) -> np.ndarray:
    """W0 for −1/e ≤ z ≤ 3: branch-point series or log1p guess, then Halley steps."""
    q = np.sqrt(np.maximum(2.0 * (_E * z + 1.0), 0.0))
    w = np.where(z < 0.25, -1.0 + q - q * q / 3.0 + 11.0 / 72.0 * q**3, np.log1p(z) * 0.8)
    for _ in range(5):
        ew = np.exp(w)
        f = w * ew - z
        wp1 = w + 1.0
        ok = np.abs(wp1) > 1e-7  # at the branch point the series guess is already exact
        wp1s = np.where(ok, wp1, 1.0)
        denom = ew * wp1s - (w + 2.0) * f / (2.0 * wp1s)
        ok &= np.abs(denom) > 0
        w = w - np.where(ok, f / np.where(ok, denom, 1.0), 0.0)
    return np.where(z <= -1.0 / _E, -1.0, w)


def lambertw0(z: np.ndarray) -> np.ndarray:
    """Principal branch W0 of the Lambert W function for real ``z >= -1/e`` (vectorised).

    Agrees with :func:`scipy.special.lambertw` to ~1e-15 relative, at a fraction of its cost
    (scipy works in complex arithmetic); the channel gains of this model put almost every argument
    in the large-z branch, which needs only three logarithms.
    """
    z = np.maximum(np.asarray(z, dtype=np.float64), -1.0 / _E)
    shape, z = z.shape, z.reshape(-1)
    out = np.empty_like(z)
    # in blocks, so that the dozen temporaries stay small for any batch size
    for lo in range(0, z.size, _BLOCK):
        zb = z[lo : lo + _BLOCK]
        big = zb > 3.0
        if big.all():
            out[lo : lo + _BLOCK] = _w0_large(zb)
        else:
            ob = out[lo : lo + _BLOCK]
            ob[big] = _w0_large(zb[big])
            ob[~big] = _w0_small(zb[~big])
    return out.reshape(shape)


def optimal_transmission(x, phi_t: float, phi_e: float, data_bits, bandwidth_hz, max_power_w):
    """Optimal power p* (docs/design.md §2) and the resulting transmission time and energy.

    x = h/σ² (any shape; per-IoTD fields broadcast against it).  Returns ``(p, time, energy)``
    with every p in (0, P_max].  At the unconstrained optimum ln(1 + p x) = ln u = 1 + W0(c/e), so
    the rate needs no further logarithm; only IoTDs clipped to P_max recompute it.
    """
    x = np.asarray(x, dtype=np.float64)
    pmax = np.broadcast_to(np.asarray(max_power_w, dtype=np.float64), x.shape)
    if phi_e == 0:
        p = pmax.copy()
        ln_u = np.log1p(p * x)
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            # c overflows to inf only when φE is negligible (e.g. subnormal): W0 is then NaN and
            # the clip below takes the φE → 0 limit, p* = P_max
            c = phi_t * x / phi_e - 1.0
            w = lambertw0(c / _E)
        ln_u = 1.0 + w
        # u − 1 = e^{1+w} − 1 = c/w − 1 for w > 0 (exact identity; no overflow)
        big = w > 1.0
        with np.errstate(over="ignore", invalid="ignore"):
            if big.all():  # the usual case: skip the exponential
                um1 = c / w - 1.0
            else:
                um1 = np.where(big, c / np.where(big, w, 1.0) - 1.0, np.expm1(np.where(big, 0.0, ln_u)))
            p = um1 / x
        clip = ~(p <= pmax)  # NaN (overflowed c) clips too
        if clip.any():
            p = np.where(clip, pmax, p)
            ln_u = np.where(clip, np.log1p(pmax * x), ln_u)
        tiny = ~(p > 0)  # only reached when x underflows
        if tiny.any():
            p = np.where(tiny, np.finfo(np.float64).tiny, p)
            ln_u = np.where(tiny, np.log1p(p * x), ln_u)
    t = data_bits * _LN2 / (bandwidth_hz * ln_u)
    return p, t, p * t


def optimal_power(x: np.ndarray, phi_t: float, phi_e: float, max_power_w) -> np.ndarray:
    """Optimal transmit power p* in (0, P_max] for normalised gains ``x = h/σ²`` (docs/design.md §2)."""
    return optimal_transmission(x, phi_t, phi_e, 1.0, 1.0, max_power_w)[0]


def transmission(x, data_bits, bandwidth_hz, power):
    """Rate r = B log2(1 + p x) (eq. 2), time D/r and energy p D / r (eqs. 3-4) at a given power."""
    rate = bandwidth_hz * np.log1p(power * x) / _LN2
    t = data_bits / rate
    return rate, t, power * t


def transmission_cost(gains: np.ndarray, params: SystemParams) -> tuple[np.ndarray, ...]:
    """Cost of transmitting each IoTD's task to each server at the optimal power.

    ``gains``: ``(..., N, M)`` channel gains h_ij; per-IoTD fields may be ``(N,)`` or per sample
    ``(T, N)`` (docs/design.md §9; then ``gains`` is ``(T, N, M)``).  Returns ``(cost, time, energy, power)``,
    each of shape ``(..., N, M)``, where cost = φT·time + φE·energy (transmission only; the server's
    compute cost is the congestion term of :func:`compute_cost`).
    """
    gains = np.asarray(gains, dtype=np.float64)
    with np.errstate(over="ignore"):  # h / σ² beyond float range: the infinite-SNR limit (docs/design.md §2.3)
        x = gains / params.noise_w
    d = _per_iotd(params.data_bits)  # per-IoTD fields broadcast over the server axis
    b = _per_iotd(params.bandwidth_hz)
    pmax = _per_iotd(params.max_power_w)
    p, t, e = optimal_transmission(x, params.phi_t, params.phi_e, d, b, pmax)
    return params.phi_t * t + params.phi_e * e, t, e, p


def _per_iotd(value):
    """(N,) → (N, 1) and (T, N) → (T, N, 1): a per-IoTD field against ``(..., N, M)``; scalars as is."""
    arr = np.asarray(value, dtype=np.float64)
    return arr[..., None] if arr.ndim >= 1 else arr


def local_cost(params: SystemParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local execution cost, time F/f0 and energy κ f0^ν F/f0 per IoTD (eqs. 6-7); scalars, (N,) or,
    with per-sample task fields (docs/design.md §9), (T, N)."""
    t0 = np.asarray(params.cpu_cycles) / np.asarray(params.local_cpu_hz)
    e0 = np.asarray(params.kappa) * np.asarray(params.local_cpu_hz) ** params.nu * t0
    return params.phi_t * t0 + params.phi_e * e0, t0, e0


def marginal_compute_cost(load_sqrt: np.ndarray, sqrt_f: np.ndarray, params: SystemParams, mec_cpu_hz):
    """Extra compute cost of adding an IoTD with √F = ``sqrt_f`` to a server whose load is
    ``load_sqrt`` = Σ √F_k: φT ((S + √F)² − S²) / F^max = φT (2 S √F + F) / F^max.

    For identical tasks this is the slot cost φT F (2k − 1) / F^max of docs/design.md §3.
    """
    return params.phi_t * (2.0 * load_sqrt * sqrt_f + sqrt_f * sqrt_f) / mec_cpu_hz
