"""The population searches as registered methods (paper §V-D; docs/design.md §4–§5).

PSO and DE (textbook, and seeded with Greedy / Remote), and the paper's Lévy flight (Alg. 4, from
Remote or from Greedy) with the configured budgets.  They cost 0.1–5 s per sample, so the
``evaluate_method`` stage runs them on the first ``evaluation.search_samples`` test samples
(``samples="search"``); their NRR is per sample and so comparable with every other method's.
"""

from __future__ import annotations

from dirs.methods import register
from dirs.solvers.costs import cost_tables
from dirs.solvers.heuristics import greedy_tables, remote
from dirs.solvers.levy import levy_flight, levy_kwargs
from dirs.solvers.swarm import differential_evolution_search, pso

# Random streams are fixed per method (the index each had in the earlier sorted method list), so
# adding or removing a method never changes another one's results.
_STREAM = 0x5EA
_PSO_READS = ("search.pso_particles", "search.pso_budgets")
_DE_READS = ("search.de_popsize", "search.de_budgets", "search.de_mutation", "search.de_recombination")


@register("pso", label="PSO", kind="search", samples="search", stream=(_STREAM, 4), reads=_PSO_READS)
def build_pso(cfg, params, rng):
    """PSO with ``search.pso_particles`` particles for the largest of ``search.pso_budgets`` iterations."""
    se = cfg.search
    return lambda g: pso(g, params, particles=se.pso_particles, iterations=se.pso_budgets[-1], rng=rng).decisions


@register("pso-seeded", label="PSO (seeded)", kind="search", samples="search", stream=(_STREAM, 5), reads=_PSO_READS)
def build_pso_seeded(cfg, params, rng):
    """PSO whose swarm starts with Greedy's and Remote's decisions."""
    se = cfg.search
    return lambda g: (
        pso(g, params, particles=se.pso_particles, iterations=se.pso_budgets[-1], seeded=True, rng=rng).decisions
    )


def _de(cfg, params, rng, seeded: bool):
    se = cfg.search
    return lambda g: (
        differential_evolution_search(
            g,
            params,
            popsize=se.de_popsize,
            maxiter=se.de_budgets[0],
            seeded=seeded,
            rng=rng,
            mutation=tuple(se.de_mutation),
            recombination=se.de_recombination,
        ).decisions
    )


@register("de", label="DE", kind="search", samples="search", stream=(_STREAM, 0), reads=_DE_READS)
def build_de(cfg, params, rng):
    """SciPy differential evolution (integrality, vectorised) for ``search.de_budgets[0]`` generations."""
    return _de(cfg, params, rng, seeded=False)


@register("de-seeded", label="DE (seeded)", kind="search", samples="search", stream=(_STREAM, 1), reads=_DE_READS)
def build_de_seeded(cfg, params, rng):
    """DE whose population starts with Greedy's and Remote's decisions."""
    return _de(cfg, params, rng, seeded=True)


@register(
    "levy",
    label="Lévy flight (from Remote)",
    kind="search",
    samples="search",
    stream=(_STREAM, 2),
    reads=("search.online",),
)
def build_levy(cfg, params, rng):
    """The paper's Lévy flight (Alg. 4) from Remote with the online settings (P, G_max, β, th)."""
    kw = levy_kwargs(cfg.search.online)
    return lambda g: levy_flight(g, params, remote(g, params), rng=rng, **kw).decisions


@register(
    "levy-greedy",
    label="Lévy flight (from Greedy)",
    kind="search",
    samples="search",
    stream=(_STREAM, 3),
    reads=("search.online",),
)
def build_levy_greedy(cfg, params, rng):
    """The Lévy flight from Greedy's decision."""
    kw = levy_kwargs(cfg.search.online)

    def decide(g):
        tables = cost_tables(g, params)
        return levy_flight(g, params, greedy_tables(tables), rng=rng, tables=tables, **kw).decisions

    return decide
