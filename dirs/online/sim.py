"""Slot simulator of the time-coupled MEC model (docs/design.md §11.1, §11.4).

Per IoTD i a FIFO of tasks (arrival slot, D, F) and a device *work backlog* β_i (seconds): the IoTD
serves its tasks one after the other, each for its latency T (the paper's time: transmission plus
server compute when offloaded, F / f_i0 locally), so the tasks it has been given but not finished
form a Lindley work queue (eq. 11.5a)

    β_i(t+1) = max(β_i(t) + d_i(t) T_i(t) − τ, 0),      d_i(t) = 1{a task waits at the start of slot t}.

Slot t, in order: (1) the arrivals A_i(t) join the FIFOs (a task that would exceed ``buffer_limit`` is
dropped); (2) every IoTD with a waiting task *dispatches* its head-of-line task with the controller's
decision a_i — priced with the slot's gains and shared server CPU like one instance of the paper's
problem (:func:`dirs.online.slot.price`); the task completes at c = max(free_i, t) + T_i / τ (slot
units; free_i = when the device finishes its earlier work); (3) the slot's τ seconds elapse and the tasks
with c ≤ t + 1 complete. A task is *in the system* at slot start s iff it arrived at a slot ≤ s and
c > s; its delay is (c − t_arrival) τ seconds, and (t_done + 1) − t_arrival slot starts (discrete
Little's law, §11.5).

Servers: as in the paper, the tasks offloaded in a slot share F_j^max by the closed-form split and
are priced as one instance of the paper's problem. Each server also keeps its *work backlog* Z_j
(seconds of work at full speed, eq. 11.5b), Z_j(t+1) = max(Z_j(t) + Σ_{i→j} F_i / F_j^max − τ, 0): the
per-slot pricing does not make a task wait for it (the paper's abstraction), but a controller under which
some Z_j grows without bound overbooks that server in the long run and counts as unstable (§11.6).

Every slot the simulator checks conservation exactly: arrived = completed + in system + dropped.
Vectorised over IoTDs (ring buffers ``(N, capacity)``); the only loop inside a slot runs over the
arrival index k (Poisson) and over the completions of one slot (a device rarely finishes more than one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dirs.online.config import OnlineConfig
from dirs.online.exogenous import Exogenous, TraceExogenous
from dirs.online.slot import Device, check_weights, price_tasks
from dirs.system.params import PER_IOTD_FIELDS, ParameterError, SystemParams

_DEVICE_FIELDS = tuple(f for f in PER_IOTD_FIELDS if f not in ("data_bits", "cpu_cycles"))


@dataclass(frozen=True)
class SlotState:
    """What a controller sees at the start of slot ``t`` (after the slot's arrivals); arrays are copies."""

    t: int
    slot_s: float
    gains: np.ndarray
    """(N, M) h_ij(t)."""
    positions: np.ndarray
    """(N, 2) IoTD positions in metres."""
    arrivals: np.ndarray
    """(N,) tasks that arrived at the start of this slot (dropped ones included)."""
    ready: np.ndarray
    """(N,) bool: IoTD i has a waiting task and dispatches its head-of-line task this slot (the set S)."""
    data_bits: np.ndarray
    """(N,) D of the head-of-line task (0 where not ready)."""
    cpu_cycles: np.ndarray
    """(N,) F of the head-of-line task (0 where not ready)."""
    backlog: np.ndarray
    """(N,) tasks in the system (waiting + dispatched, not completed)."""
    waiting: np.ndarray
    """(N,) tasks not yet dispatched."""
    work_s: np.ndarray
    """(N,) β_i(t): seconds of dispatched work the device still has to do."""
    server_work_s: np.ndarray
    """(M,) Z_j(t): seconds of work server j still has to do at full speed (eq. 11.5b)."""
    params: SystemParams
    """The deployment's device parameters (task fields there are unused: tasks come from the queues)."""

    @property
    def lyapunov(self) -> float:
        """L(t) = ½ (Σ_i β_i² + Σ_j Z_j²) (§11.3)."""
        return 0.5 * float(self.work_s @ self.work_s + self.server_work_s @ self.server_work_s)

    @property
    def served(self) -> np.ndarray:
        """Indices of the IoTDs that dispatch this slot."""
        return np.flatnonzero(self.ready)

    def served_gains(self) -> np.ndarray:
        """(n, M) gains of the served IoTDs."""
        return self.gains[self.ready]

    def served_params(self) -> SystemParams:
        """SystemParams of the served IoTDs: their head-of-line tasks and device fields, ``(n,)`` arrays."""
        s = self.ready
        changes = {"data_bits": self.data_bits[s], "cpu_cycles": self.cpu_cycles[s]}
        for name in _DEVICE_FIELDS:
            v = np.asarray(getattr(self.params, name))
            if v.ndim == 1:
                changes[name] = v[s]
        return self.params.replace(**changes)


@dataclass(frozen=True)
class StepInfo:
    """What happened in slot ``t`` (returned by :meth:`Simulator.step`)."""

    t: int
    served: int
    cost: float
    """P(t) = Σ_{i ∈ S} Φ_i: the paper's cost of the tasks served (eq. 11.4)."""
    time_s: float
    energy_j: float
    completed: int
    delays_s: np.ndarray
    """(completed,) sojourn times of the tasks completed in the slot (seconds)."""
    delays_slots: np.ndarray
    """(completed,) slot starts each of them spent in the system."""
    drift_b: float
    """½ Σ_i (d_i T_i − τ)² + ½ Σ_j (W_j / F_j^max − τ)²: this slot's second-order drift term (§11.3, B)."""
    lyapunov: float
    """L(t+1) = ½ Σ_i β_i(t+1)² + ½ Σ_j Z_j(t+1)²."""
    server_cycles: np.ndarray
    """(M,) Σ F of the tasks offloaded to each server this slot."""
    arrived: int
    """Tasks arriving at the start of slot t + 1 (dropped ones included)."""
    dropped: int
    """Of those, dropped at the buffer limit."""


class Simulator:
    """The time-coupled system on a deployment ``scenario`` under ``config`` (module docstring).

    seed: seed of the exogenous process ω(t) (arrivals, sizes, moves, fading; common random numbers);
    exogenous: a :class:`TraceExogenous` to replay instead (tests, hand-computed traces).
    """

    def __init__(self, scenario, config: OnlineConfig | None = None, *, seed: int = 0, exogenous=None) -> None:
        self.scenario = scenario
        self.config = config if config is not None else OnlineConfig()
        if not isinstance(self.config, OnlineConfig):
            raise ParameterError(f"config: expected an OnlineConfig, got {type(self.config).__name__}")
        params = scenario.params
        if params.num_samples is not None:
            raise ParameterError(
                "scenario.params: per-slot (T, N) task fields are not allowed; tasks come from the queues"
            )
        self.num_iotds, self.num_servers = scenario.num_iotds, scenario.num_servers
        if exogenous is not None and (exogenous.num_iotds, exogenous.num_servers) != (self.num_iotds, self.num_servers):
            raise ParameterError(
                f"exogenous: has N={exogenous.num_iotds}, M={exogenous.num_servers}; the scenario has "
                f"N={self.num_iotds}, M={self.num_servers}"
            )
        self.seed = int(seed)
        self._device = Device.from_params(params, self.num_iotds, self.num_servers)
        self._trace = exogenous
        self.reset()

    # ------------------------------------------------------------------------------ set-up
    def reset(self, seed: int | None = None) -> SlotState:
        """Empty queues at slot 0 (its arrivals applied); ``seed`` replaces the exogenous seed."""
        if seed is not None:
            self.seed = int(seed)
        if self._trace is not None:
            if seed is not None:
                raise ParameterError("seed: a replayed trace has no seed")
            self._exo = self._trace
            self._exo.rewind()
        else:
            self._exo = Exogenous(self.scenario, self.config, self.seed)
        n = self.num_iotds
        limit = self.config.buffer_limit
        self._cap = int(limit) if limit is not None else 16
        self._t_arr = np.zeros((n, self._cap), dtype=np.int64)
        self._comp = np.zeros((n, self._cap))
        self._d = np.zeros((n, self._cap))
        self._f = np.zeros((n, self._cap))
        self._head = np.zeros(n, dtype=np.int64)
        self._count = np.zeros(n, dtype=np.int64)
        self._disp = np.zeros(n, dtype=np.int64)
        self._free = np.zeros(n)  # slot time at which each device has finished its dispatched work
        self._server = np.zeros(self.num_servers)  # Z_j: server work left, seconds at full speed
        self.arrived = self.completed = self.dropped = 0
        self.t = 0
        self._block = self._exo.next_block()
        self._pos = 0
        self._arrivals_now = self._arrive()
        self.state = self._observe()
        return self.state

    def _grow(self, need: int) -> None:
        cap = max(2 * self._cap, int(need))
        order = (self._head[:, None] + np.arange(self._cap)) % self._cap
        rows = np.arange(self.num_iotds)[:, None]
        for name in ("_t_arr", "_comp", "_d", "_f"):
            old = getattr(self, name)
            new = np.zeros((self.num_iotds, cap), dtype=old.dtype)
            new[:, : self._cap] = old[rows, order]
            setattr(self, name, new)
        self._head[:] = 0
        self._cap = cap

    def _arrive(self) -> tuple[np.ndarray, int]:
        """Apply the arrivals of slot ``t``; returns (arrivals (N,), dropped)."""
        b, p = self._block, self._pos
        a = b.arrivals[p]
        limit = self.config.buffer_limit
        if limit is None and a.size and int((self._count + a).max()) > self._cap:
            self._grow(int((self._count + a).max()))
        dropped = 0
        for k in range(int(a.max(initial=0))):
            who = a > k
            ok = who if limit is None else who & (self._count < limit)
            idx = np.flatnonzero(ok)
            slot = (self._head[idx] + self._count[idx]) % self._cap
            self._t_arr[idx, slot] = self.t
            self._d[idx, slot] = b.data_bits[p, k, idx]
            self._f[idx, slot] = b.cpu_cycles[p, k, idx]
            self._count[idx] += 1
            dropped += int(who.sum()) - len(idx)
        self.arrived += int(a.sum())
        self.dropped += dropped
        return a, dropped

    def _observe(self) -> SlotState:
        ready = self._count > self._disp
        hol = (self._head + self._disp) % self._cap
        rows = np.arange(self.num_iotds)
        b, p = self._block, self._pos
        return SlotState(
            t=self.t,
            slot_s=self.config.slot_s,
            gains=b.gains[p],
            positions=b.positions[p],
            arrivals=self._arrivals_now[0].copy(),
            ready=ready,
            data_bits=np.where(ready, self._d[rows, hol], 0.0),
            cpu_cycles=np.where(ready, self._f[rows, hol], 0.0),
            backlog=self._count.copy(),
            waiting=self._count - self._disp,
            work_s=np.maximum(self._free - self.t, 0.0) * self.config.slot_s,
            server_work_s=self._server.copy(),
            params=self.scenario.params,
        )

    # ------------------------------------------------------------------------------ dynamics
    def check_decisions(self, decisions) -> np.ndarray:
        """Decisions ``(N,)`` ints in 0..M (0 = local, j = server j); anything else is a ParameterError.
        Entries of IoTDs that do not dispatch this slot are ignored."""
        n, m = self.num_iotds, self.num_servers
        a = np.asarray(decisions)
        if a.shape != (n,) or a.dtype.kind not in "iu":
            raise ParameterError(f"decisions: expected integers of shape ({n},), got {a.dtype} {a.shape}")
        bad = (a < 0) | (a > m)
        if bad.any():
            i = int(np.argmax(bad))
            raise ParameterError(f"decisions: values must lie in 0..{m} (0 = local, j = server j); IoTD {i} got {a[i]}")
        return a.astype(np.int64, copy=False)

    def step(self, decisions, time_weights=None) -> tuple[SlotState, StepInfo]:
        """Play slot t with ``decisions`` ``(N,)`` and allocation ``time_weights`` ``(N,)`` (eq. 11.6;
        None = the paper's allocation); returns the state of slot t + 1 and what happened in slot t."""
        a = self.check_decisions(decisions)
        w = check_weights(time_weights, self.num_iotds)
        nxt = self._exo.next_block() if self._pos + 1 == len(self._block) else None  # before any change
        st, tau, t = self.state, self.config.slot_s, self.t
        idx = st.served
        time_s, totals, cycles = np.zeros(0), (0.0, 0.0, 0.0), np.zeros(self.num_servers)
        if len(idx):
            priced = price_tasks(
                a[idx],
                st.gains[idx],
                st.data_bits[idx],
                st.cpu_cycles[idx],
                self._device.take(idx),
                None if w is None else w[idx],
            )
            time_s, cycles = priced.time_s, priced.cycles_on
            totals = (float(priced.cost.sum()), float(time_s.sum()), float(priced.energy_j.sum()))
            c = np.maximum(self._free[idx], t) + time_s / tau
            self._free[idx] = c
            self._comp[idx, (self._head[idx] + self._disp[idx]) % self._cap] = c
            self._disp[idx] += 1
        server_in = cycles / self._device.mec_cpu_hz  # W_j / F_j^max: seconds of server work
        self._server = np.maximum(self._server + server_in - tau, 0.0)  # eq. 11.5b
        drift_b = 0.5 * (float(((time_s - tau) ** 2).sum()) + (self.num_iotds - len(idx)) * tau * tau)
        drift_b += 0.5 * float(((server_in - tau) ** 2).sum())
        d_s, d_slots = self._complete(t + 1)
        work = np.maximum(self._free - (t + 1), 0.0) * tau
        self.t += 1
        self._pos += 1
        if nxt is not None:
            self._block, self._pos = nxt, 0
        self._arrivals_now = self._arrive()
        self.state = self._observe()
        self._check_conservation()
        info = StepInfo(
            t=t,
            served=len(idx),
            cost=totals[0],
            time_s=totals[1],
            energy_j=totals[2],
            completed=len(d_s),
            delays_s=d_s,
            delays_slots=d_slots,
            drift_b=drift_b,
            lyapunov=0.5 * float(work @ work + self._server @ self._server),
            server_cycles=cycles,
            arrived=int(self._arrivals_now[0].sum()),
            dropped=self._arrivals_now[1],
        )
        return self.state, info

    def _complete(self, end: int) -> tuple[np.ndarray, np.ndarray]:
        """Pop the dispatched tasks that complete by slot time ``end``; their delays (s, slots)."""
        rows = np.arange(self.num_iotds)
        out_s, out_slots = [], []
        while True:
            hc = self._comp[rows, self._head]
            done = np.flatnonzero((self._disp > 0) & (hc <= end))
            if not len(done):
                break
            arr = self._t_arr[done, self._head[done]]
            out_s.append((hc[done] - arr) * self.config.slot_s)
            out_slots.append(end - arr)
            self._head[done] = (self._head[done] + 1) % self._cap
            self._count[done] -= 1
            self._disp[done] -= 1
        self.completed += sum(len(x) for x in out_s)
        if not out_s:
            return np.zeros(0), np.zeros(0, dtype=np.int64)
        return np.concatenate(out_s), np.concatenate(out_slots)

    def _check_conservation(self) -> None:
        in_system = int(self._count.sum())
        if self.arrived != self.completed + in_system + self.dropped:
            raise RuntimeError(
                f"conservation violated at slot {self.t}: arrived {self.arrived} != completed {self.completed} "
                f"+ in system {in_system} + dropped {self.dropped}"
            )

    @property
    def mec_cpu_hz(self) -> np.ndarray:
        """(M,) F_j^max."""
        return self._device.mec_cpu_hz

    @property
    def slot_dropped(self) -> int:
        """Arrivals of the current slot dropped at the buffer limit."""
        return int(self._arrivals_now[1])

    @property
    def totals(self) -> dict[str, int]:
        """Cumulative counts: arrived = completed + in_system + dropped (checked every slot)."""
        return {
            "arrived": self.arrived,
            "completed": self.completed,
            "in_system": int(self._count.sum()),
            "dropped": self.dropped,
        }


__all__ = ["Simulator", "SlotState", "StepInfo", "TraceExogenous"]
