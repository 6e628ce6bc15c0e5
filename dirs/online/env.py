"""A Gymnasium environment of the time-coupled MEC model (docs/design.md §11.7), ``dirs/MECOnline-v0``.

One episode = ``horizon`` slots of :class:`dirs.online.sim.Simulator` from empty queues; ``reset(seed=k)``
replays the exogenous process of seed k (common random numbers), ``reset()`` draws a seed from the
environment's generator.

* **Observation** (:func:`encode_observation`), a ``Dict``:
  ``gains`` — log10 of each IoTD's SNR at full power, P_max h_ij / σ², ``float32 (N, M)`` clipped to ±20;
  ``backlog`` — tasks in the system per IoTD; ``work`` — β_i / τ, the device's committed work in slots;
  ``task`` — the head-of-line task's (D / E[D], F / E[F]), zeros where none waits, ``(N, 2)``;
  ``server_work`` — Z_j / τ, each server's work backlog in slots, ``(M,)``;
  ``ready`` — 1 where the IoTD dispatches this slot (``MultiBinary(N)``); ``position`` — positions / area.
* **Action**: ``MultiDiscrete([M + 1] * N)``, a_i ∈ {0 (local), 1..M}; entries of IoTDs that are not
  ready are ignored. :meth:`OnlineEnv.check_action` refuses anything outside the action space (wrong
  shape, floats, values outside 0..M) with a :class:`~dirs.system.params.ParameterError` naming it.
* **Reward** (``reward``): ``"cost+backlog"`` (default) −(P(t) + η Σ_i Q_i(t+1)) — the paper's cost of
  the slot's tasks plus η per task left in the system (η = ``backlog_weight``, default φT τ: one slot of
  waiting priced as time), so the return is the cost plus η·τ⁻¹ times the total sojourn (Little);
  ``"dpp"`` −(P(t) + (L(t+1) − L(t)) / V) with L = ½ (Σ β_i² + Σ Z_j²), the realised drift-plus-penalty of §11.3
  (it telescopes: the return is −(Σ P + L(end) / V)).
* **Allocation** (``allocation``): ``"paper"`` (the closed form of docs/design.md §2) or ``"dpp"`` (the
  time weights of eq. 11.7 with ``v``; the server prices of eq. 11.8 only enter decisions), so a learned policy can act on the same slot problem as the
  drift-plus-penalty controller.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from dirs.online.config import SIZES, OnlineConfig, make_scenario
from dirs.online.controllers import dpp_weights
from dirs.online.sim import Simulator, SlotState
from dirs.system.params import ParameterError

ENV_ID = "dirs/MECOnline-v0"
REWARDS = ("cost+backlog", "dpp")
ALLOCATIONS = ("paper", "dpp")
OBS_CLIP = 20.0
OBS_MAX = 1e6
"""Backlog, work and task features are clipped to [0, OBS_MAX]."""


def observation_space(num_iotds: int, num_servers: int) -> spaces.Dict:
    """The ``Dict`` observation space of :func:`encode_observation`."""
    n, m = num_iotds, num_servers
    return spaces.Dict(
        {
            "gains": spaces.Box(-OBS_CLIP, OBS_CLIP, shape=(n, m), dtype=np.float32),
            "backlog": spaces.Box(0.0, OBS_MAX, shape=(n,), dtype=np.float32),
            "work": spaces.Box(0.0, OBS_MAX, shape=(n,), dtype=np.float32),
            "task": spaces.Box(0.0, OBS_MAX, shape=(n, 2), dtype=np.float32),
            "server_work": spaces.Box(0.0, OBS_MAX, shape=(m,), dtype=np.float32),
            "ready": spaces.MultiBinary(n),
            "position": spaces.Box(0.0, 1.0, shape=(n, 2), dtype=np.float32),
        }
    )


def encode_observation(state: SlotState, config: OnlineConfig, area_m: float) -> dict[str, np.ndarray]:
    """The environment's observation of a slot (module docstring): what a learned controller reads."""
    p = state.params
    pmax = np.asarray(p.per_iotd("max_power_w", len(state.ready)))[:, None]
    with np.errstate(over="ignore"):
        snr = np.log10(pmax * state.gains / p.noise_w)
    task = np.stack([state.data_bits / config.mean_data_bits, state.cpu_cycles / config.mean_cpu_cycles], axis=-1)
    return {
        "gains": np.clip(snr, -OBS_CLIP, OBS_CLIP).astype(np.float32),
        "backlog": np.minimum(state.backlog, OBS_MAX).astype(np.float32),
        "work": np.minimum(state.work_s / state.slot_s, OBS_MAX).astype(np.float32),
        "task": np.clip(task, 0.0, OBS_MAX).astype(np.float32),
        "server_work": np.minimum(state.server_work_s / state.slot_s, OBS_MAX).astype(np.float32),
        "ready": state.ready.astype(np.int8),
        "position": np.clip(state.positions / area_m, 0.0, 1.0).astype(np.float32),
    }


