"""Controllers of the time-coupled model (docs/design.md §11.3): one interface for every scheduler.

A :class:`Controller` has a ``name``, ``reset(state)`` at the start of a run and ``act(state) ->
decisions (N,)`` every slot, where ``state`` is the simulator's :class:`dirs.online.sim.SlotState`
(learned controllers turn it into the environment's observation with
:func:`dirs.online.env.encode_observation`). Entries of IoTDs that dispatch nothing this slot are
ignored. ``time_weights(state)`` gives the allocation's time weights w (eq. 11.6; ``None`` = the
paper's allocation) and ``last_gap`` the proven per-slot gap δ(t) of the last decision (NaN if unknown).

* :class:`Local`, :class:`Remote` — the paper's heuristics (docs/design.md §5) on the served tasks;
* :class:`DriftPlusPenalty` — Lyapunov drift-plus-penalty (Neely 2010, §3.2; LyDROO, Bi et al. IEEE TWC
  2021): per slot it minimises V·P(t) + Σ_{i∈S} β_i(t) T_i + Σ_j Z_j(t) W_j / F_j^max over (a, f, p), i.e.
  the weighted problem of eq. 11.6 with w_i = 1 + β_i / (V φT) (eq. 11.7) and server prices π_j = Z_j / V
  (eq. 11.8), solved by the certified solver (the reference
  controller; ``rel_gap``), by Greedy, or by the any-size model (``policy``: its ``decide_tables`` is fed
  the weighted tables; a policy with only ``decide(gains, params)`` decides the paper's myopic problem);
* :func:`myopic` — the same with V = ∞ (w ≡ 1): the per-slot optimum of the paper's cost, queues ignored.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from dirs.online.slot import slot_tables
from dirs.solvers.costs import CostTables
from dirs.solvers.heuristics import greedy_tables, remote
from dirs.system.params import ParameterError

SOLVERS = ("certified", "greedy", "anysize")


class Controller:
    """Base class: ``name``, ``reset(state)``, ``act(state) -> (N,)`` (module docstring)."""

    name = "controller"

    def __init__(self) -> None:
        self.last_gap = math.nan

    def reset(self, state) -> None:
        """Called with the first slot's state before a run (stateless controllers ignore it)."""
        self.last_gap = math.nan

    def act(self, state) -> np.ndarray:
        """Decisions ``(N,)`` in 0..M for the slot ``state`` (0 = local, j = server j)."""
        raise NotImplementedError

    def time_weights(self, state) -> np.ndarray | None:
        """Time weights ``(N,)`` of the slot's allocation (eq. 11.6), or None for the paper's."""
        return None


class Local(Controller):
    """Every task runs on its device."""

    name = "local"

    def act(self, state) -> np.ndarray:
        return np.zeros(len(state.ready), dtype=np.int64)


class Remote(Controller):
    """Every served task to its strongest-gain server, then the capacity rule (docs/design.md §5)."""

    name = "remote"

    def act(self, state) -> np.ndarray:
        a = np.zeros(len(state.ready), dtype=np.int64)
        if state.ready.any():
            a[state.ready] = remote(state.served_gains()[None], state.served_params())[0]
        return a


def dpp_weights(work_s: np.ndarray, v: float, phi_t: float) -> np.ndarray | None:
    """w_i = 1 + β_i / (V φT) (eq. 11.7); None when every w_i = 1 (V = ∞ or empty work queues)."""
    if math.isinf(v) or not np.any(work_s > 0):
        return None
    return 1.0 + np.asarray(work_s, dtype=np.float64) / (v * phi_t)


def server_prices(server_work_s: np.ndarray, v: float) -> np.ndarray | None:
    """π_j = Z_j / V, the price of a second of server j's work (eq. 11.8); None when all are 0."""
    if math.isinf(v) or not np.any(server_work_s > 0):
        return None
    return np.asarray(server_work_s, dtype=np.float64) / v


