# Shared helpers: compose the profile's configs once; derive the instances, the methods each one
# runs, every job's rerun key (the config slice its stage reads) and its code inputs (the import
# closure of its stage module) — nothing here is typed per rule or per method (docs/design.md §7).
import json
import os
import re
import sys

from snakemake.exceptions import WorkflowError

from dirs.codedeps import code_inputs, plugin_files
from dirs.config import compose, experiment_instances, workflow_overrides
from dirs.methods import import_plugins, method_of_row, registry, row_label
from dirs.paths import path
from dirs.stages import RUNTIME_ENV, config_slice, runtime
from dirs.stages import registry as stage_registry




def checked(fn, *args):
    """``fn(*args)``; a bad configuration or plug-in is one line naming the key or module (no traceback)."""
    try:
        return fn(*args)
    except ValueError as exc:  # dirs.system.params.ParameterError and its subclasses
        raise WorkflowError(str(exc)) from None


PROFILE = str(config.get("profile", "paper"))
# Extra Hydra overrides applied to every composed config, e.g. one seed only (one string is one override):
#   snakemake --cores 8 --config 'overrides=["profile.seeds=[0]"]'
EXTRA = checked(workflow_overrides, config.get("overrides"))
BASE = checked(compose, [f"profile={PROFILE}", *EXTRA])
SEEDS = [int(s) for s in BASE.profile.seeds]
DATA = BASE.paths.data_dir
RESULTS = BASE.paths.results_dir
ROOTS = dict(data=DATA, results=RESULTS)
# tracking, paths and the profile name reach every job through the environment: never a rerun key
os.environ[RUNTIME_ENV] = json.dumps(runtime(BASE))
STAGES = stage_registry()

# experiment id -> composed config; experiment id -> {variant: instance}; instance -> overrides
EXPERIMENTS = {}
EXPERIMENT_INSTANCES = {}
INSTANCES = {name: [f"scenario={name}"] for name in BASE.profile.scenarios}
for _exp in BASE.profile.experiments:
    _cfg = checked(compose, [f"profile={PROFILE}", f"experiment={_exp}", *EXTRA])
    EXPERIMENTS[_exp] = _cfg
    _variants = experiment_instances(_cfg)
    EXPERIMENT_INSTANCES[_exp] = {variant: inst for variant, (inst, _) in _variants.items()}
    for _inst, _overrides in _variants.values():
        INSTANCES.setdefault(_inst, _overrides)

# Methods registered in the user's own modules (`plugins:` of the config or of an experiment) are
# imported from the working directory or the installed environment, here and in every job.
sys.path.insert(0, os.getcwd())
PLUGINS = list(dict.fromkeys([*BASE.plugins, *(p for c in EXPERIMENTS.values() for p in c.plugins),
                              *(p for c in EXPERIMENTS.values() for p in c.experiment.plugins)]))
checked(import_plugins, PLUGINS)
METHODS = checked(registry, BASE)


def by_kind(*kinds):
    return sorted(n for n, m in METHODS.items() if m.kind in kinds)


wildcard_constraints:
    scenario="[A-Za-z0-9_.-]+",
    seed=r"\d+",
    method="|".join(re.escape(n) for n in by_kind("reference", "heuristic", "search")),
    algo="|".join(re.escape(n) for n in by_kind("drl")),
    variant="|".join(re.escape(n) for n in by_kind("dirs")),
    learned="|".join(re.escape(n) for n in by_kind("learned")),
    experiment="|".join(re.escape(e) for e in EXPERIMENTS) or "__none__",


# --------------------------------------------------------------------------- configs and keys
_INSTANCE_CFG = {}


def instance_cfg(instance, seed):
    """The composed config of one (instance, seed)."""
    if instance not in INSTANCES:
        raise ValueError(f"unknown scenario instance {instance!r}; known: {sorted(INSTANCES)}")
    if instance not in _INSTANCE_CFG:
        _INSTANCE_CFG[instance] = compose(
            [f"profile={PROFILE}", *INSTANCES[instance], f"scenario.name={instance}", *EXTRA]
        )
    cfg = _INSTANCE_CFG[instance].copy()
    cfg.seed = int(seed)
    return cfg


