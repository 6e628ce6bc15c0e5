"""Snakemake script of rule `evaluate_policy`: calls `dirs.stages` stage `evaluate_policy`."""

from dirs.stages import run_from_snakemake

run_from_snakemake(snakemake, "learner:evaluate_policy")  # noqa: F821 (injected by Snakemake)
