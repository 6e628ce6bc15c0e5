"""A Gymnasium environment of the MEC offloading problem (paper §III; docs/design.md §1, §5).

One episode = one time slot = one channel sample: :meth:`MECOffloadEnv.reset` draws a sample of the
scenario's training gains ``(T, N, M)``, the agent answers with one decision for every IoTD, and
:meth:`MECOffloadEnv.step` prices it with the exact allocation (closed-form CPU split and transmit
power, eqs. 2-9) and ends the episode.

* **Observation**: the standardised log-gains ``(log h − μ) / σ`` of the sample, ``float32 (N, M)``
  clipped to ±20;
  μ, σ are per-(IoTD, server) statistics of the training samples (:class:`ObsStats`, stored with
  every trained model so a policy sees the same inputs when it is reloaded).
* **Action** (``action_type``):
  ``"discrete"`` — ``MultiDiscrete([M + 1] * N)``, a_i ∈ {0 (local), 1..M};
  ``"box"`` — relaxed scores ``Box(-1, 1, (N, M + 1))`` decoded per IoTD by argmax
  (:func:`decode_scores`), for continuous-action learners (DDPG).
  :meth:`MECOffloadEnv.step` refuses any action outside the action space (wrong shape, floats for
  the discrete space, values outside 0..M, NaN/inf or out-of-range scores) with a
  :class:`~dirs.system.params.ParameterError` naming the space (:meth:`MECOffloadEnv.check_action`).
* **Reward** (our choice; the paper uses 1/objective): ``scale · (Φ_ref / Φ(a) − 1)`` where Φ is the
  objective of eq. 9 and Φ_ref the objective of a fixed reference heuristic on the same sample
  (Remote by default).  It is the NRR against the reference minus one, so it is ≈ 0 at Remote's
  quality, positive when better, and independent of the sample's overall cost scale (1/Φ varies by
  the sample far more than by the decision, which drowns the learning signal).
  ``reference="none"`` gives the paper's 1/Φ times ``scale``.

``import dirs.baselines`` registers the environment as ``dirs/MECOffload-v0``::

    import gymnasium as gym, dirs.baselines
    env = gym.make("dirs/MECOffload-v0", scenario="data/scenarios/xlarge/seed0/scenario.json",
                   channels="data/scenarios/xlarge/seed0/channels.npz")
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from dirs.solvers.costs import CostTables, cost_tables
from dirs.solvers.heuristics import HEURISTICS
from dirs.system import Scenario
from dirs.system.params import ParameterError

ENV_ID = "dirs/MECOffload-v0"
ACTION_TYPES = ("discrete", "box")
REFERENCES = ("remote", "greedy", "local", "none")
OBS_CLIP = 20.0
"""Standardised log-gains are clipped to ±OBS_CLIP (a deep fade can make log h arbitrarily small)."""


@dataclass(frozen=True)
class ObsStats:
    """Standardisation of log-gains: per-(IoTD, server) mean and standard deviation ``(N, M)``."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, gains: np.ndarray) -> ObsStats:
        """Statistics of the training gains ``(T, N, M)`` (std floored at 1e-6)."""
        lg = np.log(np.asarray(gains, dtype=np.float64))
        std = lg.std(0) if len(lg) > 1 else np.ones(lg.shape[1:])
        return cls(mean=lg.mean(0), std=np.maximum(std, 1e-6))

    def transform(self, gains: np.ndarray) -> np.ndarray:
        """Standardised log-gains, same shape as ``gains`` (``(..., N, M)``), float32."""
        z = (np.log(gains) - self.mean) / self.std
        return np.clip(z, -OBS_CLIP, OBS_CLIP).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], shape: tuple[int, int] | None = None, source: str = "obs_stats"
    ) -> ObsStats:
        """Statistics from :meth:`to_dict`'s form, checked: ``mean``, ``std`` present, numeric, of
        ``shape`` (N, M) when given, finite, ``std > 0``."""
        if not isinstance(data, dict) or "mean" not in data or "std" not in data:
            raise ParameterError(f"{source}: expected an object with 'mean' and 'std' (N, M) arrays")
        try:
            mean = np.asarray(data["mean"], dtype=np.float64)
            std = np.asarray(data["std"], dtype=np.float64)
        except (TypeError, ValueError):
            raise ParameterError(f"{source}: mean/std: expected numeric (N, M) arrays") from None
        want = tuple(shape) if shape is not None else mean.shape
        if mean.ndim != 2 or mean.shape != want or std.shape != want:
            raise ParameterError(f"{source}: mean/std: shapes {mean.shape}/{std.shape}, expected {want} = (N, M)")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std > 0)):
            raise ParameterError(f"{source}: mean/std: must be finite, with std > 0")
        return cls(mean=mean, std=std)


