"""Stage: generate a scenario (positions, parameters) and its channel samples."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from dirs import io
from dirs.common import save_npz_atomic
from dirs.config import system_params
from dirs.paths import scenario_files
from dirs.stages import Stage
from dirs.system import Scenario
from dirs.tracking import stage_run

log = logging.getLogger(__name__)


def _plain(v):
    return str(getattr(v, "value", v))


def build_scenario(cfg) -> Scenario:
    """The :class:`Scenario` of ``cfg.scenario`` (positions drawn with ``cfg.seed``)."""
    sc = cfg.scenario
    positions = None if sc.server_positions is None else [list(p) for p in sc.server_positions]
    return Scenario.generate(
        sc.num_iotds,
        sc.num_servers,
        placement=_plain(sc.placement),
        server_placement=_plain(sc.server_placement),
        server_positions=positions,
        area_m=sc.area_m,
        params=system_params(cfg),
        seed=int(cfg.seed),
        name=sc.name,
    )


def generate_scenario(cfg, *, scenario: str | Path, channels: str | Path) -> None:
    """Positions (``scenario.json``) and channel samples (``channels.npz``: ``train``, ``test``),
    written together: both files appear, or neither is replaced."""
    with stage_run("generate_scenario", cfg) as run:
        sc = build_scenario(cfg)
        rng = np.random.default_rng([int(cfg.seed), 0xC4A])
        train = sc.sample_channels(cfg.scenario.num_train, rng)
        test = sc.sample_channels(cfg.scenario.num_test, rng)
        io.write_together({scenario: sc.save, channels: lambda tmp: save_npz_atomic(tmp, train=train, test=test)})
        log.info("scenario %s seed %d: N=%d M=%d, %d train / %d test samples",
                 sc.name, cfg.seed, sc.num_iotds, sc.num_servers, len(train), len(test))
        run.log_metrics({"num_iotds": sc.num_iotds, "num_servers": sc.num_servers,
                         "mean_gain": float(train.mean())})
        run.log_artifact(scenario)


STAGES = {"generate_scenario": Stage(generate_scenario, scenario_files)}
