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

import numpy as np

from dirs.system.families import paper_scenario, register_family
from dirs.system.params import ParameterError
from dirs.system.tasks import sample_servers, sample_tasks

TASK_MODES = ("fixed", "per-slot")
OPTIONS = ("tasks", "servers", "task_mode")


@register_family("hetero")
def hetero(cfg, rng: np.random.Generator):
    """Scenario and channel samples of the ``hetero`` family (module docstring)."""
    from dirs.config import system_params

    sc_cfg = cfg.scenario
    opts = dict(sc_cfg.options)
    unknown = sorted(set(opts) - set(OPTIONS))
    if unknown:
        raise ParameterError(
            f"scenario.options: unknown option(s) {unknown} of the hetero family; allowed: {list(OPTIONS)}"
        )
    mode = str(opts.get("task_mode", "fixed"))
    if mode not in TASK_MODES:
        raise ParameterError(f"scenario.options.task_mode: unknown value {mode!r}; allowed: {list(TASK_MODES)}")
    tasks = {str(k): dict(v) for k, v in dict(opts.get("tasks") or {}).items()}
    servers = {str(k): dict(v) for k, v in dict(opts.get("servers") or {}).items()}
    n, m = int(sc_cfg.num_iotds), int(sc_cfg.num_servers)
    trng = np.random.default_rng([int(cfg.seed), 0x7A5C])  # task sizes: their own stream
    try:
        drawn = sample_servers(servers, m, trng) if servers else {}
        if mode == "fixed" and tasks:
            drawn.update(sample_tasks(tasks, n, trng))
        params = system_params(cfg).replace(**drawn)
    except ParameterError as exc:
        raise ParameterError(f"scenario.options.{exc}") from None
    sc = paper_scenario(cfg, params)
    train = sc.sample_channels(sc_cfg.num_train, rng)
    test = sc.sample_channels(sc_cfg.num_test, rng)
    arrays = {"train": train, "test": test}
    if mode == "per-slot" and tasks:
        for split, t in (("train", len(train)), ("test", len(test))):
            try:
                per_slot = sample_tasks(tasks, n, trng, size=t)
            except ParameterError as exc:
                raise ParameterError(f"scenario.options.{exc}") from None
            arrays.update({f"{split}_{field}": v for field, v in per_slot.items()})
    return sc, arrays
