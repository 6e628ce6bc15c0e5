"""DIRS learner: per-server agents, max-vote ensemble, imitation pre-training, online training."""

from dirs.learn.vote import vote

__all__ = ["vote"]
