"""Long-run metrics of the time-coupled model (docs/design.md §11.5–§11.6).

:func:`run` plays a controller on a simulator for a number of slots and returns a :class:`RunResult`:
per-slot trajectories and per-task delay statistics; :meth:`RunResult.summary` gives

* the time-average cost P̄ = (1/T) Σ_t P(t) (the paper's time + energy of the tasks served), its time
  and energy parts, and the cost per completed task;
* backlog (tasks in the system at slot starts): mean per IoTD, its p95 over (slot, IoTD), the mean total;
* delay: mean and p95 sojourn time in seconds (p95 from a log histogram, 1.2 % bins), and the check of
  Little's law in slots, mean total backlog = (arrivals per slot) × (mean delay in slot starts) — an
  identity on an infinite run, so its ratio measures the run's edge effects and the bookkeeping;
* throughput (completions per slot), drops, the mean proven gap δ̄ and the drift term B̄ (§11.3);
* ``server_load``: the mean over slots of max_j Σ_{i→j} F_i / (F_j^max τ), the slot's offloaded work in
  slots of server time (above 1 a batch overruns its slot, where the per-slot server model of §11.1 is
  an abstraction);
* the boundedness test of :func:`bounded_run` (task backlog and server work).

:func:`stability_limit` bisects the arrival rate for the highest one whose run passes the test; the
V sweep lives in :mod:`dirs.online.sweep`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from dirs.online.config import OnlineConfig
from dirs.online.sim import Simulator
from dirs.system.params import ParameterError

#: Edges (seconds) of the delay histogram: 1.2 % wide bins from 0.1 ms to 10⁷ s.
DELAY_EDGES = np.geomspace(1e-4, 1e7, 2201)
#: A run is "bounded" when its total backlog grows, over the second half, by less than this fraction
#: of the second half's mean backlog (:func:`growth_test`).
GROWTH_THRESHOLD = 0.2


@dataclass
class RunResult:
    """Trajectories ``(T,)`` and delay statistics of one run (module docstring)."""

    controller: str
    slots: int
    num_iotds: int
    slot_s: float
    traj: dict[str, np.ndarray]
    delay_hist: np.ndarray
    backlog_hist: np.ndarray
    delay_sum_s: float = 0.0
    delay_sum_slots: int = 0
    completed: int = 0
    totals: dict[str, int] = field(default_factory=dict)
    decide_s: float = 0.0
    sim_s: float = 0.0

    def summary(self) -> dict[str, float]:
        """The metrics of the module docstring, as a flat dict of numbers."""
        tr, t_ = self.traj, self.slots
        backlog = tr["backlog"].astype(np.float64)
        arrivals = tr["accepted"].sum() / t_
        delay_slots = self.delay_sum_slots / max(self.completed, 1)
        growth = bounded_run(tr) if t_ >= 8 else Growth(math.nan, math.nan, False)
        out = {
            "cost": float(tr["cost"].mean()),
            "time_s": float(tr["time_s"].mean()),
            "energy_j": float(tr["energy_j"].mean()),
            "cost_per_task": float(tr["cost"].sum() / max(tr["served"].sum(), 1)),
            "backlog_mean": float(backlog.mean() / self.num_iotds),
            "backlog_p95": _quantile_counts(self.backlog_hist, 0.95),
            "backlog_total_mean": float(backlog.mean()),
            "delay_mean_s": self.delay_sum_s / max(self.completed, 1),
            "delay_p95_s": _quantile_hist(self.delay_hist, DELAY_EDGES, 0.95),
            "delay_mean_slots": delay_slots,
            "little_ratio": float(backlog.mean() / (arrivals * delay_slots))
            if arrivals and self.completed
            else math.nan,
            "throughput": float(tr["completed"].sum() / t_),
            "arrival_rate": float(tr["arrived"].sum() / (t_ * self.num_iotds)),
            "dropped": float(tr["dropped"].sum()),
            "gap_mean": float(tr["gap"].mean()),  # NaN unless every slot's gap is proven
            "drift_b": float(tr["drift_b"].mean()),
            "server_load": float(tr["server_load"].mean()),
            "server_work_s": float(tr["server_work_s"].mean()),
            "growth_ratio": growth.ratio,
            "bounded": float(growth.bounded),
            "decide_ms": 1e3 * self.decide_s / t_,
            "sim_ms": 1e3 * self.sim_s / t_,
        }
        return out


@dataclass(frozen=True)
class Growth:
    """Result of :func:`growth_test`."""

    slope: float
    """OLS slope of the total backlog over the second half (tasks per slot)."""
    ratio: float
    """slope × (second half's length) / max(second half's mean backlog, 1)."""
    bounded: bool
    """ratio < :data:`GROWTH_THRESHOLD`."""


def growth_test(backlog: np.ndarray, threshold: float = GROWTH_THRESHOLD) -> Growth:
    """Boundedness test of docs/design.md §11.6: fit a line to the total backlog over the second half
    of the run; bounded iff its rise over that half is below ``threshold`` × the half's mean backlog.

    Linear growth from an empty start rises by 2/3 of the half's mean (ratio 0.67); a stationary backlog
    has ratio ≈ 0 ± its noise / √(half length).
    """
    b = np.asarray(backlog, dtype=np.float64)
    if b.ndim != 1 or len(b) < 8:
        raise ParameterError(f"backlog: expected a trajectory of at least 8 slots, got shape {b.shape}")
    half = b[len(b) // 2 :]
    x = np.arange(len(half), dtype=np.float64)
    slope = float(np.polyfit(x, half, 1)[0])
    ratio = slope * len(half) / max(float(half.mean()), 1.0)
    return Growth(slope, ratio, bool(ratio < threshold))


def bounded_run(traj: dict[str, np.ndarray], threshold: float = GROWTH_THRESHOLD) -> Growth:
    """The run's boundedness (§11.6): :func:`growth_test` on the total backlog (tasks) and on the total
    server work Z (seconds); bounded iff both are. Returns the test with the larger ratio."""
    a = growth_test(traj["backlog"], threshold)
    b = growth_test(traj["server_work_s"], threshold)
    worst = a if a.ratio >= b.ratio else b
    return Growth(worst.slope, worst.ratio, a.bounded and b.bounded)


def _quantile_hist(hist: np.ndarray, edges: np.ndarray, q: float) -> float:
    total = hist.sum()
    if total == 0:
        return math.nan
    k = int(np.searchsorted(np.cumsum(hist), q * total))
    return float(edges[min(k + 1, len(edges) - 1)])  # the bin's upper edge


def _quantile_counts(hist: np.ndarray, q: float) -> float:
    total = hist.sum()
    return float(np.searchsorted(np.cumsum(hist), q * total)) if total else math.nan


_TRAJ = ("cost", "time_s", "energy_j", "served", "completed", "arrived", "accepted", "dropped", "backlog", "work_s")
_TRAJ += ("server_work_s",)


def run(sim: Simulator, controller, slots: int, *, seed: int | None = None) -> RunResult:
    """Play ``controller`` on ``sim`` from empty queues for ``slots`` slots (module docstring).

    ``seed`` re-seeds the exogenous process (the same seed gives every controller the same ω(t)).
    Time spent in the controller and in the simulator is measured separately.
    """
    if isinstance(slots, bool) or not isinstance(slots, int) or slots < 1:
        raise ParameterError(f"slots: expected an integer >= 1, got {slots!r}")
    state = sim.reset(seed)
    controller.reset(state)
    traj = {k: np.zeros(slots) for k in _TRAJ + ("gap", "drift_b", "lyapunov", "server_load")}
    server_s = sim.mec_cpu_hz * sim.config.slot_s  # cycles a server runs in one slot
    res = RunResult(
        controller.name, slots, sim.num_iotds, sim.config.slot_s, traj, np.zeros(len(DELAY_EDGES) - 1), np.zeros(1)
    )
    delays: list[np.ndarray] = []
    backlogs: list[np.ndarray] = [state.backlog]
    for t in range(slots):
        traj["backlog"][t] = state.backlog.sum()
        traj["work_s"][t] = state.work_s.sum()
        traj["server_work_s"][t] = state.server_work_s.sum()
        traj["arrived"][t] = state.arrivals.sum()
        traj["dropped"][t] = sim.slot_dropped
        traj["accepted"][t] = traj["arrived"][t] - traj["dropped"][t]
        t0 = time.perf_counter()
        a = controller.act(state)
        w = controller.time_weights(state)
        t1 = time.perf_counter()
        state, info = sim.step(a, w)
        res.decide_s += t1 - t0
        res.sim_s += time.perf_counter() - t1
        for key, value in (("cost", info.cost), ("time_s", info.time_s), ("energy_j", info.energy_j)):
            traj[key][t] = value
        traj["served"][t], traj["completed"][t] = info.served, info.completed
        traj["gap"][t], traj["drift_b"][t], traj["lyapunov"][t] = controller.last_gap, info.drift_b, info.lyapunov
        traj["server_load"][t] = (info.server_cycles / server_s).max(initial=0.0)
        res.delay_sum_s += float(info.delays_s.sum())
        res.delay_sum_slots += int(info.delays_slots.sum())
        res.completed += info.completed
        delays.append(info.delays_s)
        if t + 1 < slots:
            backlogs.append(state.backlog)
        if len(delays) >= 512 or t + 1 == slots:
            _flush(res, delays, backlogs)
    res.totals = sim.totals
    return res


def _flush(res: RunResult, delays: list[np.ndarray], backlogs: list[np.ndarray]) -> None:
    d = np.concatenate(delays)
    if len(d):
        idx = np.clip(np.searchsorted(DELAY_EDGES, d, side="right") - 1, 0, len(DELAY_EDGES) - 2)
        res.delay_hist += np.bincount(idx, minlength=len(DELAY_EDGES) - 1)
    if backlogs:
        counts = np.bincount(np.concatenate(backlogs))
        if len(counts) > len(res.backlog_hist):
            res.backlog_hist = np.pad(res.backlog_hist, (0, len(counts) - len(res.backlog_hist)))
        res.backlog_hist[: len(counts)] += counts
    delays.clear()
    backlogs.clear()


@dataclass(frozen=True)
class Limit:
    """Result of :func:`stability_limit`."""

    rate: float
    """Highest probed arrival rate whose run was bounded (the lower end of the final bracket)."""
    upper: float
    """Lowest probed rate found unbounded (``hi`` itself when every probe was bounded)."""
    probes: tuple[tuple[float, float, bool], ...]
    """(rate, growth ratio, bounded) of every probe, in order."""


def stability_limit(
    scenario,
    config: OnlineConfig,
    make_controller,
    *,
    slots: int,
    lo: float = 0.0,
    hi: float = 1.0,
    tol: float = 0.02,
    seed: int = 0,
) -> Limit:
    """Bisection over the arrival rate for the highest rate at which ``make_controller()``'s backlog
    stays bounded (:func:`bounded_run` on a run of ``slots`` slots from empty queues, the same seed —
    so the arrivals are coupled across rates, §11.4). Probes ``hi`` first; stops when the bracket is
    narrower than ``tol``. Assumes a bounded run at ``lo`` (0 needs no probe)."""
    if not 0 <= lo < hi:
        raise ParameterError(f"lo, hi: need 0 <= lo < hi, got lo={lo}, hi={hi}")
    if not tol > 0:
        raise ParameterError(f"tol: must be > 0, got {tol}")
    probes = []

    def bounded(rate: float) -> bool:
        sim = Simulator(scenario, config.replace(rate=rate), seed=seed)
        g = bounded_run(run(sim, make_controller(), slots).traj)
        probes.append((rate, g.ratio, g.bounded))
        return g.bounded

    if bounded(hi):
        return Limit(hi, hi, tuple(probes))
    upper = hi
    while upper - lo > tol:
        mid = 0.5 * (lo + upper)
        if bounded(mid):
            lo = mid
        else:
            upper = mid
    return Limit(lo, upper, tuple(probes))


__all__ = [
    "DELAY_EDGES",
    "GROWTH_THRESHOLD",
    "Growth",
    "Limit",
    "RunResult",
    "bounded_run",
    "growth_test",
    "run",
    "stability_limit",
]
