"""Scenario families: how an instance's scenario and channel samples are generated (docs/design.md §1, §9).

A family is a function ``generate(cfg, rng) -> (scenario, arrays)`` registered under a name with
:func:`register_family`; ``conf/scenario/<name>.yaml`` selects it with ``family: <name>`` and passes
it ``options:`` (a free-form mapping the family validates itself).  ``arrays`` holds the channel
samples ``train`` and ``test`` of shape ``(T, N, M)`` and, for families whose tasks change per slot,
per-sample task arrays ``<split>_<field>`` of shape ``(T, N)`` (e.g. ``test_cpu_cycles``); the
``generate_scenario`` stage writes ``scenario.json`` and ``channels.npz`` from them, together.

A new family is its generator module (in ``dirs/system/`` or a module named in ``plugins:``) plus a
scenario YAML — no stage changes.  ``register_family(name, validate=fn)`` adds ``fn(cfg)``, run when
the configuration is composed (:func:`validate_family`), so that bad ``options`` fail at once, naming
the key.  The generator sets the returned scenario's ``task_mode`` (``fixed`` | ``per-slot``); the
stage records the family and the per-slot fields it stores in ``scenario.json``.  The paper's
family (``paper``) is below.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

import numpy as np

from dirs.system.params import ParameterError
from dirs.system.scenario import Scenario

Generator = Callable[[Any, np.random.Generator], tuple[Scenario, dict[str, np.ndarray]]]
_FAMILIES: dict[str, Generator] = {}
_VALIDATORS: dict[str, Callable[[Any], None]] = {}


def register_family(name: str, validate: Callable[[Any], None] | None = None) -> Callable[[Generator], Generator]:
    """Decorator registering a scenario generator as family ``name`` (``validate(cfg)``: optional
    check of its ``scenario.options``, run when a configuration is composed)."""

    def decorate(fn: Generator) -> Generator:
        old = _FAMILIES.get(name)
        if old is not None and (old.__module__, old.__qualname__) != (fn.__module__, fn.__qualname__):
            raise ParameterError(f"scenario family {name!r} is registered twice: {old.__module__}, {fn.__module__}")
        _FAMILIES[name] = fn
        if validate is not None:
            _VALIDATORS[name] = validate
        return fn

    return decorate


def family(name: str, plugins=()) -> Generator:
    """The generator of family ``name`` (imports the modules of ``dirs.system`` and ``plugins``; a
    plug-in that fails to import is named)."""
    from dirs.common import import_modules

    if name not in _FAMILIES:
        pkg = importlib.import_module("dirs.system")
        for info in pkgutil.iter_modules(pkg.__path__):
            importlib.import_module(f"dirs.system.{info.name}")
        import_modules(plugins)
    if name not in _FAMILIES:
        raise ParameterError(f"scenario.family: unknown family {name!r}; registered: {sorted(_FAMILIES)}")
    return _FAMILIES[name]


def validate_family(cfg) -> None:
    """The configured family exists and accepts ``scenario.options`` (its validator, if any)."""
    name = str(cfg.scenario.family)
    family(name, cfg.get("plugins", ()))
    check = _VALIDATORS.get(name)
    if check is not None:
        check(cfg)


def _plain(v):
    return str(getattr(v, "value", v))


def paper_scenario(cfg, params=None) -> Scenario:
    """The paper's deployment (§V): IoTD and server placement of ``cfg.scenario``, identical tasks."""
    from dirs.config import system_params

    sc = cfg.scenario
    positions = None if sc.server_positions is None else [list(p) for p in sc.server_positions]
    return Scenario.generate(
        sc.num_iotds,
        sc.num_servers,
        placement=_plain(sc.placement),
        server_placement=_plain(sc.server_placement),
        server_positions=positions,
        area_m=sc.area_m,
        params=params if params is not None else system_params(cfg),
        seed=int(cfg.seed),
        name=sc.name,
    )


def _no_options(cfg) -> None:
    if cfg.scenario.options:
        raise ParameterError(f"scenario.options: the paper family takes no options, got {dict(cfg.scenario.options)}")


@register_family("paper", validate=_no_options)
def paper(cfg, rng: np.random.Generator) -> tuple[Scenario, dict[str, np.ndarray]]:
    """The paper's family: positions by ``scenario.placement`` / ``server_placement``, Rayleigh fading
    redrawn per slot, the same task for every IoTD (``scenario.data_bits``, ``cpu_cycles``)."""
    _no_options(cfg)
    sc = paper_scenario(cfg)
    train = sc.sample_channels(cfg.scenario.num_train, rng)
    test = sc.sample_channels(cfg.scenario.num_test, rng)
    return sc, {"train": train, "test": test}
