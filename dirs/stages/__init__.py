"""Pipeline stages: each is a function ``(cfg, **paths)`` that one Snakemake rule (or
``python -m dirs <stage>``) calls.  Stage modules in this package declare ``STAGES``:
``{name: (function, default_paths)}`` where ``default_paths(cfg)`` gives the conventional
input/output paths used when a stage runs alone; they are discovered automatically.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Callable


def registry() -> dict[str, tuple[Callable, Callable]]:
    out: dict[str, tuple[Callable, Callable]] = {}
    for mod in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{mod.name}")
        out.update(getattr(module, "STAGES", {}))
    return out


def run_from_snakemake(smk, stage: str) -> None:
    """Entry point of the thin ``workflow/scripts/*.py``: log to the rule's ``log:`` file, load the
    frozen config (input ``config``), and call stage ``stage`` (``"module:stage"`` imports only
    ``dirs.stages.<module>``) with the rule's named inputs and outputs that the stage function
    accepts (others, such as ``code``, only trigger reruns)."""
    import inspect
    import logging

    from dirs.config import load_frozen

    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if smk.log:
        handlers.append(logging.FileHandler(smk.log[0], mode="w"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s",
                        handlers=handlers, force=True)
    log = logging.getLogger("dirs.workflow")
    try:
        if ":" in stage:  # "module:stage" imports only that stage module (jobs start faster)
            module, stage = stage.split(":", 1)
            fn, _ = importlib.import_module(f"{__name__}.{module}").STAGES[stage]
        else:
            fn, _ = registry()[stage]
        cfg = load_frozen(smk.input.config)
        accepted = set(inspect.signature(fn).parameters)
        kwargs = {k: v for k, v in list(smk.input.items()) + list(smk.output.items())
                  if k in accepted and k != "cfg"}
        if "params" in accepted:
            kwargs["params"] = dict(smk.params.items())
        fn(cfg, **kwargs)
    except Exception:
        log.exception("stage %s failed (rule %s)", stage, smk.rule)
        raise
