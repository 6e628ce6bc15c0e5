"""A researcher's own method and experiment, as data: a module outside dirs/ registers a heuristic,
one experiment YAML names it, and the smoke workflow puts it in a table beside the optimum."""

import textwrap

import pandas as pd
import pytest
from test_workflow import copy_workflow, planned_jobs, snakemake

TOY_METHOD = '''
"""A toy scheduler of a user's own: every IoTD offloads to its strongest server (no capacity rule)."""
from dirs.methods import register


@register("strongest", label="Strongest server (toy)", kind="heuristic")
def strongest(cfg, params, rng):
    return lambda gains: gains.argmax(-1) + 1
'''

TOY_EXPERIMENT = """
# @package experiment
id: toy
title: "Toy: a user's heuristic beside Greedy and the optimum (medium)"
report: quality
base: medium
variants: {default: []}
plugins: [my_methods]
methods: [strongest, greedy, optimum]
caption: |
  A user's own heuristic, registered from outside dirs/, in a table built by the workflow.
"""


@pytest.mark.slow
def test_a_method_from_outside_dirs_appears_in_a_smoke_table(tmp_path):
    wd = copy_workflow(tmp_path / "wf")
    (wd / "my_methods.py").write_text(textwrap.dedent(TOY_METHOD))
    (wd / "conf/experiment/toy.yaml").write_text(textwrap.dedent(TOY_EXPERIMENT))
    config = ("--config", "profile=smoke", 'overrides=["profile.experiments=[toy]"]')
    proc = snakemake(wd, "--cores", "2", "toy", *config)
    assert proc.returncode == 0, proc.stderr[-4000:]
    table = pd.read_csv(wd / "results/tables/toy.csv")
    assert list(table.method) == ["Strongest server (toy)", "Greedy", "Exact optimum"]
    assert "Strongest server (toy)" in (wd / "results/tables/toy.md").read_text()
    strongest = table.set_index("method").loc["Strongest server (toy)"]
    assert 0 < strongest.nrr_opt < 1  # no capacity rule: worse than the optimum on medium
    # the plug-in module is an input of its jobs: editing it reruns exactly its evaluation and the table
    (wd / "my_methods.py").write_text(textwrap.dedent(TOY_METHOD) + "\n# edited\n")
    dry = snakemake(wd, "-n", "toy", *config)
    jobs = planned_jobs(dry.stdout + dry.stderr)
    assert {r for r, _ in jobs} == {"evaluate_method", "make_quality_table", "toy"}, jobs
    evaluated = [w for r, w in jobs if r == "evaluate_method"]
    assert len(evaluated) == 1 and "method=strongest" in evaluated[0], evaluated
