# Stage family: the paper's Tables III–V and Figs. 6–7 from the per-seed evaluations of every
# instance (scenario variant) of each experiment. Table II, Figs. 3–5 come from the learner and
# search families (learner.smk, fig4.smk).


rule freeze_experiment:
    input:
        code=code("config.py"),
    output:
        config=f"{RESULTS}/configs/experiments/{{experiment}}.yaml",
    params:
        overrides=experiment_overrides,
        config_hash=experiment_config_hash,
    log:
        f"{RESULTS}/logs/freeze_experiment/{{experiment}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/freeze_experiment/{{experiment}}.tsv"
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/freeze_config.py"


rule make_table3:
    input:
        config=f"{RESULTS}/configs/experiments/table3.yaml",
        evaluations=evaluations_of("table3", QUALITY_FILES),
        code=code("report/experiments.py", "report/tables.py", "report/paper.py", "stages/experiments.py"),
    output:
        table=f"{RESULTS}/tables/table3.csv",
        markdown=report(f"{RESULTS}/tables/table3.md", caption="../report/table3.rst", category="Tables"),
    params:
        variants=variants_of("table3"),
    log:
        f"{RESULTS}/logs/make_table3.log",
    benchmark:
        f"{RESULTS}/benchmarks/make_table3.tsv"
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/make_table3.py"


rule make_table4:
    input:
        config=f"{RESULTS}/configs/experiments/table4.yaml",
        evaluations=evaluations_of("table4", QUALITY_FILES),
        code=code("report/experiments.py", "report/tables.py", "report/paper.py", "stages/experiments.py"),
    output:
        table=f"{RESULTS}/tables/table4.csv",
        markdown=report(f"{RESULTS}/tables/table4.md", caption="../report/table4.rst", category="Tables"),
    params:
        variants=variants_of("table4"),
    log:
        f"{RESULTS}/logs/make_table4.log",
    benchmark:
        f"{RESULTS}/benchmarks/make_table4.tsv"
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/make_table4.py"


rule make_table5:
    input:
        config=f"{RESULTS}/configs/experiments/table5.yaml",
        evaluations=evaluations_of("table5", QUALITY_FILES + BASELINE_FILES),
        code=code("report/experiments.py", "report/tables.py", "report/paper.py", "stages/experiments.py"),
    output:
        table=f"{RESULTS}/tables/table5.csv",
        markdown=report(f"{RESULTS}/tables/table5.md", caption="../report/table5.rst", category="Tables"),
    params:
        variants=variants_of("table5"),
    log:
        f"{RESULTS}/logs/make_table5.log",
    benchmark:
        f"{RESULTS}/benchmarks/make_table5.tsv"
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/make_table5.py"


rule plot_fig6:
    input:
        config=f"{RESULTS}/configs/experiments/fig6.yaml",
        evaluations=evaluations_of("fig6", ["heuristics.csv", "policy_dirs.csv"]),
        code=code("report/experiments.py", "report/figures.py", "stages/experiments.py"),
    output:
        figure=report(f"{RESULTS}/figures/fig6.png", caption="../report/fig6.rst", category="Figures"),
        data=f"{RESULTS}/figures/fig6.csv",
    params:
        variants=variants_of("fig6"),
    log:
        f"{RESULTS}/logs/plot_fig6.log",
    benchmark:
        f"{RESULTS}/benchmarks/plot_fig6.tsv"
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/plot_fig6.py"


rule plot_fig7:
    input:
        config=f"{RESULTS}/configs/experiments/fig7.yaml",
        evaluations=evaluations_of("fig7", ["heuristics.csv", "policy_dirs.csv", "maddpg.csv"]),
        code=code("report/experiments.py", "report/figures.py", "stages/experiments.py"),
    output:
        figure=report(f"{RESULTS}/figures/fig7.png", caption="../report/fig7.rst", category="Figures"),
        data=f"{RESULTS}/figures/fig7.csv",
    params:
        variants=variants_of("fig7"),
        sizes={
            inst: int(float(_overrides_value(inst, "scenario.num_iotds", XLARGE_N)))
            for inst in experiment_instances_of("fig7")
        },
    log:
        f"{RESULTS}/logs/plot_fig7.log",
    benchmark:
        f"{RESULTS}/benchmarks/plot_fig7.tsv"
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/plot_fig7.py"


rule evaluate_allocation:
    input:
        config=rules.freeze_config.output.config,
        scenario=rules.generate_scenario.output.scenario,
        channels=rules.generate_scenario.output.channels,
        optimum=rules.solve_optimum.output.optimum,
        policy=f"{RESULTS}/models/{{scenario}}/seed{{seed}}/dirs/policy.pt",
        code=code("solvers/levy.py", "learn/agents.py", "stages/ablation.py"),
    output:
        table=f"{RESULTS}/evaluations/{{scenario}}/seed{{seed}}/allocation.csv",
    log:
        f"{RESULTS}/logs/evaluate_allocation/{{scenario}}/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate_allocation/{{scenario}}/seed{{seed}}.tsv"
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/evaluate_allocation.py"


rule make_ablation:
    input:
        config=f"{RESULTS}/configs/experiments/ablation.yaml",
        evaluations=evaluations_of("ablation", ["allocation.csv"]),
        code=code("report/experiments.py", "report/tables.py", "stages/experiments.py"),
    output:
        table=f"{RESULTS}/tables/ablation.csv",
        markdown=report(f"{RESULTS}/tables/ablation.md", caption="../report/ablation.rst", category="Tables"),
    log:
        f"{RESULTS}/logs/make_ablation.log",
    benchmark:
        f"{RESULTS}/benchmarks/make_ablation.tsv"
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/make_ablation.py"


rule plot_scale:
    input:
        config=f"{RESULTS}/configs/experiments/scale.yaml",
        evaluations=evaluations_of("scale", ["heuristics.csv", "policy_dirs.csv"]),
        code=code("report/experiments.py", "report/figures.py", "stages/experiments.py"),
    output:
        figure=report(f"{RESULTS}/figures/scale.png", caption="../report/scale.rst", category="Figures"),
        data=f"{RESULTS}/figures/scale.csv",
        table=f"{RESULTS}/tables/scale.csv",
        markdown=report(f"{RESULTS}/tables/scale.md", caption="../report/scale_table.rst", category="Tables"),
    params:
        sizes={
            inst: [
                int(float(_overrides_value(inst, "scenario.num_iotds", XLARGE_N))),
                int(float(_overrides_value(inst, "scenario.num_servers", XLARGE_M))),
            ]
            for inst in experiment_instances_of("scale")
        },
    log:
        f"{RESULTS}/logs/plot_scale.log",
    benchmark:
        f"{RESULTS}/benchmarks/plot_scale.tsv"
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/plot_scale.py"


rule table3:
    input:
        rules.make_table3.output,


rule table4:
    input:
        rules.make_table4.output,


rule table5:
    input:
        rules.make_table5.output,


rule fig6:
    input:
        rules.plot_fig6.output,


rule fig7:
    input:
        rules.plot_fig7.output,


rule ablation:
    input:
        rules.make_ablation.output,


rule scale:
    input:
        rules.plot_scale.output,


rule experiments:
    input:
        rules.make_table3.output,
        rules.make_table4.output,
        rules.make_table5.output,
        rules.plot_fig6.output,
        rules.plot_fig7.output,
        rules.make_ablation.output,
        rules.plot_scale.output,
