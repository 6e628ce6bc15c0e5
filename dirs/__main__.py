"""Run one pipeline stage alone: ``python -m dirs <stage> [hydra overrides]``.

Examples::

    python -m dirs generate_scenario scenario=large seed=1
    python -m dirs evaluate_heuristics scenario=large seed=1
    python -m dirs list                      # the available stages

Inputs and outputs follow the conventional layout of ``dirs.paths`` (the same files the
Snakemake rules use), so a stage run alone is picked up by the workflow and vice versa.
"""

from __future__ import annotations

import logging
import sys

from dirs.system.params import ParameterError


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from dirs.stages import registry

    stages = registry()
    if not argv or argv[0] in ("-h", "--help", "list"):
        print(__doc__.strip())
        print("\nstages:", ", ".join(sorted(stages)))
        return 0 if argv else 2
    name, overrides = argv[0], argv[1:]
    if name not in stages:
        print(f"error: unknown stage {name!r}; available: {', '.join(sorted(stages))}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    from dirs.config import compose

    try:
        cfg = compose(overrides)
        fn, default_paths = stages[name]
        fn(cfg, **default_paths(cfg))
    except (ParameterError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # e.g. an unwritable results directory
        where = f" {exc.filename!r}" if getattr(exc, "filename", None) else ""
        print(f"error: cannot write{where}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