def check_policy_input(gains, num_iotds: int, num_servers: int, name: str = "gains") -> tuple[np.ndarray, bool]:
    """A policy's gains checked as :func:`dirs.system.evaluate` checks them (shape ``(T, N, M)`` or
    ``(N, M)``, every entry finite and > 0): returns ``(g (T, N, M), single)``."""
    from dirs.learn.agents import check_policy_gains

    return check_policy_gains(gains, num_iotds, num_servers, name)


def decode_scores(scores: np.ndarray) -> np.ndarray:
    """Decisions ``(..., N)`` from relaxed scores ``(..., N, M + 1)``: argmax per IoTD (0 = local)."""
    return np.asarray(scores).argmax(-1).astype(np.int64)


def reference_objective(tables: CostTables, gains: np.ndarray, scenario: Scenario, reference: str) -> np.ndarray:
    """Per-sample objective ``(T,)`` of the reward's reference heuristic (ones for ``"none"``)."""
    if reference not in REFERENCES:
        raise ParameterError(f"reference: unknown value {reference!r}; allowed: {', '.join(REFERENCES)}")
    if reference == "none":
        return np.ones(len(gains))
    a = HEURISTICS[reference](gains, scenario.params, np.random.default_rng(0))
    return tables.objective(a)


def reward_from_objective(objective: np.ndarray, ref_objective: np.ndarray, reference: str, scale: float) -> np.ndarray:
    """The environment's reward (module docstring) for objectives and reference objectives."""
    if reference == "none":
        return scale / objective
    return scale * (ref_objective / objective - 1.0)


