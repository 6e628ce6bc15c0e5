# Stage 4: DIRS agents — imitation pre-training, online ensemble training, evaluation on the test
# samples, Table II (imitation accuracy), Fig. 3 and Fig. 5 (medium). Variants: conf dirs.variants.


include: "learner_common.smk"


rule pretrain_agents:
    input:
        config=rules.freeze_config.output.config,
        scenario=rules.generate_scenario.output.scenario,
        channels=rules.generate_scenario.output.channels,
        demos=demos_input,
        code=code("learn/agents.py", "learn/replay.py", "learn/training.py", "stages/learner.py"),
    output:
        pretrained=f"{MODELS}/pretrained.pt",
        losses=f"{MODELS}/pretrain_loss.csv",
    params:
        variant="{variant}",
    log:
        f"{RESULTS}/logs/pretrain_agents/{{scenario}}/seed{{seed}}/{{variant}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/pretrain_agents/{{scenario}}/seed{{seed}}/{{variant}}.tsv"
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/pretrain_agents.py"


rule train_agents:
    input:
        config=rules.freeze_config.output.config,
        scenario=rules.generate_scenario.output.scenario,
        channels=rules.generate_scenario.output.channels,
        pretrained=pretrained_input,
        code=code(
            "learn/agents.py",
            "learn/replay.py",
            "learn/training.py",
            "solvers/levy.py",
            "stages/learner.py",
        ),
    output:
        policy=f"{MODELS}/policy.pt",
        meta=f"{MODELS}/policy.json",
        curve=f"{MODELS}/training.csv",
        last=f"{MODELS}/last.pt",
    params:
        variant="{variant}",
    log:
        f"{RESULTS}/logs/train_agents/{{scenario}}/seed{{seed}}/{{variant}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_agents/{{scenario}}/seed{{seed}}/{{variant}}.tsv"
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/train_agents.py"


rule evaluate_policy:
    input:
        config=rules.freeze_config.output.config,
        scenario=rules.generate_scenario.output.scenario,
        channels=rules.generate_scenario.output.channels,
        optimum=rules.solve_optimum.output.optimum,
        policy=rules.train_agents.output.policy,
        meta=rules.train_agents.output.meta,
        last=rules.train_agents.output.last,
        pretrained=pretrained_input,
        code=code("learn/agents.py", "solvers/local_search.py", "evaluation.py", "stages/learner.py"),
    output:
        table=f"{RESULTS}/evaluations/{{scenario}}/seed{{seed}}/policy_{{variant}}.csv",
    params:
        variant="{variant}",
    log:
        f"{RESULTS}/logs/evaluate_policy/{{scenario}}/seed{{seed}}/{{variant}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate_policy/{{scenario}}/seed{{seed}}/{{variant}}.tsv"
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/evaluate_policy.py"


rule imitation_table:
    input:
        config=rules.freeze_config.output.config,
        scenario=rules.generate_scenario.output.scenario,
        channels=rules.generate_scenario.output.channels,
        demos=rules.generate_demos.output.demos,
        code=code("learn/training.py", "stages/learner.py", "stages/search.py"),
    output:
        table=f"{RESULTS}/evaluations/{{scenario}}/seed{{seed}}/imitation.csv",
    log:
        f"{RESULTS}/logs/imitation_table/{{scenario}}/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/imitation_table/{{scenario}}/seed{{seed}}.tsv"
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/imitation_table.py"


rule learning_report:
    input:
        config=f"{RESULTS}/configs/{FIG_SCENARIO}/seed{SEEDS[0]}.yaml",
        table2=expand(f"{RESULTS}/evaluations/{FIG_SCENARIO}/seed{{seed}}/imitation.csv", seed=SEEDS),
        pretrain_losses=expand(
            f"{RESULTS}/models/{FIG_SCENARIO}/seed{{seed}}/dirs/pretrain_loss.csv", seed=SEEDS
        ),
        curves=expand(
            f"{RESULTS}/models/{FIG_SCENARIO}/seed{{seed}}/{{variant}}/training.csv",
            seed=SEEDS,
            variant=["ensemble-egreedy", "ensemble-levy", "dirs"],
        ),
        code=code("report/learning.py", "stages/learning_report.py"),
    output:
        table2_out=f"{RESULTS}/tables/table2.csv",
        table2_md=report(f"{RESULTS}/tables/table2.md", caption="../report/table2.rst", category="Tables"),
        fig3_csv=f"{RESULTS}/tables/fig3.csv",
        fig5_csv=f"{RESULTS}/tables/fig5.csv",
        fig3_png=report(f"{RESULTS}/figures/fig3.png", caption="../report/fig3.rst", category="Figures"),
        fig3_pdf=f"{RESULTS}/figures/fig3.pdf",
        fig5_png=report(f"{RESULTS}/figures/fig5.png", caption="../report/fig5.rst", category="Figures"),
        fig5_pdf=f"{RESULTS}/figures/fig5.pdf",
    log:
        f"{RESULTS}/logs/learning_report/report.log",
    benchmark:
        f"{RESULTS}/benchmarks/learning_report/report.tsv"
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/learning_report.py"


rule learner:
    input:
        learner_targets(),
        rules.learning_report.output,
