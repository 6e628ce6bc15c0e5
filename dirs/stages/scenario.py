"""Stage: generate a scenario (positions, parameters) and its channel samples."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np

from dirs import io
from dirs.common import save_npz_atomic
from dirs.paths import scenario_files
from dirs.stages import Stage, job_slice
from dirs.system import Scenario
from dirs.system.families import family
from dirs.system.params import ParameterError
from dirs.tracking import stage_run

log = logging.getLogger(__name__)


def declare(sc: Scenario, arrays: dict[str, np.ndarray], cfg) -> Scenario:
    """``sc`` with what ``scenario.json`` records about it: the family, the task mode, the per-slot task
    fields ``arrays`` stores (``<split>_<field>``, the same for both splits) and the config slice."""
    splits = ("train", "test")
    unknown = sorted(k for k in arrays if k not in splits and k.split("_", 1)[0] not in splits)
    fields = {s: sorted(k.split("_", 1)[1] for k in arrays if k.startswith(f"{s}_")) for s in splits}
    if unknown or fields["train"] != fields["test"] or any(s not in arrays for s in splits):
        raise ParameterError(
            f"scenario.family: family {cfg.scenario.family!r} returned arrays {sorted(arrays)}; expected 'train', "
            "'test' and the same per-slot task arrays '<split>_<field>' for both splits"
        )
    mode = "per-slot" if fields["test"] else sc.task_mode
    return dataclasses.replace(
        sc, family=str(cfg.scenario.family), task_mode=mode, task_fields=tuple(fields["test"]), config=job_slice(cfg)
    )


def generate_scenario(cfg, *, scenario: str | Path, channels: str | Path) -> None:
    """Positions and parameters (``scenario.json``) and channel samples (``channels.npz``: ``train``,
    ``test``, and per-slot task arrays where the family has them) of ``scenario.family``
    (:mod:`dirs.system.families`), written together: both files appear, or neither is replaced.
    ``scenario.json`` records the family, the task mode, the per-slot fields and the config slice."""
    with stage_run("generate_scenario", cfg) as run:
        generate = family(str(cfg.scenario.family), cfg.get("plugins", ()))
        rng = np.random.default_rng([int(cfg.seed), 0xC4A])
        sc, arrays = generate(cfg, rng)
        sc = declare(sc, arrays, cfg)
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


STAGES = {"generate_scenario": Stage(generate_scenario, scenario_files, reads=("plugins",), writes_instance=True)}
