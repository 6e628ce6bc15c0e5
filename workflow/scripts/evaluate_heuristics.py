"""Snakemake script of rule `evaluate_heuristics`: calls `dirs.stages` stage `evaluate_heuristics`."""

from dirs.stages import run_from_snakemake

run_from_snakemake(snakemake, "heuristics:evaluate_heuristics")  # noqa: F821 (injected by Snakemake)
