"""Snakemake script of rule `plot_scale`: calls `dirs.stages` stage `plot_scale`."""

from dirs.stages import run_from_snakemake

run_from_snakemake(snakemake, "experiments:plot_scale")  # noqa: F821 (injected by Snakemake)
