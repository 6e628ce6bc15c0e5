"""DIRS learner: per-server agents, max-vote ensemble, imitation pre-training, online training."""

from dirs.learn.agents import Policy, load_policy
from dirs.learn.vote import vote

__all__ = ["Policy", "load_policy", "vote"]
