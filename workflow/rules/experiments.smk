# Tables and figures: one rule per report kind; every experiment of the profile
# (conf/experiment/<id>.yaml: report, base, variants, methods, caption) is one job of the rule of its
# kind, and its id is also a target (`snakemake --cores 8 table3`). Inputs come from its `methods:`.

rule evaluate_allocation:
    input:
        scenario=rules.generate_scenario.output.scenario,
        channels=rules.generate_scenario.output.channels,
        optimum=rules.solve_optimum.output.optimum,
        policy=p("model_file", name="dirs", file="policy.pt"),
        code=code("evaluate_allocation"),
    output:
        table=p("evaluation", file="allocation.csv"),
    params:
        config=key("evaluate_allocation"),
        stage_module=stage_module("evaluate_allocation"),
        methods=allocation_methods,
    log:
        log_of("evaluate_allocation", INST),
    benchmark:
        benchmark_of("evaluate_allocation", INST)
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"


# --------------------------------------------------------------------------- tables
rule make_quality_table:
    wildcard_constraints:
        experiment=only("quality"),
    input:
        evaluations=lambda wildcards: experiment_evaluations(wildcards.experiment),
        code=code("make_quality_table"),
    output:
        table=OUTPUTS["table"],
        markdown=report(OUTPUTS["table_md"], caption=CAPTION, category="Tables"),
    params:
        **exp_params("make_quality_table"),
    log:
        log_of("make_quality_table", "{experiment}"),
    benchmark:
        benchmark_of("make_quality_table", "{experiment}")
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"


rule make_cost_table:
    wildcard_constraints:
        experiment=only("cost"),
    input:
        evaluations=lambda wildcards: experiment_evaluations(wildcards.experiment),
        code=code("make_cost_table"),
    output:
        table=OUTPUTS["table"],
        markdown=report(OUTPUTS["table_md"], caption=CAPTION, category="Tables"),
    params:
        **exp_params("make_cost_table"),
    log:
        log_of("make_cost_table", "{experiment}"),
    benchmark:
        benchmark_of("make_cost_table", "{experiment}")
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"


rule make_ablation:
    wildcard_constraints:
        experiment=only("allocation"),
    input:
        evaluations=lambda wildcards: experiment_evaluations(wildcards.experiment, ["allocation.csv"]),
        code=code("make_ablation"),
    output:
        table=OUTPUTS["table"],
        markdown=report(OUTPUTS["table_md"], caption=CAPTION, category="Tables"),
    params:
        **exp_params("make_ablation"),
    log:
        log_of("make_ablation", "{experiment}"),
    benchmark:
        benchmark_of("make_ablation", "{experiment}")
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"


rule make_imitation_table:
    wildcard_constraints:
        experiment=only("imitation"),
    input:
        evaluations=lambda wildcards: base_files(
            "evaluation", wildcards.experiment, file=f"imitation_{exp_variants(wildcards.experiment)[0]}.csv"
        ),
        code=code("make_imitation_table"),
    output:
        table=OUTPUTS["table"],
        markdown=report(OUTPUTS["table_md"], caption=CAPTION, category="Tables"),
    params:
        **exp_params("make_imitation_table"),
    log:
        log_of("make_imitation_table", "{experiment}"),
    benchmark:
        benchmark_of("make_imitation_table", "{experiment}")
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"


rule make_hetero_table:
    wildcard_constraints:
        experiment=only("hetero"),
    input:
        evaluations=lambda wildcards: experiment_evaluations(wildcards.experiment),
        optima=lambda wildcards: [
            path("optimum", **ROOTS, instance=inst, seed=s)
            for inst in experiment_instances_of(wildcards.experiment)
            for s in SEEDS
        ],
        code=code("make_hetero_table"),
    output:
        table=OUTPUTS["table"],
        markdown=report(OUTPUTS["table_md"], caption=CAPTION, category="Tables"),
    params:
        **exp_params("make_hetero_table"),
    log:
        log_of("make_hetero_table", "{experiment}"),
    benchmark:
        benchmark_of("make_hetero_table", "{experiment}")
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"


