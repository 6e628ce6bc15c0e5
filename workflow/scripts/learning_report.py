"""Snakemake script of rule `learning_report`: calls `dirs.stages` stage `learning_report`."""

from dirs.stages import run_from_snakemake

run_from_snakemake(snakemake, "learning_report:learning_report")  # noqa: F821 (injected by Snakemake)
