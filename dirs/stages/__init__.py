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
    writes_instance: bool = False
    """True for the stage that writes the instance (``scenario.json``, which records the config slice
    it was generated with); every other per-instance stage checks that record against its own."""

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
        if stage.per_instance and not stage.writes_instance and "scenario" in dict(smk.input.items()):
            check_instance(cfg, smk.input.scenario)
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


def run_alone(stage: Stage, cfg, *, name: str | None = None, force: bool = False) -> None:
    """Run ``stage`` (named ``name``) on the composed ``cfg`` at the conventional paths (``python -m
    dirs <stage>``), handing it the same config slice the workflow would.

    First the plug-ins of ``cfg`` are imported (a method or family they register resolves as in the
    workflow) and a method given by ``evaluation.method`` is checked to be one this stage evaluates.
    The stage that writes the instance refuses to replace one generated with another configuration
    slice (``scenario.json`` records it) unless ``force``; every other per-instance stage checks that
    the instance it reads was generated with its own ``scenario`` and ``seed``."""
    import inspect
    import sys

    from dirs.methods import import_plugins, plugins_of

    if os.getcwd() not in sys.path:  # the user's plug-in modules live in the working directory
        sys.path.insert(0, os.getcwd())
    import_plugins(plugins_of(cfg))
    check_method_stage(name or stage.fn.__name__, cfg)
    fields = job_fields(cfg)
    kwargs = dict(stage.paths(cfg))
    sliced = restrict(cfg, stage, **fields)
    if stage.writes_instance and not force:
        refuse_changed_instance(kwargs["scenario"], config_slice(cfg, stage.all_reads(**fields)))
    elif stage.per_instance and not stage.writes_instance and "scenario" in kwargs:
        check_instance(sliced, kwargs["scenario"])
    if "params" in inspect.signature(stage.fn).parameters:
        kwargs["params"] = fields
    stage.fn(sliced, **kwargs)


# ------------------------------------------------------------------ instance records
#: Stages that evaluate the method named by ``evaluation.method`` when run alone.
METHOD_STAGES = ("evaluate_method", "evaluate_learned")


def check_method_stage(name: str, cfg) -> None:
    """For a stage of :data:`METHOD_STAGES`: ``evaluation.method`` is a registered method (plug-ins and
    DIRS variants included) that this stage evaluates; otherwise name the stage that does."""
    from dirs.methods import get
    from dirs.system.params import ParameterError

    if name not in METHOD_STAGES:
        return
    method = str(cfg.evaluation.method)
    try:
        m = get(method, cfg)
    except ParameterError as exc:
        raise ParameterError(f"evaluation.method: {exc}") from None
    if m.stage != name:
        how = {"dirs": f"dirs.variant={method}", "drl": f"baseline.algo={method}"}.get(
            m.kind, f"evaluation.method={method}"
        )
        what = {
            "dirs": "a DIRS variant",
            "drl": "a DRL baseline",
            "learned": "a learned scheduler",
            "heuristic": "a heuristic",
            "search": "a population search",
            "reference": "the reference optimum",
        }.get(m.kind, f"a {m.kind} method")
        raise ParameterError(
            f"evaluation.method: {method!r} is {what} (kind {m.kind!r}), which {name} does not evaluate; "
            f"the {m.stage} stage does: python -m dirs {m.stage} {how}"
        )


def job_slice(cfg) -> dict[str, Any]:
    """The config slice a stage received (its config without the run-time keys): its rerun key."""
    from omegaconf import OmegaConf

    from dirs.config import to_container

    data = to_container(cfg) if OmegaConf.is_config(cfg) else json.loads(json.dumps(cfg))
    for key in RUNTIME_KEYS:
        _drop(data, key)
    if data.get("profile") == {}:
        data.pop("profile")
    return data


def first_difference(recorded: Any, current: Any, prefix: str = "") -> tuple[str, Any, Any] | None:
    """``(dotted key, recorded value, current value)`` of the first difference of two slices, or None."""
    if isinstance(recorded, dict) and isinstance(current, dict):
        for key in sorted(set(recorded) | set(current), key=str):
            sub = first_difference(recorded.get(key, "<absent>"), current.get(key, "<absent>"), f"{prefix}{key}.")
            if sub is not None:
                return sub
        return None
    return None if recorded == current else (prefix.rstrip("."), recorded, current)


def _recorded_config(scenario_path) -> dict[str, Any] | None:
    from pathlib import Path

    from dirs.io import read_json

    path = Path(scenario_path)
    if not path.is_file():
        return None
    config = read_json(path, what="scenario JSON").get("config")
    return config if isinstance(config, dict) else None


def refuse_changed_instance(scenario_path, slice_: dict[str, Any]) -> None:
    """Refuse to overwrite an instance whose ``scenario.json`` records another config slice."""
    from dirs.system.params import ParameterError

    try:
        recorded = _recorded_config(scenario_path)
    except (ParameterError, OSError):
        return  # unreadable: regenerating it repairs it
    diff = None if recorded is None else first_difference(recorded, slice_)
    if diff is not None:
        key, old, new = diff
        raise ParameterError(
            f"{scenario_path}: this instance was generated with another configuration ({key}={old!r} there, "
            f"{new!r} in this run); replacing it would change every result derived from it. Pass --force to "
            f"replace it, or write a new instance (scenario.name=<name>, or paths.data_dir=<dir>)"
        )


def check_instance(cfg, scenario_path) -> None:
    """The instance ``scenario.json`` was generated with this job's ``scenario`` and ``seed``: a file
    replaced outside the workflow (e.g. ``python -m dirs generate_scenario … --force``) is refused,
    naming the key that differs and how to regenerate it."""
    from dirs.io import InputFileError

    recorded = _recorded_config(scenario_path)
    if recorded is None or "scenario" not in cfg:
        return
    current = job_slice(cfg)
    mine = {k: current.get(k, "<absent>") for k in ("seed", "scenario")}
    diff = first_difference({k: recorded.get(k, "<absent>") for k in mine}, mine)
    if diff is not None:
        key, old, new = diff
        raise InputFileError(
            scenario_path,
            f"was generated with {key}={old!r}, but this job's configuration has {key}={new!r} (the instance was "
            f"replaced outside the workflow, or this run's overrides differ from those it was generated with); "
            f"run this stage with the overrides it was generated with, or regenerate it: "
            f"`snakemake --forcerun {scenario_path}` (or `python -m dirs generate_scenario <overrides> --force`)",
        )
