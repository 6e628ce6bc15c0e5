"""Snakemake script of rule `pretrain_agents`: calls `dirs.stages` stage `pretrain_agents`."""

from dirs.stages import run_from_snakemake

run_from_snakemake(snakemake, "learner:pretrain_agents")  # noqa: F821 (injected by Snakemake)
