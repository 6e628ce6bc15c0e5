"""Snakemake script of rule `evaluate_allocation`: calls `dirs.stages` stage `evaluate_allocation`."""

from dirs.stages import run_from_snakemake

run_from_snakemake(snakemake, "ablation:evaluate_allocation")  # noqa: F821 (injected by Snakemake)
