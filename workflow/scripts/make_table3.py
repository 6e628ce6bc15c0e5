"""Snakemake script of rule `make_table3`: calls `dirs.stages` stage `make_table3`."""

from dirs.stages import run_from_snakemake

run_from_snakemake(snakemake, "experiments:make_table3")  # noqa: F821 (injected by Snakemake)
