"""The search/ config group: paper defaults, smoke sizes, and validation naming the key."""

import pytest

from dirs.config import compose
from dirs.system.params import ParameterError


def test_paper_defaults():
    se = compose([]).search
    assert (se.online.population, se.online.iterations, se.online.beta, se.online.th) == (5, 10, 1.5, 0.4)
    assert se.demo.beta < se.online.beta and se.demo.population > 5 and se.demo.iterations > 10
    assert se.start == "best" and se.demonstrator == "levy" and se.num_demos == 512


def test_smoke_profile_is_small():
    se = compose(["profile=smoke"]).search
    assert se.num_demos <= 16 and se.demo.iterations <= 10 and max(se.de_budgets) <= 5


@pytest.mark.parametrize(
    "override,key",
    [
        ("search.demonstrator=foo", "search.demonstrator"),
        ("search.start=foo", "search.start"),
        ("search.online.beta=0", "search.online.beta"),
        ("search.demo.beta=2.5", "search.demo.beta"),
        ("search.online.th=1.5", "search.online.th"),
        ("search.demo.population=0", "search.demo.population"),
        ("search.num_demos=0", "search.num_demos"),
        ("search.de_budgets=[]", "search.de_budgets"),
        ("search.pso_particles=1", "search.pso_particles"),
    ],
)
def test_bad_values_fail_naming_the_key(override, key):
    with pytest.raises(ParameterError, match=key.replace(".", r"\.")):
        compose([override])


def test_unknown_demonstrator_lists_the_allowed_values():
    with pytest.raises(ParameterError, match=r"levy, oracle"):
        compose(["search.demonstrator=exact"])


def test_bench_search_runs_every_method_on_tiny_budgets(capsys):
    from dirs.bench.search import bench_search

    rows = bench_search(
        "medium",
        samples=3,
        swarm_samples=2,
        de_samples=1,
        overrides=(
            "search.demo.iterations=3",
            "search.pso_budgets=[2]",
            "search.de_budgets=[1]",
            "search.de_recombination=0.1",
        ),
    )
    methods = {r["method"] for r in rows}
    assert {"random", "remote", "greedy", "levy classic", "pso textbook", "de seeded"} <= methods
    assert any(m.startswith("levy proposed (default demos)") for m in methods)
    assert all(0 < r["nrr_mean"] <= 1 + 1e-12 for r in rows)
    assert any("CR 0.1" in r["settings"] for r in rows)
