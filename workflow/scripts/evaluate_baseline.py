"""Snakemake script of rule `evaluate_baseline`: calls `dirs.stages` stage `evaluate_baseline`."""

from dirs.stages import run_from_snakemake

run_from_snakemake(snakemake, "baselines:evaluate_baseline")  # noqa: F821 (injected by Snakemake)
