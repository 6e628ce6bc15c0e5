# Stage 3: imitation demonstrations (h, a*) from the training channel samples (paper Alg. 2).


rule generate_demos:
    input:
        config=rules.freeze_config.output.config,
        scenario=rules.generate_scenario.output.scenario,
        channels=rules.generate_scenario.output.channels,
        code=code(
            "solvers/levy.py",
            "solvers/costs.py",
            "solvers/heuristics.py",
            "solvers/oracle.py",
            "common.py",
            "stages/search.py",
        ),
    output:
        demos=f"{DATA}/demos/{{scenario}}/seed{{seed}}/demos.npz",
    log:
        f"{RESULTS}/logs/generate_demos/{{scenario}}/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/generate_demos/{{scenario}}/seed{{seed}}.tsv"
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/generate_demos.py"


rule demos:
    input:
        per_instance(f"{DATA}/demos/{{scenario}}/seed{{seed}}/demos.npz"),
