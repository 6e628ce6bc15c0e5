# DIRS: the experiment workflow. Thin by design: every stage lives in workflow/rules/*.smk and every
# rule calls its dirs stage through the one script workflow/scripts/run_stage.py. See README.md.
#   snakemake --cores 8                           # the paper profile (default)
#   snakemake --cores 8 --config profile=smoke    # tiny sizes (CI)
from snakemake.utils import min_version

min_version("9.0")


configfile: "workflow/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/tracking.smk"
include: "workflow/rules/instances.smk"
include: "workflow/rules/learner.smk"
include: "workflow/rules/baselines.smk"
include: "workflow/rules/learned.smk"
include: "workflow/rules/experiments.smk"


rule all:
    default_target: True
    input:
        rules.evaluations.input,
        rules.experiments.input,
