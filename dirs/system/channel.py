"""Channel model (docs/design.md §1): h_ij = β0 · l_ij / max(d_ij², 1 m²), Rayleigh fading l ~ Exp(1)."""

from __future__ import annotations

import numpy as np


def squared_distances(users: np.ndarray, servers: np.ndarray) -> np.ndarray:
    """d_ij² between IoTDs ``(N, 2)`` and servers ``(M, 2)``, clamped to ≥ 1 m²: ``(N, M)``."""
    diff = np.asarray(users, dtype=np.float64)[:, None, :] - np.asarray(servers, dtype=np.float64)[None, :, :]
    return np.maximum((diff * diff).sum(-1), 1.0)


def path_gain(users: np.ndarray, servers: np.ndarray, beta0: float) -> np.ndarray:
    """Large-scale gain β0 / d² ``(N, M)``."""
    return beta0 / squared_distances(users, servers)


def sample_gains(users, servers, beta0: float, num_samples: int, rng: np.random.Generator) -> np.ndarray:
    """``num_samples`` channel samples ``(T, N, M)``: small-scale fading redrawn per slot."""
    mean = path_gain(users, servers, beta0)
    fading = rng.exponential(1.0, size=(num_samples,) + mean.shape)
    # Exp(1) can return exactly 0 with negligible probability; keep gains strictly positive.
    np.maximum(fading, np.finfo(np.float64).tiny, out=fading)
    return fading * mean
