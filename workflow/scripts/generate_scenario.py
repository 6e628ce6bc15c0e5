"""Snakemake script of rule `generate_scenario`: calls `dirs.stages` stage `generate_scenario`."""

from dirs.stages import run_from_snakemake

run_from_snakemake(snakemake, "scenario:generate_scenario")  # noqa: F821 (injected by Snakemake)
