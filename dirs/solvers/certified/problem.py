"""One channel sample in the certified solver's units, its objective, and the rounding margins that
keep every bound on the safe side (docs/design.md §3.3).

Units: ``s = √F / σ`` (σ = mean √F) and ``w = φT σ² / F^max`` make loads O(N) and multipliers
O(cost per IoTD); the objective f(a) = Σ_i c_{i,a_i} + Σ_j w_j L_j(a)² is unchanged.

Rounding: a quantity computed in floating point as a sum of n terms t_k is within
``(n + 2)·ε·Σ|t_k|`` of its exact value (ε = machine epsilon; a first-order bound that also covers
BLAS dot products, which need not sum pairwise).  Every bound is lowered by such a margin before it is
compared with an incumbent (:func:`rounding`, :meth:`Sample.prunes`), so a bound is never rounded up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

EPS = float(np.finfo(np.float64).eps)
#: Smallest relative gap the solver certifies: below it, rounding margins (~1e-13 relative) could
#: decide a comparison; ``rel_gap = 0`` asks for this.
REL_GAP_FLOOR = 1e-11
#: Geometric schedule of the smoothing temperature of the dual (:mod:`.dual`), relative to the
#: spread of the unit costs γ, and the start of a warm-started node solve.
TAU_START = 1e-2
TAU_STOP = 1e-11
TAU_WARM = 1e-6


def rounding(n_terms: int, magnitude) -> np.ndarray | float:
    """Absolute error bound ``4 (n + 2) ε · magnitude`` of a sum of ``n_terms`` terms whose absolute
    values add up to ``magnitude`` (a factor 4 over the first-order bound for the inputs' own rounding)."""
    return 4.0 * (n_terms + 2) * EPS * magnitude


@dataclass
class Sample:
    """One sample: option costs ``c`` ``(N, M+1)`` (0 = local), normalised √F ``s`` ``(N,)`` and
    server weights ``w`` ``(M,)``, the gap asked for and the deadline of its search."""

    c: np.ndarray
    s: np.ndarray
    w: np.ndarray
    rel_gap: float
    deadline: float
    gam: np.ndarray = field(init=False)
    """(N, M+1) unit costs γ_ij = c_ij / s_i."""
    spread: float = field(init=False)
    """Median |γ|: the scale of the smoothing temperature."""

    def __post_init__(self) -> None:
        self.gam = self.c / self.s[:, None]
        self.spread = float(np.median(np.abs(self.gam))) or 1.0

    @classmethod
    def from_costs(cls, c: np.ndarray, sqrt_f: np.ndarray, w_raw: np.ndarray, rel_gap: float, time_limit_s: float):
        sigma = float(np.mean(sqrt_f))
        return cls(c, sqrt_f / sigma, w_raw * sigma * sigma, rel_gap, time.perf_counter() + time_limit_s)

    @property
    def n(self) -> int:
        return self.c.shape[0]

    @property
    def m(self) -> int:
        return self.w.shape[0]

    @property
    def tau_stop(self) -> float:
        return TAU_STOP * self.spread

    def objective(self, a: np.ndarray) -> float:
        """f(a) of a decision ``(N,)`` in 0..M."""
        loads = np.bincount(a, weights=self.s, minlength=self.m + 1)[1:]
        return float(self.c[np.arange(a.shape[0]), a].sum() + self.w @ (loads * loads))

    def tol(self, ub: float) -> float:
        """Absolute pruning tolerance at incumbent value ``ub``: ``max(rel_gap, REL_GAP_FLOOR)·ub``."""
        return max(self.rel_gap, REL_GAP_FLOOR) * ub

    def out_of_time(self) -> bool:
        return time.perf_counter() > self.deadline

    def time_left(self) -> float:
        return self.deadline - time.perf_counter()


def safe(bound):
    """``bound`` lowered by the rounding of the few additions that combined it (16 ε relative)."""
    with np.errstate(invalid="ignore"):
        lowered = bound - 16.0 * EPS * np.abs(bound)
    return np.where(np.isinf(bound), bound, lowered) if np.ndim(bound) else (bound if np.isinf(bound) else lowered)


def prunes(bound, ub: float, tol: float):
    """True where a region whose optimum is ≥ ``bound`` cannot beat ``ub`` by more than ``tol``
    (the bound is lowered by :func:`safe` first: a tie is never decided by rounding)."""
    return safe(bound) >= ub - tol
