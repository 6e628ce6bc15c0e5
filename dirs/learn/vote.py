"""The max vote of the ensemble (paper §IV-B): each server's agent outputs, for every IoTD, the
probability "offload to me"; IoTD i goes to argmax_j π_j(h_j)_i if that maximum is ≥ 0.5, else it
computes locally (0).  Shared by DIRS and MADDPG."""

from __future__ import annotations

import numpy as np


def vote(probs, threshold: float = 0.5) -> np.ndarray:
    """Decisions ``(..., N)`` in 0..M from per-server probabilities ``(..., N, M)``.

    Works on NumPy arrays and PyTorch tensors (returned as NumPy int64).
    """
    if hasattr(probs, "detach"):  # torch tensor
        best, arg = probs.max(dim=-1)
        return np.where(best.detach().cpu().numpy() >= threshold, arg.cpu().numpy() + 1, 0).astype(np.int64)
    p = np.asarray(probs)
    arg = p.argmax(-1)
    best = np.take_along_axis(p, arg[..., None], -1)[..., 0]
    return np.where(best >= threshold, arg + 1, 0).astype(np.int64)


def vote_stacked(scores, threshold: float = 0.5) -> np.ndarray:
    """The same vote from server-first scores ``(M, ..., N)`` — the stacked agents' output layout.

    Reducing over the leading axis reads memory contiguously (no permuted copy); with logits pass
    ``threshold=0`` (σ(z) ≥ 0.5 ⇔ z ≥ 0).  Returns NumPy int64 ``(..., N)``.
    """
    best, arg = scores.max(dim=0)
    return np.where(best.detach().cpu().numpy() >= threshold, arg.cpu().numpy() + 1, 0).astype(np.int64)
