# Per-instance stages: scenario and channel samples, the reference optimum, every registered
# method without training (reference, heuristics, searches), demonstrations for imitation.


rule generate_scenario:
    input:
        code=code("generate_scenario"),
    output:
        scenario=p("scenario"),
        channels=p("channels"),
    params:
        config=key("generate_scenario"),
        stage_module=stage_module("generate_scenario"),
    log:
        log_of("generate_scenario", INST),
    benchmark:
        benchmark_of("generate_scenario", INST)
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"


rule solve_optimum:
    input:
        scenario=rules.generate_scenario.output.scenario,
        channels=rules.generate_scenario.output.channels,
        code=code("solve_optimum"),
    output:
        optimum=p("optimum"),
    params:
        config=key("solve_optimum"),
        stage_module=stage_module("solve_optimum"),
    log:
        log_of("solve_optimum", INST),
    benchmark:
        benchmark_of("solve_optimum", INST)
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"


rule evaluate_method:
    input:
        scenario=rules.generate_scenario.output.scenario,
        channels=rules.generate_scenario.output.channels,
        optimum=rules.solve_optimum.output.optimum,
        code=code("evaluate_method", "method"),
    output:
        table=p("evaluation", file="{method}.csv"),
    params:
        config=key("evaluate_method", "method"),
        stage_module=stage_module("evaluate_method"),
        method="{method}",
        method_module=lambda wildcards: METHODS[wildcards.method].module,
    log:
        log_of("evaluate_method", f"{INST}/{{method}}"),
    benchmark:
        benchmark_of("evaluate_method", f"{INST}/{{method}}")
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"


rule generate_demos:
    input:
        scenario=rules.generate_scenario.output.scenario,
        channels=rules.generate_scenario.output.channels,
        code=code("generate_demos"),
    output:
        demos=p("demos"),
    params:
        config=key("generate_demos"),
        stage_module=stage_module("generate_demos"),
    log:
        log_of("generate_demos", INST),
    benchmark:
        benchmark_of("generate_demos", INST)
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"


rule evaluations:
    input:
        instance_evaluations(),
