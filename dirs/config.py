"""Structured configuration (Hydra + OmegaConf dataclasses).

``conf/`` holds the YAML files (one group per concern: ``scenario/``, ``profile/``, …); the
dataclasses below are their schema, registered in Hydra's ConfigStore as ``config_schema``, so a
wrong type or an unknown enum value fails at compose time and names the key.

Stable override keys: ``scenario=<name>``, ``scenario.num_iotds``, ``scenario.num_servers``,
``scenario.placement``, ``seed``, ``profile=<paper|smoke>``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from omegaconf import MISSING, DictConfig, OmegaConf

from dirs.system.params import PHYSICAL_RANGES, ParameterError, SystemParams, check_physical
from dirs.system.scenario import Placement, ServerPlacement


@dataclass
class ScenarioConfig:
    """One MEC deployment and its channel samples (paper §V; docs/design.md §1)."""

    name: str = MISSING
    """Scenario name; also the instance name used in data/ and results/ paths."""
    family: str = "paper"
    """Scenario family: the registered generator of positions, tasks and channel samples
    (dirs.system.families; ``paper`` = the paper's identical tasks, ``hetero`` = heterogeneous)."""
    options: dict[str, Any] = field(default_factory=dict)
    """Family-specific settings, validated by the family's generator (empty for ``paper``)."""
    num_iotds: int = MISSING
    """N: number of IoT devices."""
    num_servers: int = MISSING
    """M: number of MEC servers."""
    placement: Placement = Placement.uniform
    """IoTD placement: uniform | gaussian | levy (clipped to the area)."""
    server_placement: ServerPlacement = ServerPlacement.kmeans
    """Server placement: fixed (server_positions) | kmeans (centroids of the IoTDs)."""
    server_positions: list[list[float]] | None = None
    """(x, y) in metres per server, for server_placement=fixed."""
    area_m: float = 50.0
    """Side of the square area in metres."""
    num_train: int = 3000
    """Channel samples for training (T_DRL)."""
    num_test: int = 500
    """Held-out channel samples every method is evaluated on."""
    # --- system parameters (paper Table I): defaults, units and meaning are SystemParams's (one source)
    data_bits: float = SystemParams.data_bits  # type: ignore[assignment]
    """See :attr:`dirs.system.SystemParams.data_bits`."""
    cpu_cycles: float = SystemParams.cpu_cycles  # type: ignore[assignment]
    """See :attr:`dirs.system.SystemParams.cpu_cycles`."""
    bandwidth_hz: float = SystemParams.bandwidth_hz  # type: ignore[assignment]
    """See :attr:`dirs.system.SystemParams.bandwidth_hz`."""
    local_cpu_hz: float = SystemParams.local_cpu_hz  # type: ignore[assignment]
    """See :attr:`dirs.system.SystemParams.local_cpu_hz`."""
    max_power_w: float = SystemParams.max_power_w  # type: ignore[assignment]
    """See :attr:`dirs.system.SystemParams.max_power_w`."""
    noise_w: float = SystemParams.noise_w  # type: ignore[assignment]
    """See :attr:`dirs.system.SystemParams.noise_w`."""
    kappa: float = SystemParams.kappa  # type: ignore[assignment]
    """See :attr:`dirs.system.SystemParams.kappa`."""
    nu: float = SystemParams.nu  # type: ignore[assignment]
    """See :attr:`dirs.system.SystemParams.nu`."""
    beta0: float = SystemParams.beta0  # type: ignore[assignment]
    """See :attr:`dirs.system.SystemParams.beta0`."""
    mec_cpu_hz: float = SystemParams.mec_cpu_hz  # type: ignore[assignment]
    """See :attr:`dirs.system.SystemParams.mec_cpu_hz`."""
    phi_t: float = SystemParams.phi_t  # type: ignore[assignment]
    """See :attr:`dirs.system.SystemParams.phi_t`."""
    phi_e: float = SystemParams.phi_e  # type: ignore[assignment]
    """See :attr:`dirs.system.SystemParams.phi_e`."""


@dataclass
class ProfileConfig:
    """Sizes of a whole pipeline run: ``paper`` (default) or ``smoke`` (tiny, for CI)."""

    name: str = "paper"
    """Profile name (the MLflow experiment is ``<tracking.experiment>-<name>``)."""
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    """Seeds every experiment is repeated over (mean ± 95% CI)."""
    scenarios: list[str] = field(default_factory=lambda: ["medium", "large", "xlarge"])
    """Scenario configs (conf/scenario/<name>.yaml) on which ``profile.methods`` are evaluated."""
    methods: list[str] = field(default_factory=lambda: ["optimum", "local", "remote", "random", "greedy", "dirs"])
    """Rows (registered methods, dirs.methods) evaluated on every scenario of ``profile.scenarios``."""
    experiments: list[str] = field(default_factory=list)
    """Experiments (conf/experiment/<id>.yaml) the pipeline builds; any subset works."""
    max_variants: int | None = None
    """Keep at most this many variants per experiment (first and last first); None = all."""
    max_train: int | None = None
    """Upper bound on scenario.num_train, applied after every override (smoke: tiny runs even where
    an experiment sets its own sample count); None = no bound."""
    max_test: int | None = None
    """Upper bound on scenario.num_test, applied likewise (smoke: the hetero experiment sets its own
    test count); None = no bound."""


@dataclass
class PathsConfig:
    """Where data and results live (not part of any job's rerun key)."""

    data_dir: str = "data"
    """Generated scenarios, channel samples, demonstrations."""
    results_dir: str = "results"
    """Models, evaluations, tables, figures, logs, the MLflow store."""


@dataclass
class TrackingConfig:
    enabled: bool = True
    """Log runs to MLflow (``MLFLOW_TRACKING_URI`` overrides the default SQLite store)."""
    experiment: str = "dirs"
    """MLflow experiment name (the profile name is appended: dirs-paper, dirs-smoke)."""
    flush_seconds: float = 30.0
    """Buffered metrics are written at most this often (and at the end of a stage)."""


@dataclass
class EvaluationConfig:
    """How every method is measured on the held-out test samples (dirs.evaluation)."""

    timing_samples: int = 50
    """Samples timed one at a time (batch 1) for the decision-time column."""
    search_samples: int = 50
    """Test samples the population searches (PSO, DE, Lévy flight) are evaluated on (0.1–5 s each)."""
    method: str = "greedy"
    """Method a stage run alone evaluates (``python -m dirs evaluate_method evaluation.method=pso``)."""
    reference_rel_gap: float = 1e-6
    """Relative gap the certified reference optimum must prove on heterogeneous tasks (identical tasks
    are solved exactly); a sample whose gap is not closed within ``reference_time_limit_s`` keeps
    its proven bound (``optimum.npz``: ``lower_bound``)."""
    reference_time_limit_s: float = 120.0
    """Time limit in seconds of the certified solver per sample."""


class Demonstrator(str, Enum):
    """Who labels the imitation demonstrations (paper Alg. 2; docs/design.md §4)."""

    levy = "levy"
    oracle = "oracle"


class SearchStart(str, Enum):
    """Decision a search starts from: a heuristic, the better of both per sample, or random."""

    greedy = "greedy"
    remote = "remote"
    best = "best"
    random = "random"


class LevyVariant(str, Enum):
    proposed = "proposed"
    classic = "classic"


class Allocation(str, Enum):
    exact = "exact"
    search = "search"


@dataclass
class LevySettings:
    """One Lévy flight search configuration (paper Alg. 4; dirs.solvers.levy.levy_flight)."""

    population: int = 5
    """P: population size (member 0 is the start decision)."""
    iterations: int = 10
    """G_max: iterations; γ = 2 − 2G/G_max."""
    beta: float = 1.5
    """β ∈ (0, 2]: Lévy exponent of the Mantegna steps (small = heavier tails, more global)."""
    th: float = 0.4
    """th ∈ [0, 1]: Lévy crossover threshold (eq. 22)."""
    variant: LevyVariant = LevyVariant.proposed
    """proposed (Alg. 4) | classic (eq. 18)."""
    allocation: Allocation = Allocation.exact
    """exact (closed-form f, p) | search (the paper's x = [a, f, p], eq. 19)."""


@dataclass
class SearchConfig:
    """Lévy flight, PSO and DE settings; the demonstrations for imitation (docs/design.md §4-5)."""

    online: LevySettings = field(default_factory=LevySettings)
    """Online refinement of the voted decision (paper: P=5, G_max=10, β=1.5, th=0.4)."""
    demo: LevySettings = field(default_factory=lambda: LevySettings(population=10, iterations=30, beta=0.5))
    """Demonstration search: small β (global search), larger P and G_max."""
    start: SearchStart = SearchStart.best
    """Start of the demonstration search: greedy | remote | best (better of both) | random."""
    demonstrator: Demonstrator = Demonstrator.levy
    """Who labels demonstrations: levy (the paper's default) | oracle (the exact optimum)."""
    num_demos: int = 512
    """K: demonstrations, from the first K training channel samples (Table II uses 64..512)."""
    pso_particles: int = 30
    """PSO swarm size."""
    pso_budgets: list[int] = field(default_factory=lambda: [100, 300])
    """PSO iteration budgets compared (NRR vs budget)."""
    de_popsize: int = 2
    """SciPy DE popsize multiplier (population = popsize · N)."""
    de_budgets: list[int] = field(default_factory=lambda: [50, 200])
    """DE generation budgets compared (NRR vs budget)."""
    de_recombination: float = 0.7
    """DE crossover probability CR ∈ [0, 1] (SciPy's default 0.7; on 180+ IoTDs a small CR such as
    0.05-0.1 changes few IoTDs per trial and escapes the stagnation of the textbook setting)."""
    de_mutation: list[float] = field(default_factory=lambda: [0.5, 1.0])
    """DE differential weight F: [lo, hi] dithered per generation (SciPy's default), in [0, 2]."""
    fig4_samples: int = 200
    """Channel samples (training split) averaged in Fig. 4."""
    fig4: LevySettings = field(default_factory=lambda: LevySettings(population=5, iterations=50))
    """Fig. 4 search settings (the variant is set per curve: classic vs proposed)."""
    fig4_start: SearchStart = SearchStart.random
    """Start of the Fig. 4 searches (random shows the search dynamics; both curves share it)."""


@dataclass
class ExperimentConfig:
    """One table or figure of the paper (§V): which scenario variants it needs and what it shows."""

    id: str = "none"
    """Experiment id (table2 … table5, fig3 … fig7); ``none`` = no experiment selected."""
    title: str = ""
    """Caption of the table or figure."""
    base: str = "medium"
    """Base scenario config (conf/scenario/<base>.yaml) of every variant."""
    variants: dict[str, list[str]] = field(default_factory=dict)
    """Variant name → Hydra overrides on top of the base scenario; a variant without overrides is
    the base scenario itself (instance name = base), others are named ``<base>-<variant>``."""
    report: str = "none"
    """How it is built (one rule each, workflow/rules/experiments.smk): quality (Tables III/IV),
    cost (Table V), time_energy (Fig. 6), objective_vs_n (Fig. 7), scale, allocation (ablation),
    imitation (Table II), pretrain_loss (Fig. 3), levy_fitness (Fig. 4), training_reward (Fig. 5)."""
    caption: str = ""
    """Caption of the table or figure in the Snakemake report."""
    plugins: list[str] = field(default_factory=list)
    """Modules this experiment's methods are registered in (besides the top-level ``plugins``)."""
    methods: list[str] = field(default_factory=list)
    """Rows the table or figure shows, in order: registered method names (dirs.methods) or the extra
    rows their evaluations write (``dirs+repair``, ``dirs-last``); the workflow runs exactly the
    methods behind them on every instance of the experiment."""


@dataclass
class A2CConfig:
    """AC baseline: stable-baselines3 A2C on MultiDiscrete actions (paper §V-D)."""

    learning_rate: float = 3e-3
    """RMSprop step size (SB3 A2C's optimiser)."""
    n_steps: int = 4
    """Steps per environment per update (one-step episodes): an update sees n_steps · n_envs slots."""
    n_envs: int = 8
    """Parallel copies of the environment (SB3 DummyVecEnv); the interaction budget is unchanged.
    SB3 builds N Categorical distributions per policy call, so batching 8 slots per call cuts
    AC's wall time several-fold."""
    ent_coef: float = 0.0
    """Entropy bonus weight."""
    vf_coef: float = 0.5
    """Value-loss weight."""
    net_arch: list[int] = field(default_factory=lambda: [256, 256])
    """Hidden layers of the policy and value networks."""


@dataclass
class DDPGConfig:
    """DDPG baseline: stable-baselines3 DDPG on relaxed scores (N, M+1), argmax-decoded per IoTD."""

    learning_rate: float = 1e-3
    """Adam step size of actor and critic."""
    buffer_size: int = 1024
    """Replay buffer (the paper's buffer size)."""
    batch_size: int = 256
    """Minibatch (the paper's)."""
    learning_starts: int = 100
    """Interactions with random actions before the first update."""
    train_freq: int = 5
    """Interactions between updates (5 with 1 gradient step = DIRS's rate, T_M = 2 every ϕ = 10 slots)."""
    gradient_steps: int = 1
    """Gradient steps per update."""
    noise_sigma: float = 0.2
    """Std of the Gaussian exploration noise on the scores (action range [-1, 1])."""
    net_arch: list[int] = field(default_factory=lambda: [400, 300])
    """Hidden layers of actor and critic."""


@dataclass
class MADDPGConfig:
    """MADDPG baseline (PyTorch): one actor per server on its own gains h_j, a centralised critic."""

    actor_hidden: list[int] | None = None
    """Hidden layers of every actor; null = DIRS-like sizes [1.5 N, 1.25 N] (xlarge: [300, 250])."""
    critic_hidden: list[int] = field(default_factory=lambda: [512, 256])
    """Hidden layers of the centralised critic Q(all gains, all actors' outputs)."""
    actor_lr: float = 1e-3
    """Adam step size of the actors."""
    critic_lr: float = 1e-3
    """Adam step size of the critic."""
    buffer_size: int = 1024
    """Replay buffer (the paper's buffer size)."""
    batch_size: int = 256
    """Minibatch (the paper's)."""
    learning_starts: int = 64
    """Interactions before the first update."""
    train_freq: int = 5
    """Interactions between updates (5 with 1 gradient step = DIRS's rate, T_M = 2 every ϕ = 10 slots)."""
    gradient_steps: int = 1
    """Critic and actor updates per update."""
    noise_sigma: float = 0.2
    """Std of the Gaussian exploration noise on the actors' probabilities (clipped to [0, 1])."""


@dataclass
class BaselineConfig:
    """DRL baselines (paper §V-D; docs/design.md §5): AC, DDPG (stable-baselines3), MADDPG (PyTorch)."""

    algo: str = "maddpg"
    """Baseline a stage run alone (``python -m dirs train_baseline``) trains/evaluates; the workflow
    trains the ones the experiments' ``methods:`` name (registered methods of kind ``drl``)."""
    interactions: int | None = None
    """Environment interactions (one per channel sample); null = scenario.num_train = T_DRL, as DIRS."""
    reference: str = "remote"
    """Reward reference: reward = scale·(Φ_ref/Φ − 1); remote | greedy | local | none (scale/Φ)."""
    reward_scale: float = 10.0
    """Scale of the reward."""
    capacity_row: bool = True
    """Also report each baseline after the capacity rule (row ``<algo>_capacity``)."""
    ac: A2CConfig = field(default_factory=A2CConfig)
    ddpg: DDPGConfig = field(default_factory=DDPGConfig)
    maddpg: MADDPGConfig = field(default_factory=MADDPGConfig)


@dataclass
class VariantConfig:
    """One DIRS training variant (a model directory results/models/<scenario>/seed<k>/<variant>/);
    the variants are declared in conf/dirs/*.yaml under ``variants:`` and each is a method (row)."""

    label: str = ""
    """Display name in tables and figures (empty: the variant's name)."""
    imitation: bool = True
    """Pre-train on demonstrations (Alg. 2) and keep them in the replay buffer."""
    demonstrator: str = "levy"
    """Source of the demonstrations: levy (the generate_demos stage) | oracle (exact optimum)."""
    exploration: str = "levy"
    """Online refinement of the voted decision: levy (Alg. 4, large β) | epsilon_greedy (random flips)."""
    refine_repair: bool = False
    """Ours, not the paper's: polish each refined decision by single-IoTD improving moves (local
    search) before it is stored, so online labels are local optima instead of near-copies of the vote."""


SELECTIONS = ("best", "last")


@dataclass
class DirsConfig:
    """DIRS agents and their training (paper §IV, Alg. 1-4; defaults = the paper's values)."""

    hidden: list[int] | None = None
    """Hidden layer sizes of every agent; null = the paper's for the scenario's N (medium [80, 60],
    large [260, 200], xlarge [300, 250]; otherwise [max(80, 1.5N), max(60, 1.25N)])."""
    lr: float = 1e-3
    """Adam learning rate (the paper names Adam, not its rate)."""
    capacity: int = 1024
    """Replay buffer capacity (paper: 1024)."""
    batch: int = 256
    """Minibatch size (paper: 256)."""
    num_demos: int = 512
    """Demonstrations used for pre-training (the first ones of the demos file; <= capacity)."""
    pretrain_steps: int = 500
    """T_D: imitation pre-training steps (paper: 500)."""
    lambda1: float = 1e-4
    """λ1: weight of ‖θ‖² in L1 (paper: 1e-4)."""
    lambda2: float = 0.5
    """λ2: weight of the agent-data loss L_A in L2 (paper: 0.5)."""
    eps_agent: float = 0.08
    """ε_A: priority offset of agent data (eq. 15; paper 0.08)."""
    eps_demo: float = 0.02
    """ε_D: priority offset of demonstrations (eq. 15; paper 0.02)."""
    alpha: float = 1.0
    """Priority exponent of eq. 15 (1 = as printed)."""
    refine_every: int = 10
    """ϕ: slots between two refinements + training rounds (paper: 10)."""
    steps_per_refine: int = 2
    """T_M: updates per agent after each refinement (paper: 2)."""
    epsilon: float = 0.05
    """Flip probability per IoTD of the epsilon_greedy exploration (P·G_max candidates per refinement)."""
    validation_samples: int = 256
    """Last training samples held out as the fixed validation set (NRR vs the exact optimum)."""
    validate_every: int = 500
    """Slots between two validation NRR measurements."""
    pretrain_validate_every: int = 25
    """Pre-training steps between two validation NRR measurements (0: none during pre-training)."""
    select: str = "best"
    """Which weights become the policy: ``best`` = the snapshot with the highest validation NRR among
    every validation of pre-training and online training (model selection on the held-out validation
    samples, as stable-baselines3's EvalCallback keeps its best model), ``last`` = the weights after
    the last slot (the paper).  The other one is kept as ``last.pt`` / evaluated as ``<variant>-last``."""
    reward_window: int = 100
    """Slots averaged in the logged average reward (Fig. 5)."""
    checkpoint_every: int = 500
    """Slots between two checkpoints of online training (resume after a kill)."""
    threads: int = 1
    """torch threads (fixed for bit-identical reruns)."""
    variant: str = "dirs"
    """Variant a stage works on when run alone (``python -m dirs train_agents dirs.variant=...``)."""
    variants: dict[str, VariantConfig] = field(default_factory=dict)
    """Training variants by model name (conf/dirs/paper.yaml); each is a registered method."""
    table2_demo_counts: list[int] = field(default_factory=lambda: [64, 128, 256, 512])
    """Demonstration counts of Table II."""
    table2_holdout: int = 500
    """Held-out demonstrations on which Table II's test accuracy is measured."""


@dataclass
class Config:
    scenario: ScenarioConfig = field(default_factory=ScenarioConfig)
    profile: ProfileConfig = field(default_factory=ProfileConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)
    dirs: DirsConfig = field(default_factory=DirsConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    baseline: BaselineConfig = field(default_factory=BaselineConfig)
    seed: int = 0
    """Seed of the scenario (positions), channel samples and every randomised method."""
    plugins: list[str] = field(default_factory=list)
    """Modules imported before methods are looked up: a module of your own that registers methods
    with :func:`dirs.methods.register` (README, "Adding a method")."""
    anysize: dict[str, Any] = field(default_factory=dict)
    """Settings of the any-size learned scheduler that differ from the defaults of
    :class:`dirs.learn.anysize_train.AnySizeSettings` (where every field is documented)."""


_REGISTERED = False


def register_configs() -> None:
    """Register the schema in Hydra's ConfigStore (idempotent)."""
    global _REGISTERED
    if _REGISTERED:
        return
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="config_schema", node=Config)
    _REGISTERED = True


def config_dir() -> Path:
    """The ``conf/`` directory: ``$DIRS_CONF_DIR``, else ``./conf``, else the repository's."""
    env = os.environ.get("DIRS_CONF_DIR")
    if env:
        path = Path(env)
    elif (Path.cwd() / "conf" / "config.yaml").is_file():
        path = Path.cwd() / "conf"  # a workflow copy runs with its own conf/
    else:
        path = Path(__file__).resolve().parent.parent / "conf"
    if not (path / "config.yaml").is_file():
        raise FileNotFoundError(f"config directory {path} has no config.yaml (set DIRS_CONF_DIR)")
    return path


def compose(overrides: Sequence[str] = (), conf_dir: str | Path | None = None) -> DictConfig:
    """Compose ``conf/config.yaml`` with Hydra ``overrides`` into a validated config.

    Raises :class:`ParameterError` (one line) naming the key for an unknown key — also in the
    ``+key=value`` / ``++key=value`` forms, since the schema is closed — with the nearest valid
    names, a wrong type, an unknown group option or a physically invalid value.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    register_configs()
    check_override_keys(overrides)
    conf = Path(conf_dir) if conf_dir else config_dir()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(conf.resolve()), version_base="1.3"):
            cfg = hydra_compose(config_name="config", overrides=list(overrides))
    except (HydraException, OmegaConfBaseException) as exc:
        detail = f"{exc}"
        if exc.__cause__ is not None:
            detail += f": {exc.__cause__}"
        raise ParameterError(f"configuration error: {_one_line(detail)}") from None
    finally:
        GlobalHydra.instance().clear()
    check_empty_mappings(overrides, cfg)
    apply_profile_caps(cfg)
    validate(cfg)
    return cfg


def workflow_overrides(value: Any) -> list[str]:
    """The workflow's extra overrides (``snakemake --config overrides=…``): a list of Hydra override
    strings, or one string taken as a single override (``overrides=profile.seeds=[0]``)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple)):
        raise ParameterError(
            f"overrides: expected a list of Hydra overrides such as ['profile.seeds=[0]'] (or one override "
            f"string), got {type(value).__name__} {value!r}"
        )
    for k, v in enumerate(value):
        if not isinstance(v, str):
            raise ParameterError(
                f"overrides[{k}]: expected a Hydra override string such as 'profile.seeds=[0]', got "
                f"{type(v).__name__} {v!r} (quote the list: --config 'overrides=[\"profile.seeds=[0]\"]')"
            )
    return list(value)


