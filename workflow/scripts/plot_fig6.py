"""Snakemake script of rule `plot_fig6`: calls `dirs.stages` stage `plot_fig6`."""

from dirs.stages import run_from_snakemake

run_from_snakemake(snakemake, "experiments:plot_fig6")  # noqa: F821 (injected by Snakemake)
