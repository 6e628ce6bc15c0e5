"""AC and DDPG baselines (paper §V-D) on stable-baselines3 and :class:`~dirs.baselines.env.MECOffloadEnv`.

* **AC** = SB3 ``A2C`` on MultiDiscrete actions (one categorical choice in {0..M} per IoTD).
* **DDPG** = SB3 ``DDPG`` on the continuous relaxation: scores ``(N, M + 1)`` in [-1, 1], decoded
  per IoTD by argmax; Gaussian exploration noise on the scores.

Both see exactly ``interactions`` one-step episodes (default T_DRL = the number of training channel
samples, the same budget as DIRS's online training), are seeded, and are saved as the SB3 ``.zip``
plus ``meta.json`` (algorithm, observation statistics, sizes, training time) from which
:meth:`SB3Policy.load` rebuilds the same policy.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dirs.baselines.env import MECOffloadEnv, ObsStats, check_policy_input, decode_scores
from dirs.system import Scenario
from dirs.system.params import ParameterError

SB3_ALGORITHMS = {"ac": "discrete", "ddpg": "box"}
MODEL_FILE = "model.zip"
META_FILE = "meta.json"

#: ``log(step, metrics)`` receives running training metrics (e.g. ``StageRun.log_metrics``).
MetricsLogger = Callable[[int, dict[str, float]], None]


@dataclass
class SB3Policy:
    """A trained AC / DDPG policy: ``decide(gains (T, N, M)) -> (T, N)`` (deterministic)."""

    algo: str
    model: Any
    stats: ObsStats
    meta: dict[str, Any] = field(default_factory=dict)

    def decide(self, gains: np.ndarray) -> np.ndarray:
        """Decisions ``(T, N)`` (or ``(N,)`` for one ``(N, M)`` sample); gains checked as
        :func:`dirs.system.evaluate` checks them (shape, finite, > 0)."""
        n, m = self.stats.mean.shape
        g, single = check_policy_input(gains, n, m)
        obs = self.stats.transform(g)
        action, _ = self.model.predict(obs, deterministic=True)
        a = decode_scores(action) if SB3_ALGORITHMS[self.algo] == "box" else np.asarray(action, dtype=np.int64)
        return a[0] if single else a

    def save(self, path: str | Path) -> None:
        """``model.zip`` (SB3) and ``meta.json`` into directory ``path``."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.model.save(path / MODEL_FILE)
        meta = {**self.meta, "algo": self.algo, "obs_stats": self.stats.to_dict(), "model_file": MODEL_FILE}
        (path / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> SB3Policy:
        from stable_baselines3 import A2C, DDPG

        from dirs.io import InputFileError, read_json

        path = Path(path)
        meta_path = path / META_FILE
        meta = read_json(
            meta_path, ("algo", "obs_stats", "model_file", "num_iotds", "num_servers"), what="baseline meta"
        )
        algo = meta.get("algo")
        if algo not in SB3_ALGORITHMS:
            raise InputFileError(
                meta_path, f"algo: {algo!r} is not an SB3 baseline; allowed: {', '.join(SB3_ALGORITHMS)}"
            )
        try:
            n, m = int(meta["num_iotds"]), int(meta["num_servers"])
            stats = ObsStats.from_dict(meta["obs_stats"], (n, m), source="obs_stats")
        except (TypeError, ValueError) as exc:
            raise InputFileError(
                meta_path,
                str(exc) if isinstance(exc, ParameterError) else f"num_iotds, num_servers: expected integers ({exc})",
            ) from None
        model_path = path / str(meta["model_file"])
        if not model_path.is_file():
            raise FileNotFoundError(f"{model_path}: no such model file (meta.json model_file={meta['model_file']!r})")
        _no_distribution_validation()
        cls_ = A2C if algo == "ac" else DDPG
        try:
            model = cls_.load(model_path, device="cpu")
        except Exception as exc:  # SB3 raises zipfile/pickle/torch/KeyError errors for a bad archive
            raise InputFileError(
                model_path,
                f"corrupt or unreadable {algo} model ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''}); retrain it",
            ) from None
        obs_shape = tuple(getattr(model.observation_space, "shape", ()) or ())
        act_shape = tuple(getattr(model.action_space, "shape", ()) or ())
        want_act = (n,) if algo == "ac" else (n, m + 1)
        if obs_shape != (n, m) or act_shape != want_act:
            raise InputFileError(
                model_path,
                f"spaces: observation {obs_shape} / action {act_shape}, but meta.json says "
                f"N={n}, M={m} (expected {(n, m)} / {want_act})",
            )
        return cls(algo=algo, model=model, stats=stats, meta=meta)


def _callback(total: int, log: MetricsLogger | None, every: int):
    from stable_baselines3.common.callbacks import BaseCallback
    from tqdm.auto import tqdm

    class Progress(BaseCallback):
        """tqdm progress and running reward / NRR-vs-reference metrics every ``every`` interactions."""

        def _on_training_start(self) -> None:
            self.bar = tqdm(total=total, desc="interactions", disable=not sys.stderr.isatty())
            self.rewards: list[float] = []
            self.nrr: list[float] = []

        def _on_step(self) -> bool:
            self.rewards.extend(float(r) for r in self.locals["rewards"])
            self.nrr.extend(float(i["nrr_reference"]) for i in self.locals["infos"])
            self.bar.update(len(self.locals["rewards"]))
            if log is not None and self.num_timesteps % every == 0:
                log(
                    self.num_timesteps,
                    {
                        "reward": float(np.mean(self.rewards[-every:])),
                        "nrr_reference": float(np.mean(self.nrr[-every:])),
                    },
                )
            return True

        def _on_training_end(self) -> None:
            self.bar.close()

    return Progress()


def _no_distribution_validation() -> None:
    """SB3's MultiDiscrete policy builds N ``torch.distributions.Categorical`` per forward pass;
    their argument checks cost more than the network (≈ 2/3 of AC's time on xlarge).  The logits
    come from the policy network, so the checks are switched off (no effect on results)."""
    import torch

    torch.distributions.Distribution.set_default_validate_args(False)


def build_model(algo: str, env: MECOffloadEnv, settings, seed: int):
    """An untrained SB3 model for ``algo`` (``settings`` = ``cfg.baseline.ac`` or ``.ddpg``)."""
    from stable_baselines3 import A2C, DDPG
    from stable_baselines3.common.noise import NormalActionNoise

    _no_distribution_validation()
    if algo == "ac":
        return A2C(
            "MlpPolicy",
            env,
            learning_rate=float(settings.learning_rate),
            n_steps=int(settings.n_steps),
            gamma=0.0,
            gae_lambda=1.0,
            ent_coef=float(settings.ent_coef),
            vf_coef=float(settings.vf_coef),
            policy_kwargs={"net_arch": list(settings.net_arch)},
            seed=int(seed),
            device="cpu",
            verbose=0,
        )
    if algo == "ddpg":
        shape = env.action_space.shape
        noise = NormalActionNoise(np.zeros(shape), float(settings.noise_sigma) * np.ones(shape))
        return DDPG(
            "MlpPolicy",
            env,
            learning_rate=float(settings.learning_rate),
            buffer_size=int(settings.buffer_size),
            batch_size=int(settings.batch_size),
            learning_starts=int(settings.learning_starts),
            train_freq=int(settings.train_freq),
            gradient_steps=int(settings.gradient_steps),
            gamma=0.0,
            action_noise=noise,
            policy_kwargs={"net_arch": list(settings.net_arch)},
            seed=int(seed),
            device="cpu",
            verbose=0,
        )
    raise ParameterError(f"algo: {algo!r} is not an SB3 baseline; allowed: {', '.join(SB3_ALGORITHMS)}")


def train_sb3(
    algo: str,
    scenario: Scenario,
    train_gains: np.ndarray,
    baseline_cfg,
    *,
    interactions: int,
    seed: int,
    log: MetricsLogger | None = None,
    log_every: int = 100,
) -> SB3Policy:
    """Train AC or DDPG for ``interactions`` one-step episodes on ``train_gains``; returns the policy
    with ``meta["train_s"]`` = wall time of ``learn``."""
    if algo not in SB3_ALGORITHMS:
        raise ParameterError(f"algo: {algo!r} is not an SB3 baseline; allowed: {', '.join(SB3_ALGORITHMS)}")
    if interactions < 1:
        raise ParameterError(f"baseline.interactions: must be >= 1, got {interactions}")

    def make_env():
        return MECOffloadEnv(
            scenario,
            train_gains,
            action_type=SB3_ALGORITHMS[algo],
            reference=str(baseline_cfg.reference),
            reward_scale=float(baseline_cfg.reward_scale),
        )

    env = make_env()
    n_envs = int(baseline_cfg[algo].get("n_envs", 1))
    t0 = time.perf_counter()
    if n_envs > 1:
        from stable_baselines3.common.vec_env import DummyVecEnv

        model = build_model(algo, DummyVecEnv([make_env for _ in range(n_envs)]), baseline_cfg[algo], seed)
    else:
        model = build_model(algo, env, baseline_cfg[algo], seed)
    model.learn(total_timesteps=int(interactions), callback=_callback(int(interactions), log, max(1, int(log_every))))
    train_s = time.perf_counter() - t0
    meta = {
        "interactions": int(interactions),
        "seed": int(seed),
        "train_s": train_s,
        "num_iotds": scenario.num_iotds,
        "num_servers": scenario.num_servers,
        "scenario": scenario.name,
        "action_type": env.action_type,
        "reference": env.reference,
        "reward_scale": env.reward_scale,
    }
    return SB3Policy(algo=algo, model=model, stats=env.obs_stats, meta=meta)


# ------------------------------------------------------------------ registry (dirs.methods)
def _register() -> None:
    from dirs.methods import register

    for algo, label in (("ac", "AC (A2C)"), ("ddpg", "DDPG")):

        def train(sc, gains, cfg, _algo=algo, **kwargs):
            return train_sb3(_algo, sc, gains, cfg.baseline, **kwargs)

        train.__qualname__ = f"train_{algo}"
        register(algo, label=label, kind="drl", reads=(f"baseline.{algo}",), load=SB3Policy.load)(train)


_register()
