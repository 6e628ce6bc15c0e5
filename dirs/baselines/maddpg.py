"""MADDPG baseline (paper §V-D; Lowe et al., 2017) in PyTorch.

* **Actors**: one per server j, on its own gains h_j = (h_1j … h_Nj) (standardised log-gains), with
  N sigmoid outputs "IoTD i offloads to me" — the same shape as DIRS's agents (docs/design.md §4).  The M
  actors' weights are stacked, so all run in one batched forward pass (``torch.baddbmm``).
* **Decisions**: DIRS's max vote (:func:`dirs.learn.vote.vote`) over the M actors' outputs.
* **Critic**: one centralised Q(all gains, all actors' outputs) → the expected reward.
* **Environment**: :class:`~dirs.baselines.env.MECOffloadEnv` (MultiDiscrete), one-step episodes,
  so the critic's target is the reward itself (no bootstrapping, hence no target networks).
* **Updates** (every ``train_freq`` interactions after ``learning_starts``, ``gradient_steps`` times): critic by MSE
  to the reward on a replay minibatch; actor j by ascending Q(s, a_1 … μ_j(h_j) … a_M), the other
  agents' actions taken from the buffer (MADDPG's decentralised-actor / centralised-critic update).
  All M actor updates share one critic pass: the critic's first layer is linear in the action, so
  replacing agent j's column adds ``(μ_j − a_j) W_a[j]`` to a shared pre-activation.
* **Exploration**: Gaussian noise (σ = ``noise_sigma``) on the actors' probabilities, clipped to
  [0, 1], before the vote.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from dirs.baselines.env import MECOffloadEnv, ObsStats, check_policy_input
from dirs.learn.vote import vote
from dirs.system import Scenario
from dirs.system.params import ParameterError

MODEL_FILE = "model.pt"
META_FILE = "meta.json"
MetricsLogger = Callable[[int, dict[str, float]], None]


def default_actor_hidden(num_iotds: int) -> list[int]:
    """DIRS-like hidden sizes [1.5 N, 1.25 N] (xlarge N = 200: [300, 250], as the paper's agents)."""
    return [max(1, round(1.5 * num_iotds)), max(1, round(1.25 * num_iotds))]


class StackedActors(nn.Module):
    """M independent MLPs N → hidden → N (sigmoid), weights stacked on a leading agent axis."""

    def __init__(self, num_agents: int, num_iotds: int, hidden: Sequence[int]) -> None:
        super().__init__()
        sizes = [num_iotds, *hidden, num_iotds]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = 1.0 / math.sqrt(fan_in)  # PyTorch's nn.Linear initialisation, per agent
            self.weights.append(nn.Parameter(torch.empty(num_agents, fan_in, fan_out).uniform_(-bound, bound)))
            self.biases.append(nn.Parameter(torch.empty(num_agents, 1, fan_out).uniform_(-bound, bound)))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Probabilities ``(B, N, M)`` from standardised log-gains ``(B, N, M)``."""
        x = obs.permute(2, 0, 1)  # (M, B, N): agent j sees h_j only
        last = len(self.weights) - 1
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = torch.baddbmm(b, x, w)
            x = torch.sigmoid(x) if k == last else torch.relu(x)
        return x.permute(1, 2, 0)


class CentralCritic(nn.Module):
    """Q(s, a): s = all standardised log-gains, a = all actors' outputs (both ``(B, N, M)``)."""

    def __init__(self, num_iotds: int, num_servers: int, hidden: Sequence[int]) -> None:
        super().__init__()
        if not hidden:
            raise ParameterError("baseline.maddpg.critic_hidden: needs at least one layer")
        d = num_iotds * num_servers
        h0 = int(hidden[0])
        self.obs_in = nn.Linear(d, h0)
        self.act_in = nn.Linear(d, h0, bias=False)
        layers: list[nn.Module] = []
        for a, b in zip(hidden[:-1], hidden[1:]):
            layers += [nn.Linear(int(a), int(b)), nn.ReLU()]
        layers.append(nn.Linear(int(hidden[-1]), 1))
        self.head = nn.Sequential(*layers)

    def pre(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        return self.obs_in(obs.flatten(1)) + self.act_in(act.flatten(1))

    def forward(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.pre(obs, act)))[..., 0]

    def q_per_agent(self, obs: torch.Tensor, act: torch.Tensor, mu: torch.Tensor) -> torch.Tensor:
        """``(M, B)``: Q with agent j's actions replaced by ``mu[..., j]``, the others' kept."""
        n, m = act.shape[1:]
        base = self.pre(obs, act)  # (B, H)
        w = self.act_in.weight.T.reshape(n, m, -1).permute(1, 0, 2)  # (M, N, H): agent j's columns
        delta = torch.bmm((mu - act).permute(2, 0, 1), w)  # (M, B, H)
        return self.head(torch.relu(base[None] + delta))[..., 0]


@dataclass
class MADDPGPolicy:
    """Trained MADDPG actors: ``decide(gains (T, N, M)) -> (T, N)`` by the max vote."""

    actors: StackedActors
    stats: ObsStats
    meta: dict[str, Any] = field(default_factory=dict)

    @torch.no_grad()
    def probs(self, gains: np.ndarray) -> torch.Tensor:
        obs = torch.from_numpy(self.stats.transform(np.asarray(gains, dtype=np.float64)))
        return self.actors(obs)

    def decide(self, gains: np.ndarray) -> np.ndarray:
        """Decisions ``(T, N)`` (or ``(N,)`` for one ``(N, M)`` sample); gains checked as
        :func:`dirs.system.evaluate` checks them (shape, finite, > 0)."""
        n, m = self.stats.mean.shape
        g, single = check_policy_input(gains, n, m)
        a = vote(self.probs(g))
        return a[0] if single else a

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        torch.save(self.actors.state_dict(), path / MODEL_FILE)
        meta = {**self.meta, "algo": "maddpg", "obs_stats": self.stats.to_dict(), "model_file": MODEL_FILE}
        (path / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> MADDPGPolicy:
        from dirs.io import InputFileError, read_json

        path = Path(path)
        meta_path = path / META_FILE
        meta = read_json(
            meta_path,
            ("algo", "obs_stats", "model_file", "num_iotds", "num_servers", "actor_hidden"),
            what="baseline meta",
        )
        if meta.get("algo") != "maddpg":
            raise InputFileError(meta_path, f"algo: {meta.get('algo')!r} is not maddpg")
        try:
            n, m = int(meta["num_iotds"]), int(meta["num_servers"])
            hidden = [int(h) for h in meta["actor_hidden"]]
            stats = ObsStats.from_dict(meta["obs_stats"], (n, m), source="obs_stats")
        except (TypeError, ValueError) as exc:
            raise InputFileError(
                meta_path,
                str(exc)
                if isinstance(exc, ParameterError)
                else f"num_iotds, num_servers, actor_hidden: expected integers ({exc})",
            ) from None
        if n < 1 or m < 1 or not hidden or min(hidden) < 1:
            raise InputFileError(
                meta_path, f"num_iotds, num_servers, actor_hidden: must be >= 1, got {n}, {m}, {hidden}"
            )
        model_path = path / str(meta["model_file"])
        if not model_path.is_file():
            raise FileNotFoundError(f"{model_path}: no such model file (meta.json model_file={meta['model_file']!r})")
        actors = StackedActors(m, n, hidden)
        try:
            state = torch.load(model_path, map_location="cpu", weights_only=True)
            actors.load_state_dict(state)
        except Exception as exc:  # noqa: BLE001 — torch's unpickler raises many types on a damaged file
            raise InputFileError(
                model_path,
                f"corrupt or mismatched MADDPG actors for N={n}, M={m}, hidden={hidden} "
                f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})",
            ) from None
        actors.eval()
        return cls(actors=actors, stats=stats, meta=meta)


