"""Snakemake script of rule `train_baseline`: calls `dirs.stages` stage `train_baseline`."""

from dirs.stages import run_from_snakemake

run_from_snakemake(snakemake, "baselines:train_baseline")  # noqa: F821 (injected by Snakemake)
