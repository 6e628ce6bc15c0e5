"""Snakemake script of rule `generate_demos`: calls `dirs.stages` stage `generate_demos`."""

from dirs.stages import run_from_snakemake

run_from_snakemake(snakemake, "search:generate_demos")  # noqa: F821 (injected by Snakemake)
