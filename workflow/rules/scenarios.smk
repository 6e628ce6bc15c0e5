# Stage 1: freeze each instance's Hydra config; generate its scenario and channel samples.


# The frozen config reruns when the config it composes changes (a hash of it is a param), so
# editing one scenario's YAML reruns only that scenario's stages.
rule freeze_config:
    input:
        code=code("config.py", "system/params.py"),
    output:
        config=f"{RESULTS}/configs/{{scenario}}/seed{{seed}}.yaml",
    params:
        overrides=instance_overrides,
        config_hash=instance_config_hash,
    log:
        f"{RESULTS}/logs/freeze_config/{{scenario}}/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/freeze_config/{{scenario}}/seed{{seed}}.tsv"
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/freeze_config.py"


rule generate_scenario:
    input:
        config=rules.freeze_config.output.config,
        code=code("system/scenario.py", "system/channel.py", "stages/scenario.py"),
    output:
        scenario=f"{DATA}/scenarios/{{scenario}}/seed{{seed}}/scenario.json",
        channels=f"{DATA}/scenarios/{{scenario}}/seed{{seed}}/channels.npz",
    log:
        f"{RESULTS}/logs/generate_scenario/{{scenario}}/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/generate_scenario/{{scenario}}/seed{{seed}}.tsv"
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/generate_scenario.py"