class DriftPlusPenalty(Controller):
    """Drift-plus-penalty with a per-slot solver (module docstring; docs/design.md §11.3).

    v: V > 0 (``math.inf`` = myopic); solver: ``certified`` | ``greedy`` | ``anysize``; rel_gap,
    time_limit_s: the certified solver's proven relative gap and per-slot time limit; policy: the
    any-size model (a path for :func:`dirs.learn.load_policy` or a loaded policy) for ``anysize``.
    """

    def __init__(
        self,
        v: float = 1.0,
        solver: str = "certified",
        *,
        rel_gap: float = 1e-3,
        time_limit_s: float = 10.0,
        policy: Any = None,
        name: str | None = None,
    ) -> None:
        super().__init__()
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0 or math.isnan(v):
            raise ParameterError(f"v: the drift-plus-penalty weight V must be a number > 0 (or math.inf), got {v!r}")
        if solver not in SOLVERS:
            raise ParameterError(f"solver: unknown per-slot solver {solver!r}; allowed: {list(SOLVERS)}")
        if not 0 <= rel_gap < 1:
            raise ParameterError(f"rel_gap: must lie in [0, 1), got {rel_gap}")
        if (solver == "anysize") != (policy is not None):
            raise ParameterError("policy: give the any-size model exactly when solver='anysize'")
        self.v, self.solver, self.rel_gap, self.time_limit_s = float(v), solver, float(rel_gap), float(time_limit_s)
        self.policy = _load(policy) if policy is not None else None
        self.name = name or _default_name(self.v, solver)
        self._weights: np.ndarray | None = None

    def slot_problem(self, state) -> tuple[CostTables, np.ndarray | None]:
        """Cost tables of the slot problem (eq. 11.8) over the served IoTDs, and their time weights."""
        w = dpp_weights(state.work_s[state.ready], self.v, state.params.phi_t)
        price = server_prices(state.server_work_s, self.v)
        return slot_tables(state.served_gains(), state.served_params(), w, price), w

    def act(self, state) -> np.ndarray:
        a = np.zeros(len(state.ready), dtype=np.int64)
        self._weights, self.last_gap = None, 0.0
        if not state.ready.any():
            return a
        tables, w = self.slot_problem(state)
        decided, self.last_gap = self._solve(tables, state)
        a[state.ready] = decided
        if w is not None:
            full = np.ones(len(a))
            full[state.ready] = w
            self._weights = full
        return a

    def time_weights(self, state) -> np.ndarray | None:
        return self._weights

    def _solve(self, tables: CostTables, state) -> tuple[np.ndarray, float]:
        if self.solver == "certified":
            from dirs.solvers.reference import reference_tables

            ref = reference_tables(tables, rel_gap=self.rel_gap, time_limit_s=self.time_limit_s)
            return ref.decisions[0], float(ref.objective[0] - ref.lower_bound[0])
        if self.solver == "greedy":
            return greedy_tables(tables)[0], math.nan
        if hasattr(self.policy, "decide_tables"):
            return np.asarray(self.policy.decide_tables(tables))[0], math.nan
        return np.asarray(self.policy.decide(state.served_gains(), state.served_params())), math.nan


def myopic(solver: str = "certified", **options) -> DriftPlusPenalty:
    """The per-slot optimum of the paper's cost, queues ignored: drift-plus-penalty at V = ∞."""
    return DriftPlusPenalty(math.inf, solver, **options)


def _default_name(v: float, solver: str) -> str:
    if math.isinf(v):
        return "myopic" if solver == "certified" else f"myopic-{solver}"
    return f"dpp-{solver}(V={v:g})"


def _load(policy: Any) -> Any:
    if isinstance(policy, (str, Path)):
        from dirs.learn import load_policy

        return load_policy(policy)
    if not (hasattr(policy, "decide_tables") or hasattr(policy, "decide")):
        raise ParameterError(
            f"policy: expected a path or a policy with decide_tables(tables) or decide(gains, params), "
            f"got {type(policy).__name__}"
        )
    return policy


#: Controllers by name for the CLI: name -> factory(**options).
CONTROLLERS = {
    "local": lambda **kw: Local(),
    "remote": lambda **kw: Remote(),
    "myopic": lambda **kw: myopic("certified", **kw),
    "myopic-greedy": lambda **kw: myopic("greedy"),
    "dpp": lambda v=1.0, **kw: DriftPlusPenalty(v, "certified", **kw),
    "dpp-greedy": lambda v=1.0, **kw: DriftPlusPenalty(v, "greedy"),
}


def make_controller(name: str, **options) -> Controller:
    """A controller of :data:`CONTROLLERS` (``v`` and ``rel_gap`` where it takes them)."""
    if name not in CONTROLLERS:
        raise ParameterError(f"controller: unknown name {name!r}; allowed: {sorted(CONTROLLERS)}")
    return CONTROLLERS[name](**options)


__all__ = [
    "CONTROLLERS",
    "SOLVERS",
    "Controller",
    "DriftPlusPenalty",
    "Local",
    "Remote",
    "dpp_weights",
    "make_controller",
    "myopic",
    "server_prices",
]
