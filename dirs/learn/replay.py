"""Prioritised replay buffer mixing demonstration and agent data (paper eq. 15, Alg. 1–3).

Every entry is a pair (h, a*) — channel gains and a target decision — plus a flag saying whether it
is a demonstration (imitation data, Alg. 2) or agent data (a refined decision, Alg. 3).  Entry k is
drawn with probability (eq. 15)

    P(k) = w_k^α / Σ_l w_l^α,   w_k = |δ_k| + ε_k,   ε_k = ε_D (demonstration) or ε_A (agent),

where δ_k is the entry's last training loss (the mean over agents of its binary cross-entropy, the
analogue of the TD error in prioritised replay); new entries get the current maximum priority so
each is seen at least once soon.  α = 1 is eq. 15 as printed; α is kept as a setting.

Capacity and overwrite rule: the buffer holds ``capacity`` entries (1024 in the paper).  When it is
full, a new agent entry overwrites the **oldest agent entry**; demonstrations are only overwritten
(oldest first) when no agent entry is left, so imitation data keeps anchoring the training as in
DQfD-style learning from demonstrations — our reading of "the newest data replaces the oldest".
Sampling is with replacement; the buffer is plain NumPy state, so it checkpoints exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class PrioritisedReplay:
    def __init__(
        self,
        capacity: int,
        num_iotds: int,
        num_servers: int,
        *,
        eps_agent: float = 0.08,
        eps_demo: float = 0.02,
        alpha: float = 1.0,
    ):
        if capacity < 1:
            raise ValueError(f"capacity: must be >= 1, got {capacity}")
        if eps_agent <= 0 or eps_demo <= 0:
            raise ValueError(f"eps_agent, eps_demo: must be > 0, got {eps_agent}, {eps_demo}")
        self.capacity = int(capacity)
        self.eps_agent, self.eps_demo, self.alpha = float(eps_agent), float(eps_demo), float(alpha)
        self.gains = np.zeros((capacity, num_iotds, num_servers), dtype=np.float64)
        self.decisions = np.zeros((capacity, num_iotds), dtype=np.int64)
        self.is_demo = np.zeros(capacity, dtype=bool)
        self.delta = np.zeros(capacity, dtype=np.float64)
        self.stamp = np.zeros(capacity, dtype=np.int64)  # insertion counter (age)
        self.size = 0
        self.counter = 0

    def __len__(self) -> int:
        return self.size

    def _slot(self, demo: bool) -> int:
        if self.size < self.capacity:
            self.size += 1
            return self.size - 1
        # oldest agent entry first; the oldest demonstration only when no agent entry is left
        for mask in (~self.is_demo, self.is_demo):
            idx = np.flatnonzero(mask[: self.size])
            if idx.size:
                return int(idx[np.argmin(self.stamp[idx])])
        raise AssertionError("unreachable")

    def add(self, gains: np.ndarray, decisions: np.ndarray, demo: bool) -> None:
        """Store samples ``(K, N, M)`` with target decisions ``(K, N)``."""
        g = np.asarray(gains)
        a = np.asarray(decisions)
        if g.ndim == 2:
            g, a = g[None], a[None]
        top = self.delta[: self.size].max() if self.size else 1.0
        for k in range(len(g)):
            s = self._slot(demo)
            self.gains[s], self.decisions[s], self.is_demo[s] = g[k], a[k], demo
            self.delta[s] = top
            self.stamp[s] = self.counter
            self.counter += 1

    def priorities(self) -> np.ndarray:
        """w_k = |δ_k| + ε_k for the stored entries."""
        eps = np.where(self.is_demo[: self.size], self.eps_demo, self.eps_agent)
        return np.abs(self.delta[: self.size]) + eps

    def probabilities(self) -> np.ndarray:
        """Sampling probabilities P(k) of eq. 15."""
        w = self.priorities() ** self.alpha
        return w / w.sum()

    def sample(self, batch: int, rng: np.random.Generator) -> np.ndarray:
        """Indices of a prioritised minibatch (with replacement)."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        return rng.choice(self.size, size=int(batch), replace=True, p=self.probabilities())

    def update(self, idx: np.ndarray, delta: np.ndarray) -> None:
        """New priorities δ for the entries ``idx`` (their latest per-sample losses)."""
        self.delta[np.asarray(idx)] = np.abs(np.asarray(delta, dtype=np.float64))

    # ------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k).copy() for k in ("gains", "decisions", "is_demo", "delta", "stamp")} | {
            "size": self.size,
            "counter": self.counter,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for k in ("gains", "decisions", "is_demo", "delta", "stamp"):
            getattr(self, k)[...] = np.asarray(state[k])
        self.size, self.counter = int(state["size"]), int(state["counter"])