class MECOffloadEnv(gym.Env):
    """One-step episodes over the channel samples of a scenario (see the module docstring).

    Parameters
    ----------
    scenario: a :class:`Scenario` or the path of its ``scenario.json``.
    channels: the gains ``(T, N, M)`` or the path of ``channels.npz`` (array ``split``).
    split: which array of ``channels.npz`` to serve (``train`` by default).
    action_type: ``"discrete"`` (MultiDiscrete) or ``"box"`` (relaxed scores, argmax-decoded).
    reference, reward_scale: the reward (module docstring).
    obs_stats: standardisation; by default fitted on the served gains.
    shuffle: serve samples in a fresh random order each pass (``np_random``); else in order.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        scenario: Scenario | str | Path,
        channels: np.ndarray | str | Path,
        *,
        split: str = "train",
        action_type: str = "discrete",
        reference: str = "remote",
        reward_scale: float = 10.0,
        obs_stats: ObsStats | None = None,
        shuffle: bool = True,
    ) -> None:
        super().__init__()
        self.scenario = scenario if isinstance(scenario, Scenario) else Scenario.load(scenario)
        if isinstance(channels, (str, Path)):  # the split's params carry its per-slot tasks (docs/design.md §9)
            from dirs.io import load_split

            self.scenario, gains = load_split(channels, split, self.scenario)
        else:
            gains = self.scenario.check_channels(np.asarray(channels, dtype=np.float64))
        if action_type not in ACTION_TYPES:
            raise ParameterError(f"action_type: unknown value {action_type!r}; allowed: {', '.join(ACTION_TYPES)}")
        if reference not in REFERENCES:
            raise ParameterError(f"reference: unknown value {reference!r}; allowed: {', '.join(REFERENCES)}")
        if not reward_scale > 0:
            raise ParameterError(f"reward_scale: must be > 0, got {reward_scale}")
        self.gains = gains
        self.action_type = action_type
        self.reference = reference
        self.reward_scale = float(reward_scale)
        self.shuffle = bool(shuffle)
        self.obs_stats = obs_stats or ObsStats.fit(gains)
        self.tables = cost_tables(gains, self.scenario.params)
        self.ref_objective = reference_objective(self.tables, gains, self.scenario, reference)
        self._obs = self.obs_stats.transform(gains)
        n, m = self.scenario.num_iotds, self.scenario.num_servers
        self.observation_space = spaces.Box(-OBS_CLIP, OBS_CLIP, shape=(n, m), dtype=np.float32)
        if action_type == "discrete":
            self.action_space = spaces.MultiDiscrete(np.full(n, m + 1, dtype=np.int64))
        else:
            self.action_space = spaces.Box(-1.0, 1.0, shape=(n, m + 1), dtype=np.float32)
        self._order = np.arange(len(gains))
        self._pos = len(gains)  # forces a new pass at the first reset
        self._index: int | None = None

    @property
    def num_samples(self) -> int:
        return len(self.gains)

    def decisions(self, action: np.ndarray) -> np.ndarray:
        """Decisions ``(..., N)`` in 0..M from actions of this environment's action space."""
        a = np.asarray(action)
        return decode_scores(a) if self.action_type == "box" else a.astype(np.int64)

    def check_action(self, action) -> np.ndarray:
        """Decisions ``(N,)`` in 0..M from one action, refusing anything outside the action space
        (wrong shape, a float for the discrete space, a value outside 0..M, NaN/inf or values
        outside [-1, 1] for the box space) with a :class:`ParameterError` that names the space."""
        n, m = self.scenario.num_iotds, self.scenario.num_servers
        a = np.asarray(action)
        space = f"action space {self.action_space}"
        if self.action_type == "discrete":
            if a.dtype.kind not in "iu":
                raise ParameterError(
                    f"action: the {space} takes integers in 0..{m} (0 = local, j = server j), got dtype {a.dtype}"
                )
            if a.shape != (n,):
                raise ParameterError(
                    f"action: the {space} takes shape ({n},), one decision per IoTD; got shape {a.shape}"
                )
            bad = (a < 0) | (a > m)
            if bad.any():
                i = int(np.argmax(bad))
                raise ParameterError(
                    f"action: the {space} takes values in 0..{m} (0 = local, j = server j); IoTD {i} got {int(a[i])}"
                )
            return a.astype(np.int64, copy=False)
        if a.dtype.kind != "f":
            raise ParameterError(f"action: the {space} takes float scores in [-1, 1], got dtype {a.dtype}")
        if a.shape != (n, m + 1):
            raise ParameterError(
                f"action: the {space} takes scores of shape ({n}, {m + 1}) (one per IoTD and "
                f"option 0..{m}); got shape {a.shape}"
            )
        bad = ~np.isfinite(a) | (a < -1.0) | (a > 1.0)
        if bad.any():
            i, j = (int(v) for v in np.argwhere(bad)[0])
            raise ParameterError(f"action: the {space} takes finite scores in [-1, 1]; entry ({i}, {j}) = {a[i, j]}")
        return decode_scores(a)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start an episode on the next sample (``options={"index": k}`` picks sample k)."""
        super().reset(seed=seed)
        if seed is not None:
            self._pos = self.num_samples
        if options and "index" in options:
            k = int(options["index"])
            if not 0 <= k < self.num_samples:
                raise ParameterError(f"options.index: must lie in [0, {self.num_samples}), got {k}")
            self._index = k
        else:
            if self._pos >= self.num_samples:
                self._order = (
                    self.np_random.permutation(self.num_samples) if self.shuffle else np.arange(self.num_samples)
                )
                self._pos = 0
            self._index = int(self._order[self._pos])
            self._pos += 1
        return self._obs[self._index].copy(), {"index": self._index}

    def step(self, action):
        if self._index is None:
            raise RuntimeError("step() called before reset()")
        k = self._index
        a = self.check_action(action)
        obj = _objective_one(self.tables, k, a)
        reward = float(reward_from_objective(np.float64(obj), self.ref_objective[k], self.reference, self.reward_scale))
        info = {"index": k, "objective": obj, "nrr_reference": float(self.ref_objective[k] / obj)}
        self._index = None
        return self._obs[k].copy(), reward, True, False, info


def _objective_one(tables: CostTables, k: int, a: np.ndarray) -> float:
    """Objective (eq. 9) of decisions ``a`` (N,) on sample ``k`` of ``tables`` (no full-batch work)."""
    one = tables.take(slice(k, k + 1))
    return float(one.objective(a[None])[0])


def register() -> None:
    """Register ``dirs/MECOffload-v0`` with Gymnasium (idempotent)."""
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point="dirs.baselines.env:MECOffloadEnv")
