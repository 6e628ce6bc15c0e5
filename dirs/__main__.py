"""Run one pipeline stage alone: ``python -m dirs <stage> [--force] [hydra overrides]``.

Examples::

    python -m dirs generate_scenario scenario=large seed=1
    python -m dirs evaluate_method scenario=large seed=1 evaluation.method=greedy
    python -m dirs generate_scenario scenario=large seed=1 --force   # replace an instance generated otherwise
    python -m dirs list                      # the available stages

A failing stage prints one line ``error: …`` naming the field or file and exits with status 2
(``DIRS_DEBUG=1`` prints the traceback too).

Inputs and outputs follow the conventional layout of ``dirs.paths`` (the same files the
Snakemake rules use), so a stage run alone is picked up by the workflow and vice versa.  The stage that
writes an instance refuses to replace one generated with another configuration unless ``--force``.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback

from dirs.system.params import ParameterError

#: Exit status of a failed stage (bad configuration, bad or missing input file, any error).
EXIT_ERROR = 2


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def error_line(stage: str, exc: BaseException) -> str:
    """The single ``error: …`` line printed for ``exc`` raised by ``stage``."""
    if isinstance(exc, ParameterError):
        return f"error: {_one_line(exc)}"
    if isinstance(exc, FileNotFoundError):
        if exc.filename and exc.strerror:
            return f"error: missing input file {exc.filename!r}: {_one_line(exc.strerror)}"
        return f"error: {_one_line(exc)}"
    if isinstance(exc, OSError) and getattr(exc, "filename", None):  # e.g. an unwritable results directory
        return f"error: cannot write {exc.filename!r}: {_one_line(exc.strerror or exc)}"
    return f"error: {stage} failed: {type(exc).__name__}: {_one_line(exc)} (set DIRS_DEBUG=1 for the traceback)"


def main(argv: list[str] | None = None) -> int:
    """Run one stage; on failure print one line ``error: …`` (plus the traceback when
    ``DIRS_DEBUG=1``) to stderr and return :data:`EXIT_ERROR`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        from dirs.stages import registry, run_alone

        stages = registry()
    except Exception as exc:  # noqa: BLE001 — a broken stage module: still one line and exit 2
        if os.environ.get("DIRS_DEBUG", "") not in ("", "0"):
            traceback.print_exc(file=sys.stderr)
        print(error_line("loading the stages", exc), file=sys.stderr)
        return EXIT_ERROR
    if not argv or argv[0] in ("-h", "--help", "list"):
        print(__doc__.strip())
        print("\nstages:", ", ".join(sorted(stages)))
        return 0 if argv else EXIT_ERROR
    name, overrides = argv[0], [a for a in argv[1:] if a != "--force"]
    force = "--force" in argv[1:]
    if name not in stages:
        print(f"error: unknown stage {name!r}; available: {', '.join(sorted(stages))}", file=sys.stderr)
        return EXIT_ERROR
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    from dirs.config import compose

    try:
        cfg = compose(overrides)
        run_alone(stages[name], cfg, name=name, force=force)
    except Exception as exc:  # noqa: BLE001 — every failure ends in one line and exit 2
        if os.environ.get("DIRS_DEBUG", "") not in ("", "0"):
            traceback.print_exc(file=sys.stderr)
        print(error_line(name, exc), file=sys.stderr)
        return EXIT_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
