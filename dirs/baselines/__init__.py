"""DRL baselines of the paper (§V-D; docs/design.md §5): a Gymnasium environment of the MEC problem
(registered as ``dirs/MECOffload-v0`` on import), AC (stable-baselines3 A2C) and DDPG
(stable-baselines3 DDPG) on it, and MADDPG in PyTorch (one actor per server, centralised critic,
DIRS's max vote).  :func:`load_baseline` reloads any of them as a policy with ``decide(gains)``."""

from dirs.baselines.env import ENV_ID, MECOffloadEnv, ObsStats, decode_scores, register

register()

ALGORITHMS = ("ac", "ddpg", "maddpg")


def load_baseline(path):
    """A trained baseline (``results/models/<scenario>/seed<k>/<algo>``) as a policy object with
    ``decide(gains (T, N, M)) -> (T, N)`` and ``meta`` (the JSON metadata)."""
    from pathlib import Path

    from dirs.io import InputFileError, read_json

    if not Path(path).is_dir():
        raise FileNotFoundError(f"{path}: no trained baseline here (expected a directory with meta.json)")
    meta = read_json(Path(path) / "meta.json", ("algo",), what="baseline meta")
    if meta["algo"] not in ALGORITHMS:
        raise InputFileError(
            Path(path) / "meta.json", f"algo: unknown baseline {meta['algo']!r}; allowed: {', '.join(ALGORITHMS)}"
        )
    if meta["algo"] == "maddpg":
        from dirs.baselines.maddpg import MADDPGPolicy

        return MADDPGPolicy.load(path)
    from dirs.baselines.sb3 import SB3Policy

    return SB3Policy.load(path)


__all__ = ["ALGORITHMS", "ENV_ID", "MECOffloadEnv", "ObsStats", "decode_scores", "load_baseline", "register"]
