# DIRS: the experiment workflow. Thin by design: every stage lives in workflow/rules/*.smk, every
# rule calls one dirs function through workflow/scripts/*.py. See README.md.
#   snakemake --cores 8                           # the paper profile (default)
#   snakemake --cores 8 --config profile=smoke    # tiny sizes (CI)
from snakemake.utils import min_version

min_version("9.0")


configfile: "workflow/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/tracking.smk"
include: "workflow/rules/scenarios.smk"
include: "workflow/rules/heuristics.smk"
include: "workflow/rules/demos.smk"
include: "workflow/rules/fig4.smk"
include: "workflow/rules/baselines.smk"
include: "workflow/rules/learner.smk"
include: "workflow/rules/search_eval.smk"
include: "workflow/rules/experiments.smk"


rule all:
    default_target: True
    input:
        rules.heuristics.input,
        rules.demos.input,
        rules.plot_fig4.output,
        rules.baselines.input,
        rules.learner.input,
        rules.experiments.input,
