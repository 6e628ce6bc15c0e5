"""Stages: freeze the composed config; generate a scenario and its channel samples."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from dirs.common import save_npz_atomic
from dirs.config import save_frozen, system_params
from dirs.paths import frozen_config, scenario_files
from dirs.system import Scenario
from dirs.tracking import stage_run

log = logging.getLogger(__name__)


def freeze_config(cfg, *, config: str | Path) -> None:
    """Write the resolved config of one (scenario, seed) instance; later stages read this file."""
    save_frozen(cfg, config)


def build_scenario(cfg) -> Scenario:
    sc = cfg.scenario
    positions = None if sc.server_positions is None else [list(p) for p in sc.server_positions]
    return Scenario.generate(
        sc.num_iotds,
        sc.num_servers,
        placement=str(sc.placement.value if hasattr(sc.placement, "value") else sc.placement),
        server_placement=str(sc.server_placement.value if hasattr(sc.server_placement, "value") else sc.server_placement),
        server_positions=positions,
        area_m=sc.area_m,
        params=system_params(cfg),
        seed=int(cfg.seed),
        name=sc.name,
    )


def generate_scenario(cfg, *, scenario: str | Path, channels: str | Path) -> None:
    """Positions (``scenario.json``) and channel samples (``channels.npz``: ``train``, ``test``)."""
    with stage_run("generate_scenario", cfg) as run:
        sc = build_scenario(cfg)
        rng = np.random.default_rng([int(cfg.seed), 0xC4A])
        train = sc.sample_channels(cfg.scenario.num_train, rng)
        test = sc.sample_channels(cfg.scenario.num_test, rng)
        sc.save(scenario)
        save_npz_atomic(channels, train=train, test=test)
        log.info("scenario %s seed %d: N=%d M=%d, %d train / %d test samples",
                 sc.name, cfg.seed, sc.num_iotds, sc.num_servers, len(train), len(test))
        run.log_metrics({"num_iotds": sc.num_iotds, "num_servers": sc.num_servers,
                         "mean_gain": float(train.mean())})
        run.log_artifact(scenario)


STAGES = {
    "freeze_config": (freeze_config, lambda cfg: {"config": frozen_config(cfg)}),
    "generate_scenario": (generate_scenario, scenario_files),
}
