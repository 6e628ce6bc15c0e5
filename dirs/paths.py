"""Where every stage reads and writes (the layout of data/ and results/; DESIGN §7-8)."""

from __future__ import annotations

from pathlib import Path


def instance_dir(root: str | Path, kind: str, scenario: str, seed: int) -> Path:
    return Path(root) / kind / scenario / f"seed{seed}"


def scenario_files(cfg) -> dict[str, Path]:
    d = instance_dir(cfg.paths.data_dir, "scenarios", cfg.scenario.name, cfg.seed)
    return {"scenario": d / "scenario.json", "channels": d / "channels.npz"}


def frozen_config(cfg) -> Path:
    return Path(cfg.paths.results_dir) / "configs" / cfg.scenario.name / f"seed{cfg.seed}.yaml"


def evaluation_dir(cfg) -> Path:
    return instance_dir(cfg.paths.results_dir, "evaluations", cfg.scenario.name, cfg.seed)
