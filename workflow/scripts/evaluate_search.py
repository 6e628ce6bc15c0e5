"""Snakemake script of rule `evaluate_search`: calls `dirs.stages` stage `evaluate_search`."""

from dirs.stages import run_from_snakemake

run_from_snakemake(snakemake, "search_eval:evaluate_search")  # noqa: F821 (injected by Snakemake)
