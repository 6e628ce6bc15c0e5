"""V sweep of the drift-plus-penalty controller with the (B + δ)/V bound (docs/design.md §11.3, §11.6).

For i.i.d. ω(t) (Bernoulli arrivals, ρ = 0, static positions) Neely's theorem (2010, Thm. 4.8, with
the C-additive approximation of §4.8) gives, for a controller that solves each slot problem within δ(t)
of its optimum and starts from empty queues,

    P̄(V) ≤ p* + B̄ / V + δ̄                                                           (eq. 11.9)

where p* is the least time-average cost of any policy that keeps every work queue (devices' β_i and
servers' Z_j) rate-stable, B̄ the run's time average of ½ Σ_i (d_i T_i − τ)² + ½ Σ_j (W_j / F_j^max − τ)²
and δ̄ the time average of the proven per-slot gap in
cost units (the tables are the DPP objective divided by V). The myopic optimum minimises the cost of
every slot without constraint, so when *it* is stable p* equals its time-average cost, and
:func:`v_sweep` prints P̄_myopic + B̄/V + δ̄ beside each measured P̄(V) (``bound``; NaN where the myopic
run is unbounded, since p* is then unknown, or where δ is not proven, as with Greedy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dirs.online.config import OnlineConfig
from dirs.online.controllers import DriftPlusPenalty, myopic
from dirs.online.metrics import run
from dirs.online.sim import Simulator
from dirs.system.params import ParameterError


@dataclass(frozen=True)
class SweepRow:
    """One controller of a V sweep (V = inf: the myopic optimum)."""

    v: float
    cost: float
    backlog: float
    """Mean tasks in the system per IoTD."""
    delay_s: float
    drift_b: float
    gap: float
    bounded: bool
    bound: float
    """P̄_myopic + B̄/V + δ̄ (eq. 11.9); NaN where it does not apply."""


def v_sweep(
    scenario,
    config: OnlineConfig,
    vs,
    *,
    slots: int,
    solver: str = "certified",
    seed: int = 0,
    rel_gap: float = 1e-3,
) -> list[SweepRow]:
    """Runs the myopic optimum and drift-plus-penalty at every V of ``vs`` on the same ω(t) (``seed``);
    returns one row per V, the myopic row (V = inf) last."""
    vs = [float(v) for v in vs]
    if not vs or any(not v > 0 or math.isinf(v) for v in vs):
        raise ParameterError(f"vs: expected finite values of V > 0, got {vs}")
    opts = {"rel_gap": rel_gap} if solver == "certified" else {}
    base = _summary(scenario, config, myopic(solver, **opts), slots, seed)
    p_star = base["cost"] if base["bounded"] else math.nan
    rows = []
    for v in vs:
        s = _summary(scenario, config, DriftPlusPenalty(v, solver, **opts), slots, seed)
        rows.append(_row(v, s, p_star + s["drift_b"] / v + s["gap_mean"]))
    rows.append(_row(math.inf, base, math.nan))
    return rows


def _summary(scenario, config, controller, slots: int, seed: int) -> dict[str, float]:
    return run(Simulator(scenario, config, seed=seed), controller, slots).summary()


def _row(v: float, s: dict[str, float], bound: float) -> SweepRow:
    return SweepRow(
        v, s["cost"], s["backlog_mean"], s["delay_mean_s"], s["drift_b"], s["gap_mean"], bool(s["bounded"]), bound
    )


def format_sweep(rows: list[SweepRow]) -> str:
    """A plain-text table of a sweep."""
    head = f"{'V':>8} {'cost':>9} {'bound':>9} {'backlog':>8} {'delay_s':>8} {'B':>8} {'delta':>9} bounded"
    lines = [head]
    for r in rows:
        v = "myopic" if math.isinf(r.v) else f"{r.v:g}"
        lines.append(
            f"{v:>8} {r.cost:9.4f} {r.bound:9.4f} {r.backlog:8.3f} {r.delay_s:8.3f} {r.drift_b:8.3f} "
            f"{r.gap:9.2e} {'yes' if r.bounded else 'NO'}"
        )
    return "\n".join(lines)


__all__ = ["SweepRow", "format_sweep", "v_sweep"]