def train_maddpg(
    scenario: Scenario,
    train_gains: np.ndarray,
    baseline_cfg,
    *,
    interactions: int,
    seed: int,
    log: MetricsLogger | None = None,
    log_every: int = 100,
) -> MADDPGPolicy:
    """Train MADDPG for ``interactions`` one-step episodes; ``meta["train_s"]`` = wall time."""
    from tqdm.auto import tqdm

    s = baseline_cfg.maddpg
    if interactions < 1:
        raise ParameterError(f"baseline.interactions: must be >= 1, got {interactions}")
    n, m = scenario.num_iotds, scenario.num_servers
    hidden = list(s.actor_hidden) if s.actor_hidden else default_actor_hidden(n)
    env = MECOffloadEnv(
        scenario,
        train_gains,
        action_type="discrete",
        reference=str(baseline_cfg.reference),
        reward_scale=float(baseline_cfg.reward_scale),
    )
    t0 = time.perf_counter()
    torch.manual_seed(int(seed))
    rng = np.random.default_rng([int(seed), 0x3ADD])
    actors = StackedActors(m, n, hidden)
    critic = CentralCritic(n, m, list(s.critic_hidden))
    opt_a = torch.optim.Adam(actors.parameters(), lr=float(s.actor_lr))
    opt_c = torch.optim.Adam(critic.parameters(), lr=float(s.critic_lr))
    cap, batch = int(s.buffer_size), int(s.batch_size)
    buf_obs = np.zeros((cap, n, m), dtype=np.float32)
    buf_act = np.zeros((cap, n, m), dtype=np.float32)
    buf_rew = np.zeros(cap, dtype=np.float32)
    size = 0
    obs, _ = env.reset(seed=int(seed))
    rewards, nrrs, closs, aloss = [], [], [], []
    bar = tqdm(total=int(interactions), desc="interactions", disable=not sys.stderr.isatty())
    for step in range(1, int(interactions) + 1):
        with torch.no_grad():
            p = actors(torch.from_numpy(obs[None]))[0].numpy()
        act = np.clip(p + rng.normal(0.0, float(s.noise_sigma), size=p.shape), 0.0, 1.0).astype(np.float32)
        _, reward, _, _, info = env.step(vote(act))
        k = (step - 1) % cap
        buf_obs[k], buf_act[k], buf_rew[k] = obs, act, reward
        size = min(size + 1, cap)
        rewards.append(reward)
        nrrs.append(info["nrr_reference"])
        obs, _ = env.reset()
        if step > int(s.learning_starts) and step % int(s.train_freq) == 0:
            for _ in range(int(s.gradient_steps)):
                idx = rng.integers(0, size, size=min(batch, size))
                o = torch.from_numpy(buf_obs[idx])
                a = torch.from_numpy(buf_act[idx])
                r = torch.from_numpy(buf_rew[idx])
                loss_c = torch.mean((critic(o, a) - r) ** 2)
                opt_c.zero_grad()
                loss_c.backward()
                opt_c.step()
                loss_a = -critic.q_per_agent(o, a, actors(o)).mean(1).sum()
                opt_a.zero_grad()
                loss_a.backward()
                opt_a.step()
                closs.append(loss_c.item())
                aloss.append(loss_a.item() / m)
        bar.update(1)
        if log is not None and step % max(1, int(log_every)) == 0:
            w = max(1, int(log_every))
            metrics = {"reward": float(np.mean(rewards[-w:])), "nrr_reference": float(np.mean(nrrs[-w:]))}
            if closs:
                metrics.update(critic_loss=float(np.mean(closs[-w:])), actor_q=-float(np.mean(aloss[-w:])))
            log(step, metrics)
    bar.close()
    actors.eval()
    train_s = time.perf_counter() - t0
    meta = {
        "interactions": int(interactions),
        "seed": int(seed),
        "train_s": train_s,
        "num_iotds": n,
        "num_servers": m,
        "scenario": scenario.name,
        "actor_hidden": hidden,
        "critic_hidden": list(s.critic_hidden),
        "reference": env.reference,
        "reward_scale": env.reward_scale,
    }
    return MADDPGPolicy(actors=actors, stats=env.obs_stats, meta=meta)


# ------------------------------------------------------------------ registry (dirs.methods)
def _train(sc, gains, cfg, **kwargs):
    return train_maddpg(sc, gains, cfg.baseline, **kwargs)


def _register() -> None:
    from dirs.methods import register

    register("maddpg", label="MADDPG", kind="drl", reads=("baseline.maddpg",), load=MADDPGPolicy.load)(_train)


_register()