class OnlineEnv(gym.Env):
    """``horizon``-slot episodes of the time-coupled system (module docstring).

    scenario: a :class:`dirs.system.Scenario` or a size name (``medium``, ``large``, ``xlarge``; the
    deployment of seed ``scenario_seed``); config: the :class:`OnlineConfig` (defaults if None).
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        scenario="medium",
        config: OnlineConfig | None = None,
        *,
        horizon: int = 1000,
        reward: str = "cost+backlog",
        backlog_weight: float | None = None,
        v: float = 1.0,
        allocation: str = "paper",
        scenario_seed: int = 0,
    ) -> None:
        super().__init__()
        if isinstance(scenario, str):
            if scenario not in SIZES:
                raise ParameterError(f"scenario: unknown size {scenario!r}; allowed: {list(SIZES)} or a Scenario")
            scenario = make_scenario(scenario, scenario_seed)
        if reward not in REWARDS:
            raise ParameterError(f"reward: unknown value {reward!r}; allowed: {list(REWARDS)}")
        if allocation not in ALLOCATIONS:
            raise ParameterError(f"allocation: unknown value {allocation!r}; allowed: {list(ALLOCATIONS)}")
        if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
            raise ParameterError(f"horizon: expected an integer >= 1 slots, got {horizon!r}")
        if not (isinstance(v, (int, float)) and v > 0):
            raise ParameterError(f"v: the drift-plus-penalty weight V must be > 0, got {v!r}")
        self.sim = Simulator(scenario, config)
        self.config = self.sim.config
        eta = scenario.params.phi_t * self.config.slot_s if backlog_weight is None else backlog_weight
        if not (isinstance(eta, (int, float)) and eta >= 0):
            raise ParameterError(f"backlog_weight: must be a number >= 0, got {backlog_weight!r}")
        self.horizon, self.reward_kind, self.backlog_weight = horizon, reward, float(eta)
        self.v, self.allocation = float(v), allocation
        n, m = scenario.num_iotds, scenario.num_servers
        self.observation_space = observation_space(n, m)
        self.action_space = spaces.MultiDiscrete(np.full(n, m + 1, dtype=np.int64))
        self._steps: int | None = None

    def _obs(self) -> dict[str, np.ndarray]:
        return encode_observation(self.sim.state, self.config, self.sim.scenario.area_m)

    def check_action(self, action) -> np.ndarray:
        """Decisions ``(N,)`` from an action, refusing anything outside the action space (a
        :class:`ParameterError` that names the space)."""
        n, m = self.sim.num_iotds, self.sim.num_servers
        a = np.asarray(action)
        space = f"action space {self.action_space}"
        if a.dtype.kind not in "iu":
            raise ParameterError(
                f"action: the {space} takes integers in 0..{m} (0 = local, j = server j), got dtype {a.dtype}"
            )
        if a.shape != (n,):
            raise ParameterError(f"action: the {space} takes shape ({n},), one decision per IoTD; got shape {a.shape}")
        bad = (a < 0) | (a > m)
        if bad.any():
            i = int(np.argmax(bad))
            raise ParameterError(
                f"action: the {space} takes values in 0..{m} (0 = local, j = server j); IoTD {i} got {int(a[i])}"
            )
        return a.astype(np.int64, copy=False)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Empty queues; the exogenous process of ``seed`` (or a seed drawn from ``np_random``)."""
        super().reset(seed=seed)
        exo_seed = seed if seed is not None else int(self.np_random.integers(2**31 - 1))
        self.sim.reset(exo_seed)
        self._steps = 0
        return self._obs(), {"t": 0, "seed": exo_seed}

    def step(self, action):
        if self._steps is None:
            raise RuntimeError("step() called before reset()")
        a = self.check_action(action)
        before = self.sim.state
        w = None
        if self.allocation == "dpp":
            w = dpp_weights(before.work_s, self.v, before.params.phi_t)
        state, info = self.sim.step(a, w)
        if self.reward_kind == "cost+backlog":
            reward = -(info.cost + self.backlog_weight * float(state.backlog.sum()))
        else:
            reward = -(info.cost + (info.lyapunov - before.lyapunov) / self.v)
        self._steps += 1
        out = {
            "t": info.t,
            "cost": info.cost,
            "served": info.served,
            "completed": info.completed,
            "backlog": int(state.backlog.sum()),
            "dropped": info.dropped,
        }
        return self._obs(), float(reward), False, self._steps >= self.horizon, out


def register() -> None:
    """Register ``dirs/MECOnline-v0`` with Gymnasium (idempotent)."""
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point="dirs.online.env:OnlineEnv")


register()

__all__ = ["ALLOCATIONS", "ENV_ID", "REWARDS", "OnlineEnv", "encode_observation", "observation_space", "register"]
