"""Snakemake script of rule `plot_fig4`: calls `dirs.stages` stage `plot_fig4`."""

from dirs.stages import run_from_snakemake

run_from_snakemake(snakemake, "search:plot_fig4")  # noqa: F821 (injected by Snakemake)
