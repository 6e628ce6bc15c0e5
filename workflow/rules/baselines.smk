# Stage 3: DRL baselines (paper §V-D): AC (SB3 A2C), DDPG (SB3 DDPG), MADDPG (PyTorch), trained on
# the training samples with DIRS's interaction budget, evaluated like the heuristics.


wildcard_constraints:
    algo="ac|ddpg|maddpg",


rule train_baseline:
    input:
        config=rules.freeze_config.output.config,
        scenario=rules.generate_scenario.output.scenario,
        channels=rules.generate_scenario.output.channels,
        code=code("baselines/__init__.py", "baselines/env.py", "baselines/sb3.py", "baselines/maddpg.py",
                  "learn/vote.py", "stages/baselines.py"),
    output:
        model=directory(f"{RESULTS}/models/{{scenario}}/seed{{seed}}/{{algo}}"),
    params:
        algo="{algo}",
        threads=lambda wildcards, threads: threads,
    threads: 1
    log:
        f"{RESULTS}/logs/train_baseline/{{scenario}}/seed{{seed}}/{{algo}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_baseline/{{scenario}}/seed{{seed}}/{{algo}}.tsv"
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/train_baseline.py"


rule evaluate_baseline:
    input:
        config=rules.freeze_config.output.config,
        scenario=rules.generate_scenario.output.scenario,
        channels=rules.generate_scenario.output.channels,
        optimum=rules.solve_optimum.output.optimum,
        model=rules.train_baseline.output.model,
        code=code("baselines/__init__.py", "baselines/env.py", "baselines/sb3.py", "baselines/maddpg.py",
                  "evaluation.py", "stages/baselines.py"),
    output:
        table=f"{RESULTS}/evaluations/{{scenario}}/seed{{seed}}/{{algo}}.csv",
    params:
        algo="{algo}",
        threads=lambda wildcards, threads: threads,
    threads: 1
    log:
        f"{RESULTS}/logs/evaluate_baseline/{{scenario}}/seed{{seed}}/{{algo}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate_baseline/{{scenario}}/seed{{seed}}/{{algo}}.tsv"
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/evaluate_baseline.py"


rule baselines:
    input:
        expand(
            f"{RESULTS}/evaluations/{{scenario}}/seed{{seed}}/{{algo}}.csv",
            scenario=list(BASE.baseline.scenarios),
            seed=SEEDS,
            algo=list(BASE.baseline.algorithms),
        ),
