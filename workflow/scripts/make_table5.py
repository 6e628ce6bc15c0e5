"""Snakemake script of rule `make_table5`: calls `dirs.stages` stage `make_table5`."""

from dirs.stages import run_from_snakemake

run_from_snakemake(snakemake, "experiments:make_table5")  # noqa: F821 (injected by Snakemake)
