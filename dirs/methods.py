"""The method registry: every decision method of the study, registered once (docs/design.md §7).

A *method* maps channel samples to offloading decisions.  Each one is registered once, in the module
that defines it, with :func:`register`, and says

* ``name`` — the row it writes in the evaluation tables (``results/evaluations/<instance>/seed<k>/``);
* ``label`` — its name in tables and figures;
* ``kind`` — ``reference`` (the optimum every method is measured against), ``heuristic``, ``search``
  (population searches), ``drl`` (trained DRL baselines), ``dirs`` (DIRS variants, declared in
  ``conf/dirs/*.yaml`` under ``variants:``), ``learned`` (other trained schedulers);
* how it is built or loaded — ``build(cfg, params, rng) -> decide(gains)`` for methods that need no
  training; ``train(scenario, gains, cfg, **kw)`` and ``load(path)`` for DRL baselines;
* which stage evaluates it — :attr:`Method.stage`; and which file holds its rows — :attr:`Method.file`;
* ``reads`` — the configuration keys it reads (``search.pso_particles``, ``baseline.ac``, …): they are
  part of its jobs' rerun key, so editing them reruns exactly its jobs.

The experiments' YAML (``conf/experiment/<id>.yaml``, key ``methods:``) lists the rows each table or
figure shows; the workflow derives from it which methods run on which instance.  A method of your
own lives in your own module, registered with the same decorator, and is found when the module is
named in the config's ``plugins:`` list (or placed in ``dirs/solvers/``); see the README's "Adding a
method".

Example (a heuristic)::

    from dirs.methods import register

    @register("nearest", label="Nearest server", kind="heuristic")
    def nearest(cfg, params, rng):
        return lambda gains: gains.argmax(-1) + 1       # (T, N) decisions in 0..M
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from dirs.system.params import ParameterError

KINDS = ("reference", "heuristic", "search", "drl", "dirs", "learned")
#: Stage that evaluates each kind of method (a Snakemake rule of the same name).
STAGE_OF_KIND = {
    "reference": "evaluate_method",
    "heuristic": "evaluate_method",
    "search": "evaluate_method",
    "drl": "evaluate_baseline",
    "dirs": "evaluate_policy",
    "learned": "evaluate_learned",
}
#: Packages whose modules are searched for registrations (a new module there is found by itself).
BUILTIN_PACKAGES = ("dirs.solvers", "dirs.baselines", "dirs.learn")
#: Suffixes of the extra rows an evaluation writes beside a method's own row.
DIRS_ROWS = ("", "+repair", "-last", "-imitation-only")
DRL_ROWS = ("", "_capacity")


@dataclass(frozen=True)
class Method:
    """One registered decision method (see the module docstring)."""

    name: str
    """Row name in the evaluation tables; also the method's id in ``methods:`` lists."""
    label: str
    """Display name in tables and figures."""
    kind: str
    """reference | heuristic | search | drl | dirs | learned."""
    module: str
    """Module that defines it: its import closure is the code its evaluation depends on."""
    build: Callable[..., Callable] | None = None
    """``build(cfg, params, rng) -> decide(gains)`` for methods without training."""
    train: Callable[..., Any] | None = None
    """DRL: ``train(scenario, gains, cfg, *, interactions, seed, log, log_every) -> policy``."""
    load: Callable[..., Any] | None = None
    """DRL / learned: ``load(path) -> policy`` with ``decide(gains)`` and ``meta``."""
    reads: tuple[str, ...] = ()
    """Configuration keys it reads (part of its jobs' rerun key)."""
    samples: str = "test"
    """``test``: every test sample; ``search``: the first ``evaluation.search_samples`` (slow searches)."""
    stream: tuple[int, ...] = ()
    """Its random stream: ``numpy.random.default_rng([seed, *stream])`` (fixed per method, so adding
    or removing another method never changes its results)."""
    rows: tuple[str, ...] = ()
    """Every row its evaluation writes (default: ``name`` and the kind's extra rows)."""
    options: dict[str, Any] = field(default_factory=dict)
    """Kind-specific settings (DIRS variants: imitation, demonstrator, exploration)."""

    @property
    def stage(self) -> str:
        """The stage (and Snakemake rule) that evaluates this method."""
        return STAGE_OF_KIND[self.kind]

    @property
    def file(self) -> str:
        """Evaluation CSV of this method, in ``results/evaluations/<instance>/seed<k>/``."""
        return f"policy_{self.name}.csv" if self.kind == "dirs" else f"{self.name}.csv"

    def all_rows(self) -> tuple[str, ...]:
        if self.rows:
            return self.rows
        suffixes = {"dirs": DIRS_ROWS, "drl": DRL_ROWS}.get(self.kind, ("",))
        return tuple(f"{self.name}{s}" for s in suffixes)


_REGISTRY: dict[str, Method] = {}


