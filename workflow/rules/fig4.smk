# Fig. 4: fitness vs iteration of the classic and the proposed Lévy flight (medium scenario,
# every seed's training samples pooled), with the exact optimum.

FIG4_SCENARIO = "medium"


rule plot_fig4:
    input:
        config=f"{RESULTS}/configs/{FIG4_SCENARIO}/seed{SEEDS[0]}.yaml",
        scenario=expand(
            f"{DATA}/scenarios/{FIG4_SCENARIO}/seed{{seed}}/scenario.json", seed=SEEDS
        ),
        channels=expand(
            f"{DATA}/scenarios/{FIG4_SCENARIO}/seed{{seed}}/channels.npz", seed=SEEDS
        ),
        code=code(
            "solvers/levy.py",
            "solvers/costs.py",
            "solvers/oracle.py",
            "common.py",
            "stages/search.py",
            "report/figures.py",
        ),
    output:
        figure=report(f"{RESULTS}/figures/fig4.png", caption="../report/fig4.rst", category="Figures"),
        pdf=f"{RESULTS}/figures/fig4.pdf",
        data=f"{RESULTS}/figures/fig4.csv",
    log:
        f"{RESULTS}/logs/plot_fig4.log",
    benchmark:
        f"{RESULTS}/benchmarks/plot_fig4.tsv"
    conda:
        "../envs/dirs.yaml"
    script:
        "../scripts/plot_fig4.py"
