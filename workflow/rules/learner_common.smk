# Helpers of workflow/rules/learner.smk: DIRS variants, optional inputs, aggregate targets.


DIRS_CFG = BASE.dirs
DIRS_MODELS = list(DIRS_CFG.models)
DIRS_ABLATIONS = list(DIRS_CFG.ablations)
FIG_SCENARIO = str(DIRS_CFG.figure_scenario)
MODELS = f"{RESULTS}/models/{{scenario}}/seed{{seed}}/{{variant}}"


wildcard_constraints:
    variant="|".join(sorted(DIRS_CFG.variants)),


def dirs_variant(wildcards):
    return DIRS_CFG.variants[wildcards.variant]


def demos_input(wildcards):
    v = dirs_variant(wildcards)
    if v.imitation and str(v.demonstrator) == "levy":
        return rules.generate_demos.output.demos.format(scenario=wildcards.scenario, seed=wildcards.seed)
    return []


def pretrained_input(wildcards):
    if dirs_variant(wildcards).imitation:
        return f"{RESULTS}/models/{wildcards.scenario}/seed{wildcards.seed}/{wildcards.variant}/pretrained.pt"
    return []


def learner_targets():
    """Evaluations of every model variant on the profile's scenarios, the ablations on the figure
    scenario (the experiments pull in the `dirs` variant on their own scenario variants)."""
    out = expand(
        f"{RESULTS}/evaluations/{{scenario}}/seed{{seed}}/policy_{{variant}}.csv",
        scenario=list(BASE.profile.scenarios),
        seed=SEEDS,
        variant=DIRS_MODELS,
    )
    if FIG_SCENARIO in INSTANCES:
        out += expand(
            f"{RESULTS}/evaluations/{FIG_SCENARIO}/seed{{seed}}/policy_{{variant}}.csv",
            seed=SEEDS,
            variant=DIRS_ABLATIONS,
        )
    return out