def register(
    name: str,
    *,
    label: str | None = None,
    kind: str = "heuristic",
    reads: Iterable[str] = (),
    samples: str = "test",
    stream: Iterable[int] = (),
    train: Callable | None = None,
    load: Callable | None = None,
    rows: Iterable[str] = (),
) -> Callable[[Callable], Callable]:
    """Decorator registering ``build`` (or, for ``kind="drl"``, the trainer) as method ``name``.

    For ``heuristic``, ``search`` and ``reference`` methods the decorated function is
    ``build(cfg, params, rng) -> decide(gains)``; for ``drl`` it is ``train(...)`` and ``load`` is
    required.  Registering a name twice from different functions is an error (names are table rows).
    """
    if kind not in KINDS:
        raise ParameterError(f"register({name!r}): kind must be one of {list(KINDS)}, got {kind!r}")
    if samples not in ("test", "search"):
        raise ParameterError(f"register({name!r}): samples must be 'test' or 'search', got {samples!r}")

    def decorate(fn: Callable) -> Callable:
        method = Method(
            name=name,
            label=label or name,
            kind=kind,
            module=fn.__module__,
            build=None if kind in ("drl", "learned") else fn,
            train=fn if kind in ("drl", "learned") else train,
            load=load,
            reads=tuple(reads),
            samples=samples,
            stream=tuple(int(s) for s in stream),
            rows=tuple(rows),
        )
        if kind in ("drl", "learned") and load is None:
            raise ParameterError(f"register({name!r}): a {kind} method needs load=")
        old = _REGISTRY.get(name)
        if old is not None and (old.module, getattr(old.build or old.train, "__qualname__", None)) != (
            method.module,
            fn.__qualname__,
        ):
            raise ParameterError(f"method {name!r} is registered twice: by {old.module} and by {method.module}")
        _REGISTRY[name] = method
        return fn

    return decorate


def import_plugins(modules: Iterable[str]) -> None:
    """Import the user's modules named in the config's ``plugins:`` list (they register methods); a
    module that fails to import — with any exception, not only ImportError — is one ParameterError
    naming it."""
    from dirs.common import import_modules

    import_modules(modules)


def plugins_of(cfg) -> list[str]:
    """The plug-in modules of a composed config: ``plugins`` and ``experiment.plugins``, in order."""
    from omegaconf import OmegaConf

    mods = list(OmegaConf.select(cfg, "plugins", default=None) or [])
    mods += list(OmegaConf.select(cfg, "experiment.plugins", default=None) or [])
    return [str(m) for m in dict.fromkeys(mods)]


_DISCOVERED = False


def discover(plugins: Iterable[str] = ()) -> None:
    """Import every module of :data:`BUILTIN_PACKAGES` (registering the built-in methods) and ``plugins``."""
    global _DISCOVERED
    if not _DISCOVERED:
        for pkg_name in BUILTIN_PACKAGES:
            pkg = importlib.import_module(pkg_name)
            for info in pkgutil.iter_modules(pkg.__path__):
                importlib.import_module(f"{pkg_name}.{info.name}")
        _DISCOVERED = True
    import_plugins(plugins)


def dirs_variants(cfg) -> dict[str, Method]:
    """The DIRS training variants of ``cfg.dirs.variants`` as methods (kind ``dirs``)."""
    out = {}
    for name, v in cfg.dirs.variants.items():
        out[str(name)] = Method(
            name=str(name),
            label=str(v.get("label") or name),
            kind="dirs",
            module="dirs.stages.learner",
            options=dict(v),
        )
    return out


def registry(cfg=None) -> dict[str, Method]:
    """Every registered method by name; with ``cfg``, also its plug-ins and its DIRS variants."""
    discover(plugins_of(cfg) if cfg is not None else [])
    out = dict(_REGISTRY)
    if cfg is not None and "dirs" in cfg:
        for name, m in dirs_variants(cfg).items():
            if name in out:
                raise ParameterError(f"dirs.variants.{name}: the name is already a registered {out[name].kind} method")
            out[name] = m
    return out


def get(name: str, cfg=None) -> Method:
    """Method ``name``; raises :class:`ParameterError` naming the registered ones if unknown."""
    reg = registry(cfg)
    if name not in reg:
        raise ParameterError(f"unknown method {name!r}; registered: {', '.join(sorted(reg))}")
    return reg[name]


def lookup(name: str, module: str | None = None) -> Method:
    """Method ``name`` after importing only ``module`` (a job needs just its own method)."""
    if name not in _REGISTRY and module:
        import_plugins([module])  # a module that fails to import is named
    if name not in _REGISTRY:
        discover()
    if name not in _REGISTRY:
        raise ParameterError(f"unknown method {name!r}; registered: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def method_of_row(row: str, methods: dict[str, Method]) -> Method:
    """The method whose evaluation writes table row ``row`` (e.g. ``dirs+repair`` → ``dirs``)."""
    for m in methods.values():
        if row in m.all_rows():
            return m
    raise ParameterError(
        f"methods: no registered method writes the row {row!r}; registered methods: {', '.join(sorted(methods))}"
    )


#: Label suffix of each extra row (``dirs+repair`` → "DIRS + repair").
ROW_SUFFIX_LABELS = {
    "+repair": " + repair",
    "-last": " (final weights)",
    "-imitation-only": " (imitation only)",
    "_capacity": " + capacity rule",
}


def row_label(row: str, methods: dict[str, Method]) -> str:
    """Display label of table row ``row`` (its method's label, plus the extra row's suffix)."""
    m = method_of_row(row, methods)
    if row == m.name:
        return m.label
    suffix = row[len(m.name) :]
    return m.label + ROW_SUFFIX_LABELS.get(suffix, suffix)
