"""Snakemake script of rule `plot_fig7`: calls `dirs.stages` stage `plot_fig7`."""

from dirs.stages import run_from_snakemake

run_from_snakemake(snakemake, "experiments:plot_fig7")  # noqa: F821 (injected by Snakemake)
