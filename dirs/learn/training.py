"""Training of the DIRS agents: imitation pre-training (Alg. 2) and online ensemble training (Alg. 1, 3).

Losses per agent j (paper §IV-C, D), all binary cross-entropies of agent j's N outputs against the
labels 1[a*_i = j]:

* L_D: on demonstration entries; L_A: on agent entries (refined decisions).
* L1 = L_D + λ1 ‖θ_j‖²  (imitation, Alg. 2; ``loss="LD"`` drops the λ1 term: Table II).
* L2 = L1 + λ2 L_A      (online, Alg. 3).

In a mixed minibatch of B entries each entry contributes its BCE with weight 1 (demonstration) or
λ2 (agent), divided by B.  The M agents share one Adam optimiser over the stacked weights; Adam is
element-wise, so this is exactly M independent optimisers.

:class:`Trainer` holds everything a run needs (network, optimiser, replay buffer, NumPy RNG, slot
counter, logged history); :meth:`Trainer.state_dict` / :meth:`Trainer.load_state_dict` make a
checkpoint from which a resumed run is bit-identical to an uninterrupted one on CPU.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from dirs.config import DirsConfig, LevySettings, VariantConfig
from dirs.learn.agents import InputScaler, Policy, StackedAgents, build_net, targets
from dirs.learn.replay import PrioritisedReplay
from dirs.learn.vote import vote_stacked
from dirs.solvers.costs import CostTables
from dirs.system.params import ParameterError, SystemParams

log = logging.getLogger(__name__)

EXPLORATIONS = ("levy", "epsilon_greedy")
LOSSES = ("L1", "LD")


@dataclass
class TrainSettings:
    """Hyper-parameters of Alg. 1–3 as one run uses them.

    Built from the configuration schema by :meth:`from_config`: every field of
    :class:`dirs.config.DirsConfig` with the same name (their meaning is documented there), the
    variant's ``exploration`` / ``refine_repair``, and the online Lévy refinement's P, G_max, β, th
    (``search.online``).  Defaults are the schema's (the paper's values).
    """

    hidden: list[int] | None = None
    lr: float = DirsConfig.lr
    capacity: int = DirsConfig.capacity
    batch: int = DirsConfig.batch
    pretrain_steps: int = DirsConfig.pretrain_steps
    lambda1: float = DirsConfig.lambda1
    lambda2: float = DirsConfig.lambda2
    eps_agent: float = DirsConfig.eps_agent
    eps_demo: float = DirsConfig.eps_demo
    alpha: float = DirsConfig.alpha
    refine_every: int = DirsConfig.refine_every
    steps_per_refine: int = DirsConfig.steps_per_refine
    exploration: str = VariantConfig.exploration
    population: int = LevySettings.population
    iterations: int = LevySettings.iterations
    beta: float = LevySettings.beta
    th: float = LevySettings.th
    epsilon: float = DirsConfig.epsilon
    refine_repair: bool = VariantConfig.refine_repair
    validate_every: int = DirsConfig.validate_every
    pretrain_validate_every: int = DirsConfig.pretrain_validate_every
    reward_window: int = DirsConfig.reward_window

    def __post_init__(self) -> None:
        if self.exploration not in EXPLORATIONS:
            raise ParameterError(f"dirs.exploration: unknown value {self.exploration!r}; allowed: {list(EXPLORATIONS)}")

    @classmethod
    def from_config(cls, dirs_cfg, variant, online) -> TrainSettings:
        """Settings of one run: ``dirs_cfg`` (``cfg.dirs``), ``variant`` (``cfg.dirs.variants[name]``),
        ``online`` (``cfg.search.online``, the refinement's Lévy settings)."""
        from dataclasses import fields

        from dirs.solvers.levy import levy_kwargs

        names = {f.name for f in fields(cls)}
        values: dict[str, Any] = {n: dirs_cfg[n] for n in names if n in dirs_cfg}
        values["hidden"] = None if dirs_cfg.hidden is None else [int(h) for h in dirs_cfg.hidden]
        values.update(exploration=str(variant.exploration), refine_repair=bool(variant.refine_repair))
        lev = levy_kwargs(online)
        values.update({k: lev[k] for k in ("population", "iterations", "beta", "th")})
        return cls(**values)


def set_determinism(threads: int = 1) -> None:
    """Deterministic CPU kernels and a fixed thread count (bit-identical reruns for a seed)."""
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.set_num_threads(int(threads))


def bce_per_entry(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """(M, B) mean over IoTDs of the binary cross-entropy of each agent on each entry."""
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, labels, reduction="none").mean(-1)


def accuracy(policy_or_net, scaler: InputScaler | None, gains: np.ndarray, decisions: np.ndarray) -> float:
    """Share of (sample, IoTD) voted decisions equal to the demonstrator's ``decisions``."""
    if isinstance(policy_or_net, Policy):
        a = policy_or_net.decide(gains)
    else:
        with torch.inference_mode():
            a = vote_stacked(policy_or_net(scaler(gains)), threshold=0.0)  # logit space, as Policy
    return float((a == np.asarray(decisions)).mean())


class Trainer:
    """Agents + optimiser + prioritised replay + RNG for one training run."""

    def __init__(
        self,
        settings: TrainSettings,
        scaler: InputScaler,
        params: SystemParams,
        num_iotds: int,
        num_servers: int,
        seed: int,
        meta: dict[str, Any] | None = None,
    ):
        self.s = settings
        self.scaler = scaler
        self.params = params
        self.net: StackedAgents = build_net(num_iotds, num_servers, settings.hidden, seed)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=settings.lr)
        self.buffer = PrioritisedReplay(
            settings.capacity,
            num_iotds,
            num_servers,
            eps_agent=settings.eps_agent,
            eps_demo=settings.eps_demo,
            alpha=settings.alpha,
        )
        self.rng = np.random.default_rng([int(seed), 0xD125])
        self.slot = 0  # next online slot
        self.step = 0  # online training steps done (refinements)
        self.pretrain_done = 0
        self.history: list[dict[str, float]] = []
        self.recent_rewards: list[float] = []  # rewards of the last ``reward_window`` slots
        self.pretrain_history: list[dict[str, float]] = []
        self.meta = dict(meta or {})
        # model selection: the weights with the best validation NRR so far, and where they were seen
        self.best: dict[str, Any] = {"val_nrr": -np.inf, "net": None, "at": None}

    # ------------------------------------------------------------ validation
    def validate(self, validation: tuple[np.ndarray, CostTables, np.ndarray], at: str) -> float:
        """Mean NRR vs the exact optimum of the voted decisions on the validation samples; keeps a
        snapshot of the weights when it is the best so far (strictly: ties keep the earlier one)."""
        gains, tables, opt = validation
        nrr = float(np.mean(opt / tables.objective(self.decide(gains))))
        if nrr > self.best["val_nrr"]:
            self.best = {
                "val_nrr": nrr,
                "at": at,
                "net": {k: v.detach().clone() for k, v in self.net.state_dict().items()},
            }
        return nrr

    # ------------------------------------------------------------ one update
    def update(self, loss: str = "L1") -> tuple[np.ndarray, float]:
        """One gradient step on a prioritised minibatch; returns per-agent loss (M,) and total."""
        if loss not in LOSSES:
            raise ParameterError(f"loss: unknown value {loss!r}; allowed: {list(LOSSES)}")
        idx = self.buffer.sample(self.s.batch, self.rng)
        b = self.buffer
        x = self.scaler(b.gains[idx])
        y = targets(b.decisions[idx], self.net.num_servers)
        w = torch.as_tensor(np.where(b.is_demo[idx], 1.0, self.s.lambda2), dtype=torch.float32)
        self.net.train()
        logits = self.net(x)
        per = bce_per_entry(logits, y)  # (M, B)
        data_loss = (per * w).mean(-1)  # (M,)
        agent_loss = data_loss + (self.s.lambda1 * self.net.l2() if loss == "L1" else 0.0)
        total = agent_loss.sum()
        if not torch.isfinite(total):
            bad = [j + 1 for j, v in enumerate(agent_loss.detach().tolist()) if not np.isfinite(v)]
            raise FloatingPointError(
                f"training diverged: non-finite {loss} loss of agent(s) {bad} at slot {self.slot}, update "
                f"{self.step + 1} (check dirs.lr and the inputs); no model is written"
            )
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        self.opt.step()
        self.buffer.update(idx, per.detach().mean(0).numpy())
        return agent_loss.detach().numpy().astype(np.float64), float(total.detach())

    def policy(self, meta: dict[str, Any] | None = None, select: str = "last") -> Policy:
        """The policy of the current weights (``last``) or of the best validated snapshot (``best``;
        the current weights if nothing was validated)."""
        if select not in ("best", "last"):
            raise ParameterError(f"select: unknown value {select!r}; allowed: ['best', 'last']")
        net = build_net(self.net.num_iotds, self.net.num_servers, self.net.sizes[1:-1], 0)
        use_best = select == "best" and self.best["net"] is not None
        net.load_state_dict(self.best["net"] if use_best else self.net.state_dict())
        info = {
            "selected": select if use_best else "last",
            "selected_at": self.best["at"] if use_best else f"online slot {self.slot}",
        }
        if use_best:
            info["val_nrr_selected"] = float(self.best["val_nrr"])
        return Policy(net, self.scaler, self.params, {**self.meta, **info, **(meta or {})})

    def decide(self, gains: np.ndarray) -> np.ndarray:
        self.net.eval()
        with torch.inference_mode():
            return vote_stacked(self.net(self.scaler(gains)), threshold=0.0)  # logit space, as Policy

    # ------------------------------------------------------------ Alg. 2
    def pretrain(
        self,
        demo_gains: np.ndarray,
        demo_decisions: np.ndarray,
        steps: int | None = None,
        loss: str = "L1",
        progress: bool = False,
        on_step: Callable[[int, np.ndarray], None] | None = None,
        validation: tuple[np.ndarray, CostTables, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Imitation pre-training: store the demonstrations, then ``steps`` updates (Alg. 2).

        With ``validation`` = (gains, cost tables, optimal objectives), the validation NRR is measured
        every ``pretrain_validate_every`` steps (column ``val_nrr`` of the history; :meth:`validate`).
        Returns the per-agent loss of every step, ``(steps, M)``.
        """
        from tqdm.auto import tqdm

        steps = self.s.pretrain_steps if steps is None else int(steps)
        if len(demo_gains) > self.buffer.capacity:
            raise ParameterError(
                f"dirs.num_demos: {len(demo_gains)} demonstrations exceed the replay "
                f"capacity dirs.capacity={self.buffer.capacity}"
            )
        self.buffer.add(demo_gains, demo_decisions, demo=True)
        out = np.empty((steps, self.net.num_servers))
        for k in tqdm(range(steps), desc="pre-training", disable=not progress, mininterval=1.0):
            out[k], _ = self.update(loss)
            row = {"iteration": k + 1, **{f"loss_agent{j + 1}": float(v) for j, v in enumerate(out[k])}}
            every = self.s.pretrain_validate_every
            if validation is not None and every and ((k + 1) % every == 0 or k + 1 == steps):
                row["val_nrr"] = self.validate(validation, f"pre-training step {self.pretrain_done + k + 1}")
            self.pretrain_history.append(row)
            if on_step is not None:
                on_step(k, out[k])
        self.pretrain_done += steps
        return out

    # ------------------------------------------------------------ Alg. 1 + 3
    def explore(self, gains: np.ndarray, start: np.ndarray, tables: CostTables) -> np.ndarray:
        """Refined decision for one slot: Lévy flight from the voted decision (large β), or the best
        of P·G_max ε-greedy perturbations of it; never worse than the voted decision."""
        if self.s.exploration == "levy":
            from dirs.solvers.levy import levy_flight

            res = levy_flight(
                gains,
                self.params,
                start,
                population=self.s.population,
                iterations=self.s.iterations,
                beta=self.s.beta,
                th=self.s.th,
                variant="proposed",
                rng=self.rng,
                tables=tables,
            )
            cand = np.asarray(res.decisions).reshape(1, -1)
        else:
            k = self.s.population * self.s.iterations
            n, m = start.shape[-1], tables.tx.shape[-1]
            flip = self.rng.random((k, n)) < self.s.epsilon
            rand = self.rng.integers(0, m + 1, size=(k, n))
            cand = np.where(flip, rand, start.reshape(1, -1))
        cand = np.concatenate([start.reshape(1, -1), cand], 0)
        obj = tables.objective(cand[:, None, :])[:, 0]
        best = cand[int(np.argmin(obj))]
        if self.s.refine_repair:
            from dirs.solvers.local_search import improve_tables

            best = improve_tables(best[None], tables)[0]
        return best

    def train_online(
        self,
        gains: np.ndarray,
        tables: CostTables,
        *,
        validation: tuple[np.ndarray, CostTables, np.ndarray] | None = None,
        on_step: Callable[[dict[str, float]], None] | None = None,
        checkpoint: Callable[[Trainer], None] | None = None,
        checkpoint_every: int = 0,
        stop_after: int | None = None,
        progress: bool = False,
    ) -> list[dict[str, float]]:
        """Online ensemble training over the slots ``gains`` (one pass, T_DRL = len(gains)).

        Each slot the agents decide and vote; every ``refine_every`` (ϕ) slots the voted decision of
        the slot is refined (:meth:`explore`), stored as agent data, and each agent takes
        ``steps_per_refine`` (T_M) prioritised updates on L2.  Slots between refinements are decided in
        one batch (the weights do not change between them).  ``checkpoint(self)`` is called every
        ``checkpoint_every`` slots; ``stop_after`` stops after that many slots (tests of resuming).
        """
        from tqdm.auto import tqdm

        total = len(gains)
        phi = self.s.refine_every
        bar = tqdm(total=total, initial=self.slot, desc="online training", disable=not progress, mininterval=1.0)
        next_val = (self.slot // self.s.validate_every + 1) * self.s.validate_every
        while self.slot < total:
            lo, hi = self.slot, min(self.slot + phi, total)
            sub = tables.take(slice(lo, hi))
            a = self.decide(gains[lo:hi])
            reward = 1.0 / sub.objective(a)
            if not np.all(np.isfinite(reward)):
                raise FloatingPointError(f"non-finite objective at slots {lo}..{hi - 1}; no model is written")
            self.recent_rewards = (self.recent_rewards + reward.tolist())[-self.s.reward_window :]
            row: dict[str, float] = {
                "slot": float(hi),
                "reward": float(reward.mean()),
                "avg_reward": float(np.mean(self.recent_rewards)),
            }
            if hi - lo == phi:  # a full period: refine the last slot, store, train
                t = hi - 1
                one = tables.take(slice(t, t + 1))
                refined = self.explore(gains[t : t + 1], a[-1:], one)
                self.buffer.add(gains[t : t + 1], refined[None], demo=False)
                losses = np.mean([self.update("L1")[0] for _ in range(self.s.steps_per_refine)], axis=0)
                self.step += 1
                row["step"] = float(self.step)
                row["refine_gain"] = float(one.objective(a[-1:])[0] / one.objective(refined[None])[0])
                row.update({f"loss_agent{j + 1}": float(v) for j, v in enumerate(losses)})
            self.slot = hi
            if validation is not None and (self.slot >= next_val or self.slot == total):
                row["val_nrr"] = self.validate(validation, f"online slot {self.slot}")
                next_val = (self.slot // self.s.validate_every + 1) * self.s.validate_every
            self.history.append(row)
            if on_step is not None:
                on_step(row)
            bar.update(hi - lo)
            if (
                checkpoint is not None
                and checkpoint_every
                and (self.slot % checkpoint_every < phi)
                and self.slot < total
            ):
                checkpoint(self)
            if stop_after is not None and self.slot >= stop_after:
                break
        bar.close()
        return self.history

    # ------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {
            "net": {k: v.detach().clone() for k, v in self.net.state_dict().items()},
            "opt": copy.deepcopy(self.opt.state_dict()),  # a snapshot, not live references
            "buffer": self.buffer.state_dict(),
            "rng": self.rng.bit_generator.state,
            "slot": self.slot,
            "step": self.step,
            "pretrain_done": self.pretrain_done,
            "history": list(self.history),
            "recent_rewards": list(self.recent_rewards),
            "pretrain_history": list(self.pretrain_history),
            "meta": dict(self.meta),
            "best": {
                **self.best,
                "net": None if self.best["net"] is None else {k: v.clone() for k, v in self.best["net"].items()},
            },
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state["net"])
        self.opt.load_state_dict(state["opt"])
        self.buffer.load_state_dict(state["buffer"])
        self.rng.bit_generator.state = state["rng"]
        self.slot, self.step, self.pretrain_done = int(state["slot"]), int(state["step"]), int(state["pretrain_done"])
        self.history = list(state["history"])
        self.recent_rewards = list(state["recent_rewards"])
        self.pretrain_history = list(state["pretrain_history"])
        self.meta.update(state.get("meta", {}))
        self.best = dict(state.get("best") or {"val_nrr": -np.inf, "net": None, "at": None})
