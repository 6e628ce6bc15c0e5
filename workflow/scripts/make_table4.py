"""Snakemake script of rule `make_table4`: calls `dirs.stages` stage `make_table4`."""

from dirs.stages import run_from_snakemake

run_from_snakemake(snakemake, "experiments:make_table4")  # noqa: F821 (injected by Snakemake)