def key(stage, *fields):
    """Params function: the rerun key of one job of ``stage`` — the config slice the stage reads
    (its ``reads`` with the job's wildcards ``fields`` filled in), never seeds, paths or tracking."""

    def fn(wildcards):
        fmt = {f: wildcards[f] for f in fields}
        return config_slice(instance_cfg(wildcards.scenario, wildcards.seed), STAGES[stage].all_reads(**fmt))

    return fn


def experiment_key(stage, exp):
    return config_slice(EXPERIMENTS[exp], STAGES[stage].all_reads())


def code(stage, method_field=None):
    """Input function: the files of dirs/ the stage (and the job's method) import; a method from a
    plug-in module adds that module's file."""

    def fn(wildcards):
        modules = [STAGES[stage].module]
        if method_field is not None:
            modules.append(METHODS[wildcards[method_field]].module)
        ours = [m for m in modules if m.split(".")[0] == "dirs"]
        return code_inputs(*ours) + plugin_files([m for m in modules if m not in ours])

    return fn


def stage_module(stage):
    return STAGES[stage].module


def log_of(rule, job):
    return path("log", results=RESULTS, rule=rule, job=job)


def benchmark_of(rule, job):
    return path("benchmark", results=RESULTS, rule=rule, job=job)


INST = "{scenario}/seed{seed}"


def p(kind, **fields):
    """A path of dirs.paths.LAYOUT for the job's instance and seed (wildcards pass through)."""
    return path(kind, **ROOTS, **{"instance": "{scenario}", "seed": "{seed}", **fields})


# --------------------------------------------------------------------------- what runs where
ROWS = {}  # instance -> rows (in order) evaluated on it
EVALUATION_REPORTS = ("quality", "cost", "time_energy", "objective_vs_n", "scale", "hetero")


def _add_rows(instance, rows):
    ROWS.setdefault(instance, [])
    for r in rows:
        if r not in ROWS[instance]:
            ROWS[instance].append(r)


for _inst in BASE.profile.scenarios:
    _add_rows(_inst, BASE.profile.methods)
for _exp, _cfg in EXPERIMENTS.items():
    if _cfg.experiment.report in EVALUATION_REPORTS + ("imitation", "pretrain_loss", "training_reward"):
        for _row in _cfg.experiment.methods:  # fails early, naming the experiment and the registered rows
            try:
                method_of_row(str(_row), METHODS)
            except ValueError as _exc:
                raise ValueError(f"conf/experiment/{_exp}.yaml: methods: {_exc}") from None
    if _cfg.experiment.report in EVALUATION_REPORTS:
        for _inst in EXPERIMENT_INSTANCES[_exp].values():
            _add_rows(_inst, _cfg.experiment.methods)


def evaluation_files(rows):
    """Evaluation CSV names holding ``rows`` (one per method, in order)."""
    return list(dict.fromkeys(method_of_row(r, METHODS).file for r in rows))


def labels(rows):
    """row -> display label, for the rows that are registered methods (fig4's and the ablation's
    rows are their stages' own)."""
    known = {r for m in METHODS.values() for r in m.all_rows()}
    return {r: row_label(r, METHODS) for r in rows if r in known}


def instance_evaluations(instances=None):
    """Every evaluation CSV of every instance (default: all) and seed."""
    out = []
    for inst in instances or list(ROWS):
        for f in evaluation_files(ROWS.get(inst, [])):
            out += expand(path("evaluation", **ROOTS, instance=inst, seed="{seed}", file=f), seed=SEEDS)
    return out


def experiment_instances_of(exp):
    """The instances of experiment ``exp``, in variant order."""
    return list(dict.fromkeys(EXPERIMENT_INSTANCES[exp].values()))


def experiment_evaluations(exp, files=None):
    """The evaluation CSVs of experiment ``exp``: ``files`` or those of its rows, every instance and seed."""
    files = files or evaluation_files(EXPERIMENTS[exp].experiment.methods)
    return [path("evaluation", **ROOTS, instance=inst, seed=s, file=f)
            for inst in experiment_instances_of(exp) for s in SEEDS for f in files]