def apply_profile_caps(cfg: DictConfig) -> None:
    """Bound ``scenario.num_train`` / ``num_test`` by ``profile.max_train`` / ``max_test`` (each null
    or an integer >= 1, checked here so that a bad cap is named, not the count it would cut)."""
    for cap_key, count in (("max_train", "num_train"), ("max_test", "num_test")):
        cap = cfg.profile[cap_key]
        if cap is None:
            continue
        if cap < 1:
            raise ParameterError(
                f"profile.{cap_key}: must be null (no bound) or an integer >= 1 (the most scenario.{count} "
                f"any instance keeps), got {cap}"
            )
        if cfg.scenario[count] > cap:
            cfg.scenario[count] = int(cap)


def check_empty_mappings(overrides: Sequence[str], cfg: DictConfig) -> None:
    """Refuse ``key={}`` where ``key`` holds a non-empty mapping after composing: Hydra merges a
    mapping into the configured one, so ``{}`` would silently keep every entry."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    for text in overrides:
        ov = OverridesParser.create().parse_overrides(overrides=[text])[0]
        if ov.is_delete() or ov.package is not None or ov.value() != {}:
            continue
        node = OmegaConf.select(cfg, ov.key_or_group, default=None)
        if isinstance(node, DictConfig) and len(node) > 0:
            raise ParameterError(
                f"{ov.key_or_group}: '{{}}' in override {text!r} does not clear it: Hydra merges a mapping into "
                f"the configured one, which keeps its entries {sorted(str(k) for k in node)}; remove it with "
                f"'~{ov.key_or_group}', or override its entries one by one"
            )


def validate(cfg: DictConfig) -> None:
    """Physical and structural checks beyond types (positive sizes, valid parameters, finite derived
    costs, array sizes that fit in memory, non-negative seeds)."""
    import math

    sc = cfg.scenario
    for key in ("num_iotds", "num_servers", "num_train", "num_test"):
        if sc[key] < 1:
            raise ParameterError(f"scenario.{key}: must be >= 1, got {sc[key]}")
    if not sc.area_m > 0 or not math.isfinite(sc.area_m):
        raise ParameterError(f"scenario.area_m: must be finite and > 0, got {sc.area_m}")
    validate_seeds(cfg)
    if ServerPlacement(sc.server_placement) is ServerPlacement.kmeans and sc.num_servers > sc.num_iotds:
        raise ParameterError(
            f"scenario.num_servers: k-means server placement needs num_servers <= num_iotds, "
            f"got num_servers={sc.num_servers} > num_iotds={sc.num_iotds}"
        )
    if ServerPlacement(sc.server_placement) is ServerPlacement.fixed:
        pos = sc.server_positions
        if pos is None or len(pos) != sc.num_servers:
            raise ParameterError(
                f"scenario.server_positions: server_placement=fixed needs num_servers={sc.num_servers} "
                f"(x, y) pairs, got {None if pos is None else len(pos)}"
            )
        for k, p in enumerate(pos):
            if len(p) != 2 or not all(math.isfinite(float(v)) for v in p):
                raise ParameterError(
                    f"scenario.server_positions[{k}]: needs a finite (x, y) pair in metres, got {list(p)}"
                )
    try:
        params = system_params(cfg)
    except ParameterError as exc:
        raise ParameterError(f"scenario.{exc}") from None
    validate_derived(params, float(sc.area_m), int(sc.num_iotds))
    for name in PHYSICAL_RANGES:
        check_physical(name, sc[name], f"scenario.{name}")
    from dirs.system.families import validate_family

    validate_family(cfg)
    validate_memory(cfg)
    if "dirs" in cfg:
        validate_dirs(cfg.dirs)
    if not cfg.profile.seeds:
        raise ParameterError("profile.seeds: needs at least one seed")
    if "search" in cfg:
        validate_search(cfg)
    if "baseline" in cfg:
        validate_baseline(cfg.baseline)
    validate_evaluation(cfg)
    validate_experiment(cfg.experiment)


def validate_levy(settings, key: str) -> None:
    """Ranges of one :class:`LevySettings` (``key`` names it in messages)."""
    if settings.population < 1:
        raise ParameterError(f"{key}.population: must be >= 1, got {settings.population}")
    if settings.iterations < 0:
        raise ParameterError(f"{key}.iterations: must be >= 0, got {settings.iterations}")
    if not 0 < settings.beta <= 2:
        raise ParameterError(f"{key}.beta: Lévy exponent must lie in (0, 2], got {settings.beta}")
    if not 0 <= settings.th <= 1:
        raise ParameterError(f"{key}.th: crossover threshold must lie in [0, 1], got {settings.th}")


def validate_search(cfg: DictConfig) -> None:
    se = cfg.search
    for key in ("online", "demo", "fig4"):
        validate_levy(se[key], f"search.{key}")
    for key in ("num_demos", "pso_particles", "de_popsize", "fig4_samples"):
        if se[key] < (2 if key == "pso_particles" else 1):
            raise ParameterError(f"search.{key}: must be >= {2 if key == 'pso_particles' else 1}, got {se[key]}")
    for key in ("pso_budgets", "de_budgets"):
        if not se[key] or any(b < 1 for b in se[key]):
            raise ParameterError(f"search.{key}: needs one or more budgets >= 1, got {list(se[key])}")
    if not 0 <= se.de_recombination <= 1:
        raise ParameterError(f"search.de_recombination: must lie in [0, 1], got {se.de_recombination}")
    mut = list(se.de_mutation)
    if len(mut) != 2 or not 0 <= mut[0] <= mut[1] <= 2:
        raise ParameterError(f"search.de_mutation: needs [lo, hi] with 0 <= lo <= hi <= 2, got {mut}")


def experiment_instances(cfg: DictConfig) -> dict[str, tuple[str, list[str]]]:
    """Variant → (instance name, Hydra overrides) of the selected experiment, limited by
    ``profile.max_variants`` (keeping the first and the last variants, then the others in order)."""
    exp = cfg.experiment
    variants = dict(exp.variants) or {"default": []}
    names = list(variants)
    limit = cfg.profile.max_variants
    if limit is not None and len(names) > limit:
        order = [names[0], names[-1]] + names[1:-1]
        keep = set(order[: max(int(limit), 1)])
        names = [n for n in names if n in keep]
    out = {}
    for name in names:
        overrides = [str(o) for o in variants[name]]
        instance = exp.base if not overrides else f"{exp.base}-{name}"
        out[name] = (instance, [f"scenario={exp.base}", *overrides])
    return out


BASELINE_REFERENCES = ("remote", "greedy", "local", "none")


def validate_baseline(bl) -> None:
    """Checks of the ``baseline`` group (names the key, the value and what is allowed)."""
    if bl.reference not in BASELINE_REFERENCES:
        raise ParameterError(
            f"baseline.reference: unknown value {bl.reference!r}; allowed: {', '.join(BASELINE_REFERENCES)}"
        )
    if bl.interactions is not None and bl.interactions < 1:
        raise ParameterError(
            f"baseline.interactions: must be >= 1 or null (= scenario.num_train), got {bl.interactions}"
        )
    if not bl.reward_scale > 0:
        raise ParameterError(f"baseline.reward_scale: must be > 0, got {bl.reward_scale}")
    positive = {
        "ac": ("learning_rate", "n_steps"),
        "ddpg": ("learning_rate", "buffer_size", "batch_size", "train_freq", "gradient_steps"),
        "maddpg": ("actor_lr", "critic_lr", "buffer_size", "batch_size", "train_freq", "gradient_steps"),
    }
    for group, keys in positive.items():
        for key in keys:
            if not bl[group][key] > 0:
                raise ParameterError(f"baseline.{group}.{key}: must be > 0, got {bl[group][key]}")
    for group in ("ddpg", "maddpg"):
        if bl[group].noise_sigma < 0 or bl[group].learning_starts < 0:
            raise ParameterError(
                f"baseline.{group}: noise_sigma and learning_starts must be >= 0, got "
                f"{bl[group].noise_sigma}, {bl[group].learning_starts}"
            )
    hidden = [*bl.ac.net_arch, *bl.ddpg.net_arch, *bl.maddpg.critic_hidden, *(bl.maddpg.actor_hidden or [])]
    if any(h < 1 for h in hidden):
        raise ParameterError(f"baseline: hidden layer sizes must be >= 1, got {hidden}")


def validate_dirs(d) -> None:
    """Ranges of the DIRS settings (``dirs.*``)."""
    for key in (
        "capacity",
        "batch",
        "refine_every",
        "steps_per_refine",
        "validation_samples",
        "validate_every",
        "reward_window",
        "threads",
        "num_demos",
    ):
        if d[key] < 1:
            raise ParameterError(f"dirs.{key}: must be >= 1, got {d[key]}")
    for key in ("pretrain_steps", "checkpoint_every", "lambda1", "lambda2", "pretrain_validate_every"):
        if d[key] < 0:
            raise ParameterError(f"dirs.{key}: must be >= 0, got {d[key]}")
    for key in ("lr", "eps_agent", "eps_demo", "alpha"):
        if not d[key] > 0:
            raise ParameterError(f"dirs.{key}: must be > 0, got {d[key]}")
    if d.hidden is not None and (len(d.hidden) == 0 or any(int(h) < 1 for h in d.hidden)):
        raise ParameterError(
            f"dirs.hidden: hidden layer sizes must be a non-empty list of integers >= 1 (or null for the "
            f"paper's sizes), got {list(d.hidden)}"
        )
    if d.num_demos > d.capacity:
        raise ParameterError(f"dirs.num_demos: must be <= dirs.capacity={d.capacity}, got {d.num_demos}")
    if not 0 <= d.epsilon <= 1:
        raise ParameterError(f"dirs.epsilon: must lie in [0, 1], got {d.epsilon}")
    if d.select not in SELECTIONS:
        raise ParameterError(f"dirs.select: unknown value {d.select!r}; allowed: {list(SELECTIONS)}")
    for name, v in d.variants.items():
        if v.demonstrator not in ("levy", "oracle"):
            raise ParameterError(
                f"dirs.variants.{name}.demonstrator: unknown value {v.demonstrator!r}; allowed: ['levy', 'oracle']"
            )
        if v.exploration not in ("levy", "epsilon_greedy"):
            raise ParameterError(
                f"dirs.variants.{name}.exploration: unknown value {v.exploration!r}; allowed: ['levy', 'epsilon_greedy']"
            )
    if d.variant not in d.variants:
        raise ParameterError(f"dirs.variant: unknown variant {d.variant!r}; defined: {sorted(d.variants)}")


def system_params(cfg: DictConfig) -> SystemParams:
    """The :class:`SystemParams` of the configured scenario."""
    sc = cfg.scenario
    names = [f for f in SystemParams.__dataclass_fields__]
    return SystemParams(**{n: sc[n] for n in names})


def to_container(cfg: DictConfig) -> dict[str, Any]:
    return OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)  # type: ignore[return-value]


def save_frozen(cfg: DictConfig, path: str | Path) -> None:
    """Write the resolved config as plain YAML (atomically)."""
    from dirs.common import write_text_atomic

    write_text_atomic(path, OmegaConf.to_yaml(OmegaConf.create(to_container(cfg))))


def load_frozen(path: str | Path) -> DictConfig:
    """Read a frozen config back, re-validated against the schema."""
    register_configs()
    schema = OmegaConf.structured(Config)
    try:
        cfg = OmegaConf.merge(schema, OmegaConf.load(path))
    except Exception as exc:  # OmegaConf raises several types; report them uniformly
        raise ParameterError(f"{path}: invalid frozen config: {exc}") from None
    validate(cfg)
    return cfg  # type: ignore[return-value]


def flatten(cfg: DictConfig | dict, prefix: str = "") -> dict[str, Any]:
    """Flatten a config to ``{"a.b.c": value}`` (for MLflow params)."""
    data = to_container(cfg) if isinstance(cfg, DictConfig) else cfg
    out: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


# ----------------------------------------------------------------------------------------------
# Input checks ([inputs]): unknown override keys, seeds, derived costs, memory.


def _unwrap_optional(tp: Any) -> Any:
    import typing

    if typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _schema_fields(cls: type) -> dict[str, Any]:
    """Field name → (Optional-unwrapped) type of a schema dataclass."""
    import typing

    return {k: _unwrap_optional(v) for k, v in typing.get_type_hints(cls).items()}


def _is_schema_class(tp: Any) -> bool:
    import dataclasses

    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def schema_keys(cls: type | None = None, prefix: str = "") -> list[str]:
    """Every dotted key of the schema (``scenario``, ``scenario.num_iotds``, …); the entries of a
    free-form dict field (``dirs.variants``, ``experiment.variants``) are written ``<name>``."""
    import typing

    out: list[str] = []
    for name, tp in _schema_fields(cls or Config).items():
        key = f"{prefix}{name}"
        out.append(key)
        if _is_schema_class(tp):
            out.extend(schema_keys(tp, key + "."))
        elif typing.get_origin(tp) is dict:
            value = _unwrap_optional(typing.get_args(tp)[1]) if typing.get_args(tp) else None
            if _is_schema_class(value):
                out.extend(schema_keys(value, key + ".<name>."))
    return out


def unknown_key(key: str) -> tuple[str, list[str]] | None:
    """``None`` if ``key`` (dotted) names a key of the schema, else ``(bad prefix, valid siblings)``."""
    import typing

    node: Any = Config
    prefix: list[str] = []
    for part in key.split("."):
        if _is_schema_class(node):
            fields = _schema_fields(node)
            if part not in fields:
                return ".".join([*prefix, part]), [".".join([*prefix, f]) for f in fields]
            node = fields[part]
        elif typing.get_origin(node) is dict:
            args = typing.get_args(node)
            node = _unwrap_optional(args[1]) if args else Any
        elif typing.get_origin(node) is list or node is Any:
            return None  # a list index or a free-form value: Hydra checks it
        else:
            return ".".join([*prefix, part]), []  # a sub-key of a plain value
        prefix.append(part)
    return None


def check_override_keys(overrides: Sequence[str]) -> None:
    """Refuse an override whose key is not in the schema, in any form (``key=v``, ``+key=v``,
    ``++key=v``, ``~key``): the schema is closed, so ``+`` never legitimately adds a key here.
    The message names the key and the nearest valid names (difflib)."""
    import difflib

    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    parsed = []
    for text in overrides:
        try:
            parsed.extend(parser.parse_overrides(overrides=[text]))
        except HydraException as exc:
            raise ParameterError(
                f"configuration error: cannot parse override {text!r}: {_one_line(str(exc))}"
            ) from None
    for text, ov in zip(overrides, parsed):
        key = ov.key_or_group
        if key == "hydra" or key.startswith("hydra.") or ov.package is not None:
            continue  # Hydra's own settings / a package override: Hydra validates them
        bad = unknown_key(key)
        if bad is None:
            continue
        where, siblings = bad
        all_keys = [k for k in schema_keys() if "<name>" not in k]
        last = where.rsplit(".", 1)[-1]
        near = difflib.get_close_matches(where, siblings, n=3, cutoff=0.6)
        near += [k for k in difflib.get_close_matches(where, all_keys, n=3, cutoff=0.75) if k not in near]
        near += [k for k in all_keys if k.rsplit(".", 1)[-1] == last and k not in near]
        hint = (
            f"did you mean {', '.join(near[:4])}?"
            if near
            else (
                f"valid keys here: {', '.join(s.rsplit('.', 1)[-1] for s in siblings)}"
                if siblings
                else f"{where.rsplit('.', 1)[0]} is a value, not a group of keys"
            )
        )
        plus = " ('+' cannot add keys: the configuration schema is closed)" if ov.is_add() or ov.is_force_add() else ""
        raise ParameterError(f"{where}: unknown configuration key in override {text!r}{plus}; {hint}")


def _one_line(text: str) -> str:
    """Hydra / OmegaConf messages on one line (no object_type noise, no search path dump)."""
    keep = []
    for line in str(text).splitlines():
        line = line.strip()
        if line.startswith("Config search path"):
            break
        if not line or line.startswith(("reference_type=", "object_type=", "See https://hydra.cc")):
            continue
        keep.append(line)
    out = "; ".join(keep)
    return out.replace(":; ", ": ").replace("options in", "options in").strip()


def validate_seeds(cfg: DictConfig) -> None:
    """``seed`` and every ``profile.seeds`` entry are integers >= 0 (NumPy seeds are unsigned)."""
    if int(cfg.seed) < 0:
        raise ParameterError(f"seed: must be an integer >= 0, got {cfg.seed}")
    bad = [s for s in cfg.profile.seeds if int(s) < 0]
    if bad:
        raise ParameterError(f"profile.seeds: every seed must be an integer >= 0, got {list(cfg.profile.seeds)}")


def _derived_costs(params: SystemParams, area_m: float, num_iotds: int) -> list[tuple[str, Any, tuple[str, ...]]]:
    """(label, value, fields it depends on) of every derived cost :func:`validate_derived` checks."""
    import numpy as np

    from dirs.system.allocation import local_cost, optimal_transmission

    n = max(int(num_iotds), 1)
    out: list[tuple[str, Any, tuple[str, ...]]] = []
    with np.errstate(all="ignore"):
        cost0, t0, e0 = local_cost(params)
        out += [
            ("local time F/f0", n * np.asarray(t0, dtype=np.float64), ("cpu_cycles", "local_cpu_hz")),
            (
                "local energy kappa*f0^nu*F/f0",
                n * np.asarray(e0, dtype=np.float64),
                ("kappa", "local_cpu_hz", "nu", "cpu_cycles"),
            ),
            ("local cost phi_t*T0 + phi_e*E0", n * np.asarray(cost0, dtype=np.float64), ("phi_t", "phi_e")),
        ]
        d = np.asarray(params.data_bits, dtype=np.float64)
        b = np.asarray(params.bandwidth_hz, dtype=np.float64)
        fields = ("data_bits", "bandwidth_hz", "beta0", "noise_w", "max_power_w", "phi_t", "phi_e")
        for label, dist2 in (("d = 1 m", 1.0), ("the far corner of the area", max(2.0 * float(area_m) ** 2, 1.0))):
            x = np.full(np.broadcast(d, b).shape, params.beta0 / dist2 / params.noise_w)
            _, t, e = optimal_transmission(x, params.phi_t, params.phi_e, d, b, np.asarray(params.max_power_w))
            out.append((f"transmission cost at {label}", n * (params.phi_t * t + params.phi_e * e), fields))
        f = np.asarray(params.cpu_cycles, dtype=np.float64).max()
        out.append(
            (
                "server compute cost phi_t*N*F/F_max (all IoTDs on the slowest server)",
                n * n * params.phi_t * f / np.asarray(params.mec_cpu_hz, dtype=np.float64).min(),
                ("mec_cpu_hz", "cpu_cycles", "phi_t"),
            )
        )
    return out


#: Upper bound of every derived cost summed over the IoTDs: far above any physical objective, low
#: enough that sums over samples and their squares (the evaluation tables' mean and std) stay finite.
COST_LIMIT = 1e100


def validate_derived(params: SystemParams, area_m: float, num_iotds: int = 1, key=None) -> None:
    """Derived quantities of the scenario's parameters are finite, positive and at most
    :data:`COST_LIMIT`: the local cost (time F/f0 and energy κ f0^ν F/f0), the transmission cost at
    the strongest (d = 1 m) and the weakest mean gain (far corner of the area) and the server compute
    cost, each summed over the ``num_iotds`` IoTDs (the objective).  An overflow (e.g. kappa=1e300)
    names the field: the first one whose default value makes that quantity finite again, written
    ``key(field)`` (default ``scenario.<field>``)."""
    import numpy as np

    key = key or (lambda f: f"scenario.{f}")

    def first_bad(p: SystemParams):
        for label, value, fields in _derived_costs(p, area_m, num_iotds):
            v = np.asarray(value, dtype=np.float64)
            ok = np.isfinite(v) & (v > 0) & (v <= COST_LIMIT)
            if not np.all(ok):
                return label, float(v.flat[int(np.argmax(~ok))]), fields
        return None

    bad = first_bad(params)
    if bad is None:
        return
    label, value, fields = bad
    defaults = SystemParams()
    culprit = fields[0]
    for name in fields:
        try:
            trial = first_bad(params.replace(**{name: getattr(defaults, name)}))
        except ParameterError:
            continue
        if trial is None or trial[0] != label:
            culprit = name
            break
    shown = getattr(params, culprit)
    shown = shown if np.ndim(shown) == 0 else f"array up to {np.max(shown):g}"
    raise ParameterError(
        f"{key(culprit)}: makes the {label} (summed over N={num_iotds} IoTDs) {value!r}, it must be finite, "
        f"> 0 and <= {COST_LIMIT:g}; {key(culprit)}={shown!r} (the quantity depends on "
        f"{', '.join(key(f) for f in fields)})"
    )


def available_memory() -> int | None:
    """Bytes of memory available now (``MemAvailable`` of /proc/meminfo, else os.sysconf), or None."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def validate_memory(cfg: DictConfig, available: int | None = None) -> None:
    """Refuse sizes whose channel gains alone, (num_train + num_test)·N·M float64, would not fit in
    the memory available now (``available`` bytes; default :func:`available_memory`)."""
    sc = cfg.scenario
    need = (int(sc.num_train) + int(sc.num_test)) * int(sc.num_iotds) * int(sc.num_servers) * 8
    have = available_memory() if available is None else int(available)
    if have is not None and need > have:
        raise ParameterError(
            f"scenario.num_train: the channel gains need (num_train + num_test)*N*M*8 = "
            f"({sc.num_train} + {sc.num_test})*{sc.num_iotds}*{sc.num_servers}*8 bytes = {need / 2**30:.1f} GiB, "
            f"more than the {have / 2**30:.1f} GiB of memory available; lower scenario.num_train / num_test / "
            "num_iotds / num_servers"
        )


