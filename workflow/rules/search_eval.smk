# Stage: PSO / DE / Lévy flight evaluated on held-out samples (Table V; NRR vs PSO everywhere).

rule evaluate_search:
    input:
        config=rules.freeze_config.output.config,
        scenario=rules.generate_scenario.output.scenario,
        channels=rules.generate_scenario.output.channels,
        optimum=rules.solve_optimum.output.optimum,
        code=code("solvers/swarm.py", "solvers/levy.py", "stages/search_eval.py"),
    output:
        table=f"{RESULTS}/evaluations/{{scenario}}/seed{{seed}}/search.csv",
    params:
        methods=search_methods,
    log:
        f"{RESULTS}/logs/evaluate_search/{{scenario}}/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate_search/{{scenario}}/seed{{seed}}.tsv"
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/evaluate_search.py"
