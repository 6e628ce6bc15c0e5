"""Stage: generate a scenario (positions, parameters) and its channel samples."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from dirs import io
from dirs.common import save_npz_atomic
from dirs.paths import scenario_files
from dirs.stages import Stage
from dirs.system.families import family
from dirs.tracking import stage_run

log = logging.getLogger(__name__)


def generate_scenario(cfg, *, scenario: str | Path, channels: str | Path) -> None:
    """Positions and parameters (``scenario.json``) and channel samples (``channels.npz``: ``train``,
    ``test``, and per-slot task arrays where the family has them) of ``scenario.family``
    (:mod:`dirs.system.families`), written together: both files appear, or neither is replaced."""
    with stage_run("generate_scenario", cfg) as run:
        generate = family(str(cfg.scenario.family), cfg.get("plugins", ()))
        rng = np.random.default_rng([int(cfg.seed), 0xC4A])
        sc, arrays = generate(cfg, rng)
        io.write_together({scenario: sc.save, channels: lambda tmp: save_npz_atomic(tmp, **arrays)})
        train, test = arrays["train"], arrays["test"]
        log.info(
            "scenario %s seed %d (%s): N=%d M=%d, %d train / %d test samples",
            sc.name,
            cfg.seed,
            cfg.scenario.family,
            sc.num_iotds,
            sc.num_servers,
            len(train),
            len(test),
        )
        run.log_metrics({"num_iotds": sc.num_iotds, "num_servers": sc.num_servers, "mean_gain": float(train.mean())})
        run.log_artifact(scenario)


STAGES = {"generate_scenario": Stage(generate_scenario, scenario_files, reads=("plugins",))}
