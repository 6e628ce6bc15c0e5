# Shared helpers: compose the Hydra config of the chosen profile once, and name the instances
# (scenario variants) and seeds every stage is built for.
from pathlib import Path

import hashlib
import json

from dirs.config import compose, experiment_instances, to_container


PROFILE = str(config.get("profile", "paper"))
# Extra Hydra overrides applied to every composed config, e.g. one seed only:
#   snakemake --cores 8 --config 'overrides=["profile.seeds=[0]"]'
EXTRA = [str(o) for o in config.get("overrides", [])]
BASE = compose([f"profile={PROFILE}", *EXTRA])
SEEDS = [int(s) for s in BASE.profile.seeds]
DATA = BASE.paths.data_dir
RESULTS = BASE.paths.results_dir

# instance name -> Hydra overrides: the profile's scenarios, and every variant of every experiment.
INSTANCES = {name: [f"scenario={name}"] for name in BASE.profile.scenarios}
# experiment id -> {variant: instance}
EXPERIMENTS = {}
for _exp in BASE.profile.experiments:
    _variants = experiment_instances(compose([f"profile={PROFILE}", f"experiment={_exp}", *EXTRA]))
    EXPERIMENTS[_exp] = {variant: inst for variant, (inst, _) in _variants.items()}
    for _inst, _overrides in _variants.values():
        INSTANCES.setdefault(_inst, _overrides)



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
        *EXTRA,
    ]


_CONFIG_HASHES = {}


def _hash_config(overrides):
    """Short hash of the fully composed config: a job reruns only when *its* config changes."""
    key = tuple(overrides)
    if key not in _CONFIG_HASHES:
        data = json.dumps(to_container(compose(list(overrides))), sort_keys=True, default=str)
        _CONFIG_HASHES[key] = hashlib.sha256(data.encode()).hexdigest()[:16]
    return _CONFIG_HASHES[key]


def instance_config_hash(wildcards):
    return _hash_config(instance_overrides(wildcards))


def experiment_overrides(wildcards):
    return [f"profile={PROFILE}", f"experiment={wildcards.experiment}", *EXTRA]


def experiment_config_hash(wildcards):
    return _hash_config(experiment_overrides(wildcards))


def code(*paths):
    """Library files a stage depends on: Snakemake does not track imported code, so they are
    declared as inputs and an edit reruns the stage."""
    return [f"dirs/{p}" for p in paths]


def per_instance(pattern, instances=None):
    """``pattern`` expanded over instances (default: all of them) and seeds."""
    return expand(pattern, scenario=instances or list(INSTANCES), seed=SEEDS)


def experiment_instances_of(exp_id):
    """The instances (scenario variants) experiment ``exp_id`` is built on, in variant order."""
    return list(dict.fromkeys(EXPERIMENTS[exp_id].values()))


# --- experiments (experiments.smk, search_eval.smk)
def _overrides_value(instance, key, default):
    for o in INSTANCES.get(instance, []):
        if o.startswith(f"{key}="):
            return o.split("=", 1)[1]
    return default


def variants_of(exp_id):
    """instance → variant name, for the experiment's table/figure labels."""
    return {inst: variant for variant, inst in EXPERIMENTS[exp_id].items()}


def evaluations_of(exp_id, files):
    """Every evaluation CSV ``files`` of every instance and seed of experiment ``exp_id``."""
    return expand(
        f"{RESULTS}/evaluations/{{scenario}}/seed{{seed}}/{{file}}",
        scenario=experiment_instances_of(exp_id),
        seed=SEEDS,
        file=files,
    )


QUALITY_FILES = ["heuristics.csv", "search.csv", "policy_dirs.csv"]
BASELINE_FILES = ["ac.csv", "ddpg.csv", "maddpg.csv"]
XLARGE_N = int(compose(["scenario=xlarge"]).scenario.num_iotds)
XLARGE_M = int(compose(["scenario=xlarge"]).scenario.num_servers)


# Table V compares every search baseline; elsewhere PSO alone is needed (the paper's NRR reference).
TABLE5_SEARCH = ["pso", "pso-seeded", "de", "de-seeded", "levy", "levy-greedy"]


def search_methods(wildcards):
    if "table5" in EXPERIMENTS and wildcards.scenario in experiment_instances_of("table5"):
        return TABLE5_SEARCH
    return ["pso"]
