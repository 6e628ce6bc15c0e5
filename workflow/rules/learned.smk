# Learned schedulers of our own (kind `learned`, e.g. the any-size scheduler of issue [anysize]):
# trained once on their own mixture of sizes, evaluated zero-shot on every instance that lists them.


rule train_anysize:
    input:
        code=code("train_anysize"),
    output:
        model=directory(f"{RESULTS}/models/anysize"),
    params:
        config=lambda wildcards: config_slice(BASE, STAGES["train_anysize"].all_reads()),
        stage_module=stage_module("train_anysize"),
    log:
        log_of("train_anysize", "anysize"),
    benchmark:
        benchmark_of("train_anysize", "anysize")
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"


rule evaluate_learned:
    input:
        scenario=rules.generate_scenario.output.scenario,
        channels=rules.generate_scenario.output.channels,
        optimum=rules.solve_optimum.output.optimum,
        model=f"{RESULTS}/models/{{learned}}",
        code=code("evaluate_learned", "learned"),
    output:
        table=p("evaluation", file="{learned}.csv"),
    params:
        config=key("evaluate_learned"),
        stage_module=stage_module("evaluate_learned"),
        method="{learned}",
        method_module=lambda wildcards: METHODS[wildcards.learned].module,
    log:
        log_of("evaluate_learned", f"{INST}/{{learned}}"),
    benchmark:
        benchmark_of("evaluate_learned", f"{INST}/{{learned}}")
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"
