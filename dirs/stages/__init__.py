"""Pipeline stages: each is a function ``fn(cfg, **paths)`` that one Snakemake rule (or
``python -m dirs <stage>``) calls.

Every stage module declares ``STAGES = {name: Stage(fn, paths, reads)}``:

* ``paths(cfg)`` gives the conventional input/output paths (:mod:`dirs.paths`) used when the stage
  runs alone;
* ``reads`` lists the configuration keys the stage reads (``"search.demo"``, ``"dirs"``; ``{variant}``,
  ``{algo}``, ``{method}`` are filled from the job; a leading ``!`` drops a key).  The stage receives a
  config holding exactly those keys, plus the run-time keys ``tracking``, ``paths`` and ``profile.name``
  that never change a result: reading any other key raises, so a stage cannot silently use a value
  that is not part of its jobs' rerun key (docs/design.md §7).

:func:`run_from_snakemake` is the whole of ``workflow/scripts/run_stage.py``: the rule's name is the
stage's name, its ``params.config`` the config slice, its named inputs and outputs the paths.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

#: Environment variable carrying the run-time settings (tracking, paths, profile name) from the
#: Snakefile to its jobs: they are needed by every job but must never be part of a rerun key.
RUNTIME_ENV = "DIRS_RUNTIME"
#: Keys every stage receives besides its ``reads`` (never part of a rerun key).
RUNTIME_KEYS = ("tracking", "paths", "profile.name")
#: Keys every per-instance stage reads: the instance's scenario (its files are inputs anyway, so a
#: scenario change reruns these jobs in any case) and the seed (part of every path).
INSTANCE_READS = ("seed", "scenario")


@dataclass(frozen=True)
class Stage:
    """One pipeline stage (see the module docstring)."""

    fn: Callable[..., None]
    paths: Callable[[Any], dict]
    reads: tuple[str, ...] = ()
    per_instance: bool = True
    """True for stages of one (instance, seed); False for experiment-level ones (tables, figures)."""
    extra_reads: Callable[..., Iterable[str]] | None = field(default=None, compare=False)
    """Keys read beyond ``reads`` that depend on the job (e.g. the method's own ``reads``)."""

    @property
    def module(self) -> str:
        return self.fn.__module__

    def all_reads(self, **fmt) -> list[str]:
        base = list(INSTANCE_READS if self.per_instance else ()) + list(self.reads)
        if self.extra_reads is not None:
            base += list(self.extra_reads(**fmt))
        return [r.format(**fmt) for r in base]


def workflow_only(name: str) -> Callable[[Any], dict]:
    """``paths`` of an experiment-level stage: run alone it names the Snakemake target instead (it
    aggregates every instance and seed of an experiment)."""

    def paths(cfg):
        from dirs.system.params import ParameterError

        exp = cfg.experiment.id if cfg.experiment.id != "none" else "<experiment id>"
        raise ParameterError(
            f"{name} aggregates every instance and seed of an experiment; build it with `snakemake --cores 8 {exp}`"
        )

    return paths


def registry() -> dict[str, Stage]:
    """Every stage of every module of this package, by name."""
    out: dict[str, Stage] = {}
    for mod in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{mod.name}")
        out.update(getattr(module, "STAGES", {}))
    return out


def get(name: str, module: str | None = None) -> Stage:
    """Stage ``name``; with ``module`` (``dirs.stages.<m>``) only that module is imported."""
    if module:
        stages = importlib.import_module(module).STAGES
    else:
        stages = registry()
    if name not in stages:
        raise KeyError(f"unknown stage {name!r}; available: {', '.join(sorted(stages))}")
    return stages[name]


# ------------------------------------------------------------------ config slices
def config_slice(cfg, reads: Iterable[str]) -> dict[str, Any]:
    """Plain nested dict of exactly the keys ``reads`` of ``cfg``, applied in order (``!key``
    removes ``key`` from what the earlier entries added; a later entry may add part of it back).

    Raises ``KeyError`` naming a key that ``cfg`` does not have (a typo in a stage's ``reads``).
    """
    from omegaconf import OmegaConf

    from dirs.config import to_container

    out: dict[str, Any] = {}
    for key in reads:
        if key.startswith("!"):
            _drop(out, key[1:])
            continue
        node = OmegaConf.select(cfg, key, default="__missing__")
        if isinstance(node, str) and node == "__missing__":
            raise KeyError(f"stage reads {key!r}, which the configuration does not have")
        value = to_container(node) if OmegaConf.is_config(node) else _plain(node)
        _set(out, key, value)
    return out


def _plain(v):
    return getattr(v, "value", v)


def _set(d: dict, key: str, value) -> None:
    *parents, last = key.split(".")
    for p in parents:
        d = d.setdefault(p, {})
    if isinstance(value, dict) and isinstance(d.get(last), dict):
        d[last].update(value)
    else:
        d[last] = value


def _drop(d: dict, key: str) -> None:
    *parents, last = key.split(".")
    for p in parents:
        d = d.get(p, {})
    if isinstance(d, dict):
        d.pop(last, None)


def runtime(cfg) -> dict[str, Any]:
    """The run-time settings of ``cfg`` (tracking, paths, profile name)."""
    return config_slice(cfg, RUNTIME_KEYS)


def stage_config(slice_: dict[str, Any], runtime_: dict[str, Any] | None = None):
    """The config a stage receives: ``slice_`` + run-time keys, read-only; other keys raise."""
    from omegaconf import OmegaConf

    rt = runtime_ if runtime_ is not None else json.loads(os.environ.get(RUNTIME_ENV, "null") or "null")
    if rt is None:
        from dirs.config import compose

        rt = runtime(compose([]))
    data = json.loads(json.dumps(slice_))  # deep copy
    for key, value in _flatten_keys(rt):
        _set(data, key, value)
    cfg = OmegaConf.create(data)
    OmegaConf.set_struct(cfg, True)
    return cfg


def _flatten_keys(d: dict, prefix: str = ""):
    for k, v in d.items():
        if isinstance(v, dict) and k in ("profile",):
            yield from _flatten_keys(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v


def restrict(cfg, stage: Stage, **fmt):
    """``cfg`` reduced to what ``stage`` reads (the config a standalone run hands the stage)."""
    return stage_config(config_slice(cfg, stage.all_reads(**fmt)), runtime(cfg))


# ------------------------------------------------------------------ entry points
def run_from_snakemake(smk) -> None:
    """The one dispatcher of every rule (``workflow/scripts/run_stage.py``): log to the rule's
    ``log:`` file, build the stage's config from ``params.config``, and call the stage function with
    the rule's named inputs and outputs that it accepts (``code`` only triggers reruns)."""
    import inspect
    import logging
    import sys

    if os.getcwd() not in sys.path:  # the user's plug-in modules live in the working directory
        sys.path.insert(0, os.getcwd())
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if smk.log:
        handlers.append(logging.FileHandler(smk.log[0], mode="w"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", handlers=handlers, force=True)
    log = logging.getLogger("dirs.workflow")
    params = dict(smk.params.items())
    try:
        stage = get(smk.rule, params.get("stage_module"))
        cfg = stage_config(params["config"])
        accepted = set(inspect.signature(stage.fn).parameters)
        kwargs = {k: v for k, v in list(smk.input.items()) + list(smk.output.items()) if k in accepted and k != "cfg"}
        if "params" in accepted:
            kwargs["params"] = {k: v for k, v in params.items() if k not in ("config", "stage_module")}
        stage.fn(cfg, **kwargs)
    except Exception:
        log.exception("stage %s failed", smk.rule)
        raise


def job_fields(cfg) -> dict[str, str]:
    """Values of the ``{variant}``, ``{algo}``, ``{method}`` placeholders for a standalone run."""
    out = {}
    for key, path in (
        ("variant", "dirs.variant"),
        ("algo", "baseline.algo"),
        ("method", "evaluation.method"),
        ("experiment", "experiment.id"),
    ):
        from omegaconf import OmegaConf

        value = OmegaConf.select(cfg, path, default=None)
        if value is not None:
            out[key] = str(value)
    return out


def run_alone(stage: Stage, cfg) -> None:
    """Run ``stage`` on the composed ``cfg`` at the conventional paths (``python -m dirs <stage>``),
    handing it the same config slice the workflow would."""
    import inspect

    fields = job_fields(cfg)
    kwargs = dict(stage.paths(cfg))
    if "params" in inspect.signature(stage.fn).parameters:
        kwargs["params"] = fields
    stage.fn(restrict(cfg, stage, **fields), **kwargs)
