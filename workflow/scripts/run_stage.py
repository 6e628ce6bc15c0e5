"""The one script of every rule: calls the dirs stage named after the rule (dirs.stages.run_from_snakemake)."""

from dirs.stages import run_from_snakemake

run_from_snakemake(snakemake)  # noqa: F821 (injected by Snakemake)
