"""Snakemake script of rule `imitation_table`: calls `dirs.stages` stage `imitation_table`."""

from dirs.stages import run_from_snakemake

run_from_snakemake(snakemake, "learner:imitation_table")  # noqa: F821 (injected by Snakemake)
