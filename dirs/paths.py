"""Where every stage reads and writes: the one layout of data/ and results/ (docs/design.md §7).

The Snakemake rules and ``python -m dirs <stage>`` both take their paths from :data:`LAYOUT`, so a
stage run alone writes exactly the file the workflow would, and vice versa.  Every template is a
``str.format`` pattern; a rule passes wildcards through as ``"{scenario}"``::

    path("channels", data="data", instance="{scenario}", seed="{seed}")
    # -> "data/scenarios/{scenario}/seed{seed}/channels.npz"
"""

from __future__ import annotations

from pathlib import Path

#: name -> template; ``{data}`` / ``{results}`` are the roots (config ``paths.*``).
LAYOUT = {
    # generated data
    "scenario": "{data}/scenarios/{instance}/seed{seed}/scenario.json",
    "channels": "{data}/scenarios/{instance}/seed{seed}/channels.npz",
    "demos": "{data}/demos/{instance}/seed{seed}/demos.npz",
    # evaluations of one instance and seed
    "optimum": "{results}/evaluations/{instance}/seed{seed}/optimum.npz",
    "evaluation": "{results}/evaluations/{instance}/seed{seed}/{file}",
    # trained models
    "model": "{results}/models/{instance}/seed{seed}/{name}",
    "model_file": "{results}/models/{instance}/seed{seed}/{name}/{file}",
    "checkpoint": "{results}/checkpoints/{instance}/seed{seed}/{name}/online.pt",
    # experiment outputs
    "table": "{results}/tables/{experiment}.csv",
    "table_md": "{results}/tables/{experiment}.md",
    "figure": "{results}/figures/{experiment}.png",
    "figure_pdf": "{results}/figures/{experiment}.pdf",
    "figure_data": "{results}/figures/{experiment}.csv",
    # bookkeeping of every job
    "log": "{results}/logs/{rule}/{job}.log",
    "benchmark": "{results}/benchmarks/{rule}/{job}.tsv",
}


def path(kind: str, **fields) -> str:
    """The path of ``kind`` (a key of :data:`LAYOUT`) with ``fields`` filled in."""
    try:
        template = LAYOUT[kind]
    except KeyError:
        raise KeyError(f"unknown path kind {kind!r}; known: {sorted(LAYOUT)}") from None
    return template.format(**{k: str(v) for k, v in fields.items()})


# --------------------------------------------------------------- helpers on a composed config
def roots(cfg) -> dict[str, str]:
    return {"data": cfg.paths.data_dir, "results": cfg.paths.results_dir}


def instance_path(cfg, kind: str, **fields) -> Path:
    """``kind`` for the config's instance (``scenario.name``) and seed."""
    return Path(path(kind, **roots(cfg), instance=cfg.scenario.name, seed=cfg.seed, **fields))


def scenario_files(cfg) -> dict[str, Path]:
    return {"scenario": instance_path(cfg, "scenario"), "channels": instance_path(cfg, "channels")}


def evaluation_file(cfg, file: str) -> Path:
    return instance_path(cfg, "evaluation", file=file)


def optimum_file(cfg) -> Path:
    return instance_path(cfg, "optimum")


def model_dir(cfg, name: str) -> Path:
    return instance_path(cfg, "model", name=name)


def experiment_path(cfg, kind: str, experiment: str) -> Path:
    return Path(path(kind, **roots(cfg), experiment=experiment))
