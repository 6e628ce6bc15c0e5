"""Snakemake script of rule `solve_optimum`: calls `dirs.stages` stage `solve_optimum`."""

from dirs.stages import run_from_snakemake

run_from_snakemake(snakemake, "heuristics:solve_optimum")  # noqa: F821 (injected by Snakemake)
