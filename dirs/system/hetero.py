"""Scenario family ``hetero``: heterogeneous tasks and servers (issue [hetero]; docs/design.md §9).

Positions and fading are the paper's (:func:`dirs.system.families.paper_scenario`, same random
streams), so a ``hetero`` instance whose distributions are all ``fixed`` at the paper's values *is*
the paper's instance.  On top, drawn from ``scenario.options``:

* ``tasks`` — per-IoTD fields of :class:`dirs.system.SystemParams` (``data_bits`` in bits,
  ``cpu_cycles``, ``local_cpu_hz``, …), each a distribution ``{dist: uniform | loguniform, low, high}``
  or ``{dist: fixed, value}`` (:mod:`dirs.system.tasks`);
* ``servers`` — ``mec_cpu_hz`` per server, same form;
* ``task_mode`` — ``fixed``: each IoTD keeps its task sizes and only the fading changes per slot (the
  sizes are per-IoTD arrays in ``scenario.json``'s params); ``per-slot``: task sizes are redrawn every
  slot and stored beside the gains in ``channels.npz`` as ``<split>_<field>`` ``(T, N)`` arrays.

What each method sees: every method is handed the gains and the split's params (task sizes
included); the heuristics, searches and the reference price the actual tasks.  DIRS's agents see, as
in the paper, only their own server's gains h_j (their standardised log-gains): with ``fixed`` tasks
an IoTD's size is a constant the agent learns along with its position; with ``per-slot`` tasks the
paper's agents do not see the slot's sizes (the paper is silent on heterogeneous tasks), and the
decisions they vote are priced with the true sizes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from dirs.system.families import paper_scenario, register_family
from dirs.system.params import ParameterError
from dirs.system.tasks import check_distribution, sample_servers, sample_tasks

TASK_MODES = ("fixed", "per-slot")
OPTIONS = ("tasks", "servers", "task_mode")


def _plain(value: Any) -> Any:
    from omegaconf import OmegaConf

    return OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value


def _spec(opts: Mapping[str, Any], key: str) -> dict[str, Any]:
    spec = opts.get(key) or {}
    if not isinstance(spec, Mapping):
        raise ParameterError(
            f"scenario.options.{key}: expected a mapping of field -> distribution "
            f"(e.g. cpu_cycles: {{dist: uniform, low: 0.2e9, high: 2.0e9}}), got {spec!r}"
        )
    return {str(k): v for k, v in spec.items()}


def _check_extremes(cfg, tasks: dict[str, Any], servers: dict[str, Any]) -> None:
    """The derived costs stay finite at both ends of every distribution (``dirs.config.validate_derived``)."""
    from dirs.config import system_params, validate_derived

    where = {
        **{f: f"scenario.options.tasks.{f}" for f in tasks},
        **{f: f"scenario.options.servers.{f}" for f in servers},
    }
    dists = {f: check_distribution(f, d) for f, d in {**tasks, **servers}.items()}
    for end in ("low", "high"):
        values = {f: d.get(end, d.get("value")) for f, d in dists.items()}

        def key(field: str, end: str = end) -> str:
            if field not in where:
                return f"scenario.{field}"
            return f"{where[field]}.{end if dists[field]['dist'] != 'fixed' else 'value'}"

        validate_derived(
            system_params(cfg).replace(**values), float(cfg.scenario.area_m), int(cfg.scenario.num_iotds), key=key
        )


def check_options(cfg) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """``(task_mode, tasks, servers)`` of ``scenario.options``, every entry checked (names the key):
    known options, a known task mode, distributions of known fields inside their physical ranges,
    finite costs at both ends of every range."""
    opts = _plain(cfg.scenario.options)
    if not isinstance(opts, Mapping):
        raise ParameterError(f"scenario.options: expected a mapping with keys {list(OPTIONS)}, got {opts!r}")
    unknown = sorted(set(opts) - set(OPTIONS))
    if unknown:
        raise ParameterError(
            f"scenario.options: unknown option(s) {unknown} of the hetero family; allowed: {list(OPTIONS)}"
        )
    mode = opts.get("task_mode", "fixed")
    if mode not in TASK_MODES:
        raise ParameterError(f"scenario.options.task_mode: unknown value {mode!r}; allowed: {list(TASK_MODES)}")
    tasks, servers = _spec(opts, "tasks"), _spec(opts, "servers")
    for group, spec, sample in (("tasks", tasks, sample_tasks), ("servers", servers, sample_servers)):
        try:
            sample(spec, 1, 0)  # checks every field and distribution
        except ParameterError as exc:
            msg = str(exc)
            raise ParameterError(f"scenario.options.{msg if msg.startswith(group) else f'{group}.{msg}'}") from None
    _check_extremes(cfg, tasks, servers)
    return str(mode), tasks, servers


@register_family("hetero", validate=check_options)
def hetero(cfg, rng: np.random.Generator):
    """Scenario and channel samples of the ``hetero`` family (module docstring)."""
    from dirs.config import system_params

    mode, tasks, servers = check_options(cfg)
    sc_cfg = cfg.scenario
    n, m = int(sc_cfg.num_iotds), int(sc_cfg.num_servers)
    trng = np.random.default_rng([int(cfg.seed), 0x7A5C])  # task sizes: their own stream
    drawn = sample_servers(servers, m, trng) if servers else {}
    if mode == "fixed" and tasks:
        drawn.update(sample_tasks(tasks, n, trng))
    params = system_params(cfg).replace(**drawn)
    sc = paper_scenario(cfg, params)
    train = sc.sample_channels(sc_cfg.num_train, rng)
    test = sc.sample_channels(sc_cfg.num_test, rng)
    arrays = {"train": train, "test": test}
    per_slot = mode == "per-slot" and bool(tasks)
    if per_slot:
        for split, t in (("train", len(train)), ("test", len(test))):
            arrays.update({f"{split}_{field}": v for field, v in sample_tasks(tasks, n, trng, size=t).items()})
    sc = dataclasses.replace(sc, family="hetero", task_mode=mode, task_fields=tuple(tasks) if per_slot else ())
    return sc, arrays
