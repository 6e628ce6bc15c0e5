# Shared helpers: compose the Hydra config of the chosen profile once, and name the instances
# (scenario variants) and seeds every stage is built for.
from pathlib import Path

from dirs.config import compose


PROFILE = str(config.get("profile", "paper"))
BASE = compose([f"profile={PROFILE}"])
SEEDS = [int(s) for s in BASE.profile.seeds]
DATA = BASE.paths.data_dir
RESULTS = BASE.paths.results_dir

# instance name -> Hydra overrides. The profile's scenarios, by name.
INSTANCES = {name: [f"scenario={name}"] for name in BASE.profile.scenarios}

CONF_FILES = sorted(str(p) for p in Path("conf").rglob("*.yaml"))


wildcard_constraints:
    scenario="[A-Za-z0-9_.-]+",
    seed=r"\d+",


def instance_overrides(wildcards):
    """Hydra overrides that define one (instance, seed)."""
    if wildcards.scenario not in INSTANCES:
        raise ValueError(
            f"unknown scenario instance {wildcards.scenario!r}; known: {sorted(INSTANCES)}"
        )
    return [
        f"profile={PROFILE}",
        *INSTANCES[wildcards.scenario],
        f"scenario.name={wildcards.scenario}",
        f"seed={wildcards.seed}",
    ]


def code(*paths):
    """Library files a stage depends on: Snakemake does not track imported code, so they are
    declared as inputs and an edit reruns the stage."""
    return [f"dirs/{p}" for p in paths]


def per_instance(pattern, instances=None):
    """``pattern`` expanded over instances (default: the profile's scenarios) and seeds."""
    return expand(pattern, scenario=instances or list(INSTANCES), seed=SEEDS)
