"""DIRS learner: per-server agents, max-vote ensemble, imitation pre-training, online training.

:func:`load_policy` loads either kind of saved scheduler: DIRS agents (``policy.json`` without a
``"kind"`` key, :func:`dirs.learn.agents.load_policy`) or the any-size model (``"kind": "anysize"``,
:func:`dirs.learn.anysize.load_anysize`).
"""

from __future__ import annotations

from pathlib import Path

from dirs.learn.agents import Policy
from dirs.learn.agents import load_policy as _load_dirs_policy
from dirs.learn.vote import vote


def load_policy(path: str | Path):
    """Load a saved policy directory (or its ``policy.json`` / ``policy.pt``), dispatching on its kind."""
    from dirs.learn.anysize import is_anysize, load_anysize, policy_dir

    policy_dir(path)  # a path that does not exist is named, not its parent's policy.json
    if is_anysize(path):
        return load_anysize(path)
    return _load_dirs_policy(path)


__all__ = ["Policy", "load_policy", "vote"]
