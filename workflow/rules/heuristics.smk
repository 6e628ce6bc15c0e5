# Stage 2: the exact optimum of every test sample, and the heuristic baselines against it.


rule solve_optimum:
    input:
        config=rules.freeze_config.output.config,
        scenario=rules.generate_scenario.output.scenario,
        channels=rules.generate_scenario.output.channels,
        code=code("solvers/oracle.py", "solvers/costs.py", "system/allocation.py", "system/cost.py"),
    output:
        optimum=f"{RESULTS}/evaluations/{{scenario}}/seed{{seed}}/optimum.npz",
    log:
        f"{RESULTS}/logs/solve_optimum/{{scenario}}/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/solve_optimum/{{scenario}}/seed{{seed}}.tsv"
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/solve_optimum.py"


rule evaluate_heuristics:
    input:
        config=rules.freeze_config.output.config,
        scenario=rules.generate_scenario.output.scenario,
        channels=rules.generate_scenario.output.channels,
        optimum=rules.solve_optimum.output.optimum,
        code=code("solvers/heuristics.py", "evaluation.py", "stages/heuristics.py"),
    output:
        table=f"{RESULTS}/evaluations/{{scenario}}/seed{{seed}}/heuristics.csv",
    log:
        f"{RESULTS}/logs/evaluate_heuristics/{{scenario}}/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate_heuristics/{{scenario}}/seed{{seed}}.tsv"
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/evaluate_heuristics.py"


rule heuristics:
    input:
        per_instance(f"{RESULTS}/evaluations/{{scenario}}/seed{{seed}}/heuristics.csv"),
