"""Configuration of the time-coupled MEC model (docs/design.md §11.1, [online]).

:class:`OnlineConfig` holds everything that defines the exogenous process and the queues, beside the
deployment (a :class:`dirs.system.Scenario`: server positions, the IoTDs' initial positions and the
device parameters):

* arrivals — ``arrival`` (``bernoulli``: A_i(t) ∈ {0, 1} with P(A = 1) = ``rate``; ``poisson``: A_i(t) ~
  Poisson(``rate``) truncated at ``max_arrivals``), i.i.d. over IoTDs and slots (§11.1, eq. 11.1);
* task sizes — ``tasks``: a distribution per field (``data_bits``, ``cpu_cycles``) in the form of
  :mod:`dirs.system.tasks`, default the ``hetero`` family's (conf/scenario/hetero.yaml);
* the slot length ``slot_s`` τ (seconds), the per-IoTD ``buffer_limit`` (tasks in system; ``None``
  = unbounded);
* mobility — ``static`` or ``gauss-markov`` (``speed_mps`` σ_v per axis, ``memory`` α; eq. 11.2);
* fading — AR(1) on the complex Gaussian coefficient, ``fading_rho`` ρ ∈ [0, 1) (eq. 11.3);
  ρ = 0 is the paper's independent Rayleigh fading.

Every check raises :class:`dirs.system.params.ParameterError` naming the field and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dirs.system.params import ParameterError
from dirs.system.tasks import check_distribution

ARRIVALS = ("bernoulli", "poisson")
MOBILITY = ("static", "gauss-markov")
TASK_FIELDS = ("data_bits", "cpu_cycles")
#: Sizes of the paper's deployments the CLI and the experiment use (conf/scenario/<name>.yaml).
SIZES = ("medium", "large", "xlarge")
#: Task sizes of the ``hetero`` family (conf/scenario/hetero.yaml; a test keeps the two equal).
HETERO_TASKS: dict[str, dict[str, Any]] = {
    "cpu_cycles": {"dist": "uniform", "low": 0.2e9, "high": 2.0e9},
    "data_bits": {"dist": "uniform", "low": 4.0e5, "high": 8.0e6},
}


def _hetero_tasks() -> dict[str, dict[str, Any]]:
    return {k: dict(v) for k, v in HETERO_TASKS.items()}


@dataclass(frozen=True)
class OnlineConfig:
    """The exogenous process and queue parameters of docs/design.md §11.1 (module docstring)."""

    arrival: str = "bernoulli"
    """Arrival process per IoTD and slot: ``bernoulli`` or ``poisson``."""
    rate: float = 0.5
    """λ: mean arrivals per IoTD per slot (≤ 1 for ``bernoulli``)."""
    max_arrivals: int = 8
    """Poisson arrivals are truncated at this many per IoTD and slot (P(A > 8) < 1e-6 for λ ≤ 1)."""
    slot_s: float = 0.5
    """τ: slot length in seconds (work the device completes per slot)."""
    tasks: dict[str, Any] = field(default_factory=_hetero_tasks)
    """Distribution of each task's ``data_bits`` and ``cpu_cycles`` (dirs.system.tasks form)."""
    buffer_limit: int | None = None
    """Most tasks an IoTD holds (waiting + in service); arrivals beyond it are dropped. None: no limit."""
    mobility: str = "static"
    """``static`` (the scenario's positions) or ``gauss-markov`` (eq. 11.2)."""
    speed_mps: float = 1.0
    """σ_v: standard deviation of each velocity component in m/s (Gauss–Markov)."""
    memory: float = 0.9
    """α ∈ [0, 1): memory of the Gauss–Markov velocity (0: independent velocities per slot)."""
    fading_rho: float = 0.0
    """ρ ∈ [0, 1): AR(1) correlation of the complex fading coefficient (0: the paper's i.i.d. Rayleigh)."""
    block_slots: int = 1024
    """Slots of exogenous randomness drawn at once (vectorisation only; results do not depend on it)."""

    def __post_init__(self) -> None:
        _choice("arrival", self.arrival, ARRIVALS)
        _choice("mobility", self.mobility, MOBILITY)
        rate = _number("rate", self.rate, low=0.0, low_open=True)
        if self.arrival == "bernoulli" and rate > 1:
            raise ParameterError(f"rate: a bernoulli arrival probability must lie in (0, 1], got {rate}")
        _integer("max_arrivals", self.max_arrivals, 1)
        _number("slot_s", self.slot_s, low=0.0, low_open=True)
        _number("speed_mps", self.speed_mps, low=0.0)
        _number("memory", self.memory, low=0.0, high=1.0, high_open=True)
        _number("fading_rho", self.fading_rho, low=0.0, high=1.0, high_open=True)
        _integer("block_slots", self.block_slots, 1)
        if self.buffer_limit is not None:
            _integer("buffer_limit", self.buffer_limit, 1)
        object.__setattr__(self, "tasks", check_tasks(self.tasks))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OnlineConfig:
        """A config from a plain mapping (e.g. a YAML file); unknown keys name the allowed ones."""
        if not isinstance(data, Mapping):
            raise ParameterError(f"online config: expected a mapping of field -> value, got {data!r}")
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ParameterError(f"online config: unknown key(s) {unknown}; allowed: {known}")
        return cls(**dict(data))

    def replace(self, **changes: Any) -> OnlineConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def mean_cpu_cycles(self) -> float:
        """E[F] of one task (for the Local stability limit τ f0 / E[F] and the observation scale)."""
        return _mean(self.tasks["cpu_cycles"])

    @property
    def mean_data_bits(self) -> float:
        """E[D] of one task."""
        return _mean(self.tasks["data_bits"])


