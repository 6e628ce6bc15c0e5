"""Snakemake script of rule `train_agents`: calls `dirs.stages` stage `train_agents`."""

from dirs.stages import run_from_snakemake

run_from_snakemake(snakemake, "learner:train_agents")  # noqa: F821 (injected by Snakemake)