def variants_of(exp):
    """instance → variant name, for the experiment's table/figure labels."""
    return {inst: variant for variant, inst in EXPERIMENT_INSTANCES[exp].items()}


def sizes_of(exp):
    """instance → [N, M] of the experiment's instances."""
    return {inst: [int(instance_cfg(inst, 0).scenario.num_iotds), int(instance_cfg(inst, 0).scenario.num_servers)]
            for inst in experiment_instances_of(exp)}


def experiments_of(*reports):
    return [e for e, c in EXPERIMENTS.items() if c.experiment.report in reports]


# --------------------------------------------------------------------------- learner.smk
VARIANT_JOB = f"{INST}/{{variant}}"


def demos_input(wildcards):
    v = METHODS[wildcards.variant].options
    if v["imitation"] and str(v["demonstrator"]) == "levy":
        return p("demos").format(scenario=wildcards.scenario, seed=wildcards.seed)
    return []


def pretrained_input(wildcards):
    if METHODS[wildcards.variant].options["imitation"]:
        return p("model_file", name="{variant}", file="pretrained.pt").format(**wildcards)
    return []


# --------------------------------------------------------------------------- experiments.smk
OUTPUTS = {
    "table": path("table", results=RESULTS, experiment="{experiment}"),
    "table_md": path("table_md", results=RESULTS, experiment="{experiment}"),
    "figure": path("figure", results=RESULTS, experiment="{experiment}"),
    "figure_pdf": path("figure_pdf", results=RESULTS, experiment="{experiment}"),
    "figure_data": path("figure_data", results=RESULTS, experiment="{experiment}"),
}
CAPTION = "../report/experiment.rst"


def only(*reports):
    return "|".join(re.escape(e) for e in experiments_of(*reports)) or "__none__"


def exp_params(stage):
    """params of an experiment job: its config slice (rerun key), stage module, caption, labels, variants."""
    return dict(
        config=lambda wildcards: experiment_key(stage, wildcards.experiment),
        stage_module=stage_module(stage),
        caption=lambda wildcards: EXPERIMENTS[wildcards.experiment].experiment.caption,
        labels=lambda wildcards: labels(EXPERIMENTS[wildcards.experiment].experiment.methods),
        variants=lambda wildcards: variants_of(wildcards.experiment),
        sizes=lambda wildcards: sizes_of(wildcards.experiment),
    )


def base_files(kind, exp, **fields):
    """``kind`` of the experiment's base instance for every seed."""
    inst = experiment_instances_of(exp)[0]
    return [path(kind, **ROOTS, instance=inst, seed=s, **fields) for s in SEEDS]


def exp_variants(exp):
    return [str(m) for m in EXPERIMENTS[exp].experiment.methods]


def allocation_methods(wildcards):
    rows = []
    for exp in experiments_of("allocation"):
        if wildcards.scenario in experiment_instances_of(exp):
            rows += [m for m in exp_variants(exp) if m not in rows]
    return rows


REPORT_OUTPUTS = {
    "quality": ("table", "table_md"),
    "cost": ("table", "table_md"),
    "hetero": ("table", "table_md"),
    "allocation": ("table", "table_md"),
    "imitation": ("table", "table_md"),
    "time_energy": ("figure", "figure_pdf", "figure_data"),
    "objective_vs_n": ("figure", "figure_pdf", "figure_data"),
    "pretrain_loss": ("figure", "figure_pdf", "figure_data"),
    "training_reward": ("figure", "figure_pdf", "figure_data"),
    "levy_fitness": ("figure", "figure_pdf", "figure_data"),
    "scale": ("figure", "figure_pdf", "figure_data", "table", "table_md"),
}


def experiment_outputs(exp):
    kinds = REPORT_OUTPUTS[EXPERIMENTS[exp].experiment.report]
    return [OUTPUTS[k].format(experiment=exp) for k in kinds]
