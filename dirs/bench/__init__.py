"""Benchmarks that print figures (no assertions): ``python -m dirs.bench <what> [options]``.

One module per subcommand family; each declares its subcommands in ``COMMANDS`` as
``name -> (help, add_arguments, run)``, and :mod:`dirs.bench.__main__` collects them from
:data:`MODULES`. A new benchmark is one module here plus its name in :data:`MODULES`.
Library code never imports this package: it only measures.
"""

#: Modules that declare subcommands (``dirs.bench.<module>.COMMANDS``), in the order ``--help`` lists them.
MODULES = ("oracle", "search", "compare", "agents", "certified", "flow", "fuzz")