def check_tasks(tasks: Any) -> dict[str, Any]:
    """The ``tasks`` spec checked: exactly ``data_bits`` and ``cpu_cycles``, each a valid distribution."""
    if not isinstance(tasks, Mapping):
        raise ParameterError(f"tasks: expected a mapping with keys {list(TASK_FIELDS)}, got {tasks!r}")
    keys = sorted(tasks)
    if keys != sorted(TASK_FIELDS):
        raise ParameterError(
            f"tasks: a task is described by exactly {list(TASK_FIELDS)} (device fields stay in the scenario's "
            f"params), got {keys}"
        )
    return {name: check_distribution(name, tasks[name]) for name in TASK_FIELDS}


def _mean(dist: Mapping[str, Any]) -> float:
    if dist["dist"] == "fixed":
        return float(dist["value"])
    lo, hi = float(dist["low"]), float(dist["high"])
    if dist["dist"] == "uniform" or lo == hi:
        return 0.5 * (lo + hi)
    return (hi - lo) / math.log(hi / lo)  # log-uniform


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in allowed:
        raise ParameterError(f"{name}: unknown value {value!r}; allowed: {list(allowed)}")


def _number(name, value, *, low=-math.inf, high=math.inf, low_open=False, high_open=False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(f"{name}: expected a number, got {value!r}")
    v = float(value)
    bad_low = v <= low if low_open else v < low
    bad_high = v >= high if high_open else v > high
    if not math.isfinite(v) or bad_low or bad_high:
        lo_b, hi_b = "(" if low_open else "[", ")" if high_open else "]"
        raise ParameterError(f"{name}: must lie in {lo_b}{low:g}, {high:g}{hi_b}, got {value!r}")
    return v


def _integer(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ParameterError(f"{name}: expected an integer >= {low}, got {value!r}")
    return int(value)


def make_scenario(size: str, seed: int = 0):
    """The paper's deployment ``size`` (one of :data:`SIZES`; conf/scenario/<size>.yaml) for ``seed``:
    server positions, the IoTDs' initial positions and the device parameters (docs/design.md §1.3)."""
    from dirs.config import compose
    from dirs.system.families import paper_scenario

    _choice("size", size, SIZES)
    return paper_scenario(compose([f"scenario={size}", f"seed={int(seed)}"]))


__all__ = [
    "ARRIVALS",
    "HETERO_TASKS",
    "MOBILITY",
    "SIZES",
    "TASK_FIELDS",
    "OnlineConfig",
    "check_tasks",
    "make_scenario",
]