def validate_evaluation(cfg) -> None:
    """``evaluation.*`` sample counts are positive (a zero or negative count would blank a column),
    the reference's gap lies in [0, 0.1) and its time limit is positive."""
    for key in ("timing_samples", "search_samples"):
        if cfg.evaluation[key] < 1:
            raise ParameterError(f"evaluation.{key}: must be >= 1, got {cfg.evaluation[key]}")
    if not 0 <= cfg.evaluation.reference_rel_gap < 0.1:
        raise ParameterError(
            f"evaluation.reference_rel_gap: must lie in [0, 0.1), got {cfg.evaluation.reference_rel_gap}"
        )
    if not cfg.evaluation.reference_time_limit_s > 0:
        raise ParameterError(
            f"evaluation.reference_time_limit_s: must be > 0, got {cfg.evaluation.reference_time_limit_s}"
        )


#: Report kinds of an experiment (the rule that builds it, workflow/rules/experiments.smk).
REPORTS = (
    "none",
    "quality",
    "cost",
    "time_energy",
    "objective_vs_n",
    "scale",
    "allocation",
    "imitation",
    "pretrain_loss",
    "training_reward",
    "levy_fitness",
    "hetero",
)


def validate_experiment(exp) -> None:
    """``experiment.report`` is a known kind, and a selected experiment shows at least one row."""
    if exp.report not in REPORTS:
        raise ParameterError(
            f"experiment.report: unknown report kind {exp.report!r} (experiment {exp.id}); "
            f"allowed: {', '.join(REPORTS)}"
        )
    if exp.id != "none" and exp.report != "none" and not exp.methods:
        raise ParameterError(f"experiment.methods: experiment {exp.id!r} lists no rows to show")
