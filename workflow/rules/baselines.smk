# DRL baselines (paper §V-D; registered methods of kind `drl`): trained on the training samples with
# DIRS's interaction budget, evaluated like every other method.

ALGO_JOB = f"{INST}/{{algo}}"


rule train_baseline:
    input:
        scenario=rules.generate_scenario.output.scenario,
        channels=rules.generate_scenario.output.channels,
        code=code("train_baseline", "algo"),
    output:
        model=directory(p("model", name="{algo}")),
    params:
        config=key("train_baseline", "algo"),
        stage_module=stage_module("train_baseline"),
        algo="{algo}",
        method_module=lambda wildcards: METHODS[wildcards.algo].module,
        threads=lambda wildcards, threads: threads,
    threads: 1
    log:
        log_of("train_baseline", ALGO_JOB),
    benchmark:
        benchmark_of("train_baseline", ALGO_JOB)
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"


rule evaluate_baseline:
    input:
        scenario=rules.generate_scenario.output.scenario,
        channels=rules.generate_scenario.output.channels,
        optimum=rules.solve_optimum.output.optimum,
        model=rules.train_baseline.output.model,
        code=code("evaluate_baseline", "algo"),
    output:
        table=p("evaluation", file="{algo}.csv"),
    params:
        config=key("evaluate_baseline", "algo"),
        stage_module=stage_module("evaluate_baseline"),
        algo="{algo}",
        method_module=lambda wildcards: METHODS[wildcards.algo].module,
        threads=lambda wildcards, threads: threads,
    threads: 1
    log:
        log_of("evaluate_baseline", ALGO_JOB),
    benchmark:
        benchmark_of("evaluate_baseline", ALGO_JOB)
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"
