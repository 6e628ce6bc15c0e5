"""Snakemake script of rule `make_ablation`: calls `dirs.stages` stage `make_ablation`."""

from dirs.stages import run_from_snakemake

run_from_snakemake(snakemake, "experiments:make_ablation")  # noqa: F821 (injected by Snakemake)
