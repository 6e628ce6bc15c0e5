"""``python -m dirs.bench <what> [options]``: every subcommand declared by a module of :data:`dirs.bench.MODULES`."""

from __future__ import annotations

import argparse
import importlib

from dirs.bench import MODULES


def main(argv: list[str] | None = None) -> int:
    import dirs.bench as pkg

    parser = argparse.ArgumentParser(
        prog="python -m dirs.bench", description=pkg.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    runners = {}
    for name in MODULES:
        module = importlib.import_module(f"dirs.bench.{name}")
        for cmd, (help_, add_arguments, run) in module.COMMANDS.items():
            add_arguments(sub.add_parser(cmd, help=help_, description=help_))
            runners[cmd] = run
    args = parser.parse_args(argv)
    return int(runners[args.what](args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