# --------------------------------------------------------------------------- figures
rule plot_time_energy:
    wildcard_constraints:
        experiment=only("time_energy"),
    input:
        evaluations=lambda wildcards: experiment_evaluations(wildcards.experiment),
        code=code("plot_time_energy"),
    output:
        figure=report(OUTPUTS["figure"], caption=CAPTION, category="Figures"),
        pdf=OUTPUTS["figure_pdf"],
        data=OUTPUTS["figure_data"],
    params:
        **exp_params("plot_time_energy"),
    log:
        log_of("plot_time_energy", "{experiment}"),
    benchmark:
        benchmark_of("plot_time_energy", "{experiment}")
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"


rule plot_objective_vs_n:
    wildcard_constraints:
        experiment=only("objective_vs_n"),
    input:
        evaluations=lambda wildcards: experiment_evaluations(wildcards.experiment),
        code=code("plot_objective_vs_n"),
    output:
        figure=report(OUTPUTS["figure"], caption=CAPTION, category="Figures"),
        pdf=OUTPUTS["figure_pdf"],
        data=OUTPUTS["figure_data"],
    params:
        **exp_params("plot_objective_vs_n"),
    log:
        log_of("plot_objective_vs_n", "{experiment}"),
    benchmark:
        benchmark_of("plot_objective_vs_n", "{experiment}")
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"


rule plot_scale:
    wildcard_constraints:
        experiment=only("scale"),
    input:
        evaluations=lambda wildcards: experiment_evaluations(wildcards.experiment),
        code=code("plot_scale"),
    output:
        figure=report(OUTPUTS["figure"], caption=CAPTION, category="Figures"),
        pdf=OUTPUTS["figure_pdf"],
        data=OUTPUTS["figure_data"],
        table=OUTPUTS["table"],
        markdown=report(OUTPUTS["table_md"], caption=CAPTION, category="Tables"),
    params:
        **exp_params("plot_scale"),
    log:
        log_of("plot_scale", "{experiment}"),
    benchmark:
        benchmark_of("plot_scale", "{experiment}")
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"


rule plot_pretrain_loss:
    wildcard_constraints:
        experiment=only("pretrain_loss"),
    input:
        losses=lambda wildcards: [
            f"{m}/pretrain_loss.csv"
            for m in base_files("model", wildcards.experiment, name=exp_variants(wildcards.experiment)[0])
        ],
        code=code("plot_pretrain_loss"),
    output:
        figure=report(OUTPUTS["figure"], caption=CAPTION, category="Figures"),
        pdf=OUTPUTS["figure_pdf"],
        data=OUTPUTS["figure_data"],
    params:
        **exp_params("plot_pretrain_loss"),
    log:
        log_of("plot_pretrain_loss", "{experiment}"),
    benchmark:
        benchmark_of("plot_pretrain_loss", "{experiment}")
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"


rule plot_training_reward:
    wildcard_constraints:
        experiment=only("training_reward"),
    input:
        curves=lambda wildcards: [
            f"{m}/training.csv"
            for v in exp_variants(wildcards.experiment)
            for m in base_files("model", wildcards.experiment, name=v)
        ],
        code=code("plot_training_reward"),
    output:
        figure=report(OUTPUTS["figure"], caption=CAPTION, category="Figures"),
        pdf=OUTPUTS["figure_pdf"],
        data=OUTPUTS["figure_data"],
    params:
        **exp_params("plot_training_reward"),
    log:
        log_of("plot_training_reward", "{experiment}"),
    benchmark:
        benchmark_of("plot_training_reward", "{experiment}")
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"


rule plot_levy_fitness:
    wildcard_constraints:
        experiment=only("levy_fitness"),
    input:
        scenario=lambda wildcards: base_files("scenario", wildcards.experiment),
        channels=lambda wildcards: base_files("channels", wildcards.experiment),
        code=code("plot_levy_fitness"),
    output:
        figure=report(OUTPUTS["figure"], caption=CAPTION, category="Figures"),
        pdf=OUTPUTS["figure_pdf"],
        data=OUTPUTS["figure_data"],
    params:
        **exp_params("plot_levy_fitness"),
    log:
        log_of("plot_levy_fitness", "{experiment}"),
    benchmark:
        benchmark_of("plot_levy_fitness", "{experiment}")
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/run_stage.py"


# --------------------------------------------------------------------------- targets
for _exp in EXPERIMENTS:

    rule:
        name:
            _exp
        input:
            experiment_outputs(_exp),


rule experiments:
    input:
        [f for e in EXPERIMENTS for f in experiment_outputs(e)],
