# DIRS (paper §IV): imitation pre-training, online ensemble training, evaluation on the test samples,
# Table II's imitation accuracy. Variants (conf/dirs/*.yaml, `variants:`) are registered methods.

rule pretrain_agents:
    input:
        scenario=rules.generate_scenario.output.scenario,
        channels=rules.generate_scenario.output.channels,
        demos=demos_input,
        code=code("pretrain_agents"),
    output:
        pretrained=p("model_file", name="{variant}", file="pretrained.pt"),
        losses=p("model_file", name="{variant}", file="pretrain_loss.csv"),
    params:
        config=key("pretrain_agents", "variant"),
        stage_module=stage_module("pretrain_agents"),
        variant="{variant}",
    log:
        log_of("pretrain_agents", VARIANT_JOB),
    benchmark:
        benchmark_of("pretrain_agents", VARIANT_JOB)
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"


rule train_agents:
    input:
        scenario=rules.generate_scenario.output.scenario,
        channels=rules.generate_scenario.output.channels,
        pretrained=pretrained_input,
        code=code("train_agents"),
    output:
        policy=p("model_file", name="{variant}", file="policy.pt"),
        meta=p("model_file", name="{variant}", file="policy.json"),
        curve=p("model_file", name="{variant}", file="training.csv"),
        last=p("model_file", name="{variant}", file="last.pt"),
    params:
        config=key("train_agents", "variant"),
        stage_module=stage_module("train_agents"),
        variant="{variant}",
    log:
        log_of("train_agents", VARIANT_JOB),
    benchmark:
        benchmark_of("train_agents", VARIANT_JOB)
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"


rule evaluate_policy:
    input:
        scenario=rules.generate_scenario.output.scenario,
        channels=rules.generate_scenario.output.channels,
        optimum=rules.solve_optimum.output.optimum,
        policy=rules.train_agents.output.policy,
        meta=rules.train_agents.output.meta,
        last=rules.train_agents.output.last,
        pretrained=pretrained_input,
        code=code("evaluate_policy"),
    output:
        table=p("evaluation", file="policy_{variant}.csv"),
    params:
        config=key("evaluate_policy", "variant"),
        stage_module=stage_module("evaluate_policy"),
        variant="{variant}",
    log:
        log_of("evaluate_policy", VARIANT_JOB),
    benchmark:
        benchmark_of("evaluate_policy", VARIANT_JOB)
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"


rule imitation_table:
    input:
        scenario=rules.generate_scenario.output.scenario,
        channels=rules.generate_scenario.output.channels,
        demos=rules.generate_demos.output.demos,
        code=code("imitation_table"),
    output:
        table=p("evaluation", file="imitation_{variant}.csv"),
    params:
        config=key("imitation_table", "variant"),
        stage_module=stage_module("imitation_table"),
        variant="{variant}",
    log:
        log_of("imitation_table", VARIANT_JOB),
    benchmark:
        benchmark_of("imitation_table", VARIANT_JOB)
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"
