"""Scenarios: IoTD and server positions plus system parameters (paper §V, docs/design.md §1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from dirs.common import mantegna_steps, write_json_atomic
from dirs.system.channel import sample_gains
from dirs.system.params import ParameterError, SystemParams

#: Version of the scenario.json layout; bump on incompatible changes (2: family, task mode, the
#: per-slot task fields stored in channels.npz and the configuration it was generated with).
FORMAT_VERSION = 2
#: How task sizes behave over slots: ``fixed`` (per IoTD, in the params) or ``per-slot`` (redrawn every
#: slot, stored in channels.npz as ``<split>_<field>``; docs/design.md §9).
TASK_MODES = ("fixed", "per-slot")


class Placement(str, Enum):
    """How IoTDs are scattered over the square area."""

    uniform = "uniform"
    gaussian = "gaussian"
    levy = "levy"


class ServerPlacement(str, Enum):
    """How servers are placed: given coordinates, or k-means centroids of the IoTDs."""

    fixed = "fixed"
    kmeans = "kmeans"


def _choice(enum: type[Enum], value: Any, name: str) -> Enum:
    try:
        return enum(value.value if isinstance(value, Enum) else value)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise ParameterError(f"{name}: unknown value {value!r}; allowed: {allowed}") from None


def place_iotds(num_iotds: int, placement: Placement | str, area_m: float, rng: np.random.Generator) -> np.ndarray:
    """IoTD positions ``(N, 2)`` in [0, area]², clipped to the area.

    * uniform: U([0, area]²);
    * gaussian: N(centre, (area/6)²) per axis;
    * levy: centre + Mantegna Lévy steps (β = 1.5) scaled by area/20 — a heavy-tailed cloud.
    """
    placement = _choice(Placement, placement, "placement")
    centre = area_m / 2.0
    if placement is Placement.uniform:
        pos = rng.uniform(0.0, area_m, size=(num_iotds, 2))
    elif placement is Placement.gaussian:
        pos = rng.normal(centre, area_m / 6.0, size=(num_iotds, 2))
    else:
        pos = centre + (area_m / 20.0) * mantegna_steps(1.5, (num_iotds, 2), rng)
    return np.clip(pos, 0.0, area_m)


def place_servers(
    users: np.ndarray,
    num_servers: int,
    placement: ServerPlacement | str,
    positions: Sequence[Sequence[float]] | None,
    rng: np.random.Generator,
) -> np.ndarray:
    placement = _choice(ServerPlacement, placement, "server_placement")
    if placement is ServerPlacement.fixed:
        if positions is None or len(positions) != num_servers:
            got = 0 if positions is None else len(positions)
            raise ParameterError(
                f"server_positions: server_placement=fixed needs exactly num_servers={num_servers} positions, got {got}"
            )
        pos = np.asarray(positions, dtype=np.float64)
        if pos.shape != (num_servers, 2):
            raise ParameterError(f"server_positions: expected {num_servers} (x, y) pairs, got shape {pos.shape}")
        return pos
    if num_servers > len(users):
        raise ParameterError(
            f"num_servers: k-means placement needs num_servers <= num_iotds, got M={num_servers} > N={len(users)}"
        )
    seed = int(rng.integers(2**31 - 1))
    from scipy.cluster.vq import kmeans2  # here, not at import: scipy.cluster costs ~0.5 s per job

    centroids, _ = kmeans2(users, num_servers, minit="++", seed=seed)
    return centroids


def check_task_declaration(family: Any, task_mode: Any, task_fields) -> None:
    """A scenario's family (a non-empty name), task mode (:data:`TASK_MODES`) and per-slot fields
    (distinct names of per-IoTD fields; only with ``per-slot`` tasks)."""
    from dirs.system.params import PER_IOTD_FIELDS

    if not isinstance(family, str) or not family:
        raise ParameterError(f"family: expected the name of a scenario family, got {family!r}")
    if task_mode not in TASK_MODES:
        raise ParameterError(f"task_mode: unknown value {task_mode!r}; allowed: {list(TASK_MODES)}")
    fields = list(task_fields)
    bad = [f for f in fields if f not in PER_IOTD_FIELDS]
    if bad or len(set(fields)) != len(fields):
        raise ParameterError(
            f"task_fields: expected distinct per-IoTD fields out of {list(PER_IOTD_FIELDS)}, got {fields}"
        )
    if fields and task_mode != "per-slot":
        raise ParameterError(f"task_fields: {fields} are stored per slot, but task_mode is {task_mode!r}")


def _check_record(data: dict[str, Any], source: str) -> None:
    """What ``scenario.json`` declares beyond positions and params: family, task mode, per-slot
    fields (a list) and the config slice it was generated with (an object or null)."""
    if data.get("config") is not None and not isinstance(data["config"], dict):
        raise ParameterError(f"{source}: config: expected an object or null, got {type(data['config']).__name__}")
    if not isinstance(data["task_fields"], list):
        raise ParameterError(
            f"{source}: task_fields: expected a list of field names, got {type(data['task_fields']).__name__}"
        )
    try:
        check_task_declaration(data["family"], data["task_mode"], data["task_fields"])
    except ParameterError as exc:
        raise ParameterError(f"{source}: {exc}") from None


@dataclass
class Scenario:
    """One MEC deployment: fixed positions and parameters; channel samples vary per slot."""

    users: np.ndarray
    """(N, 2) IoTD coordinates in metres."""
    servers: np.ndarray
    """(M, 2) server coordinates in metres."""
    params: SystemParams = field(default_factory=SystemParams)
    area_m: float = 50.0
    name: str = "scenario"
    seed: int = 0
    placement: str = "uniform"
    meta: dict[str, Any] = field(default_factory=dict)
    family: str = "paper"
    """Scenario family that generated it (dirs.system.families)."""
    task_mode: str = "fixed"
    """``fixed`` (task sizes per IoTD, in ``params``) or ``per-slot`` (redrawn every slot)."""
    task_fields: tuple[str, ...] = ()
    """Per-IoTD fields stored per slot in ``channels.npz`` as ``<split>_<field>`` ``(T, N)`` arrays."""
    config: dict[str, Any] | None = None
    """The configuration slice it was generated with (``generate_scenario``'s rerun key), if any."""

    def __post_init__(self) -> None:
        self.users = np.asarray(self.users, dtype=np.float64)
        self.servers = np.asarray(self.servers, dtype=np.float64)
        if self.users.ndim != 2 or self.users.shape[1] != 2 or len(self.users) < 1:
            raise ParameterError(f"users: expected shape (N >= 1, 2), got {self.users.shape}")
        if self.servers.ndim != 2 or self.servers.shape[1] != 2 or len(self.servers) < 1:
            raise ParameterError(f"servers: expected shape (M >= 1, 2), got {self.servers.shape}")
        if not self.area_m > 0:
            raise ParameterError(f"area_m: must be > 0, got {self.area_m}")
        self.task_fields = tuple(self.task_fields)
        check_task_declaration(self.family, self.task_mode, self.task_fields)
        self.params.check_sizes(self.num_iotds, self.num_servers)

    @property
    def num_iotds(self) -> int:
        return int(self.users.shape[0])

    @property
    def num_servers(self) -> int:
        return int(self.servers.shape[0])

    # ---------------------------------------------------------------- creation
    @classmethod
    def generate(
        cls,
        num_iotds: int,
        num_servers: int,
        *,
        placement: str = "uniform",
        server_placement: str = "kmeans",
        server_positions: Sequence[Sequence[float]] | None = None,
        area_m: float = 50.0,
        params: SystemParams | None = None,
        seed: int = 0,
        name: str = "scenario",
    ) -> Scenario:
        if int(num_iotds) < 1:
            raise ParameterError(f"num_iotds: must be >= 1, got {num_iotds}")
        if int(num_servers) < 1:
            raise ParameterError(f"num_servers: must be >= 1, got {num_servers}")
        if not area_m > 0:
            raise ParameterError(f"area_m: must be > 0, got {area_m}")
        rng = np.random.default_rng([seed, 0x5CE])
        users = place_iotds(int(num_iotds), placement, float(area_m), rng)
        servers = place_servers(users, int(num_servers), server_placement, server_positions, rng)
        return cls(
            users=users,
            servers=servers,
            params=params or SystemParams(),
            area_m=float(area_m),
            name=name,
            seed=int(seed),
            placement=_choice(Placement, placement, "placement").value,
            meta={"server_placement": _choice(ServerPlacement, server_placement, "server_placement").value},
        )

    def sample_channels(self, num_samples: int, rng: np.random.Generator | int) -> np.ndarray:
        """``num_samples`` channel samples ``(T, N, M)`` (vectorised)."""
        if not isinstance(rng, np.random.Generator):
            rng = np.random.default_rng(rng)
        return sample_gains(self.users, self.servers, self.params.beta0, int(num_samples), rng)

    # ------------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "seed": self.seed,
            "placement": self.placement,
            "area_m": self.area_m,
            "users": self.users.tolist(),
            "servers": self.servers.tolist(),
            "params": self.params.to_dict(),
            "meta": self.meta,
            "family": self.family,
            "task_mode": self.task_mode,
            "task_fields": list(self.task_fields),
            "config": self.config,
        }

    def save(self, path: str | Path) -> None:
        write_json_atomic(path, self.to_dict())

    #: Keys every scenario.json must have.
    REQUIRED_KEYS = (
        "format_version",
        "name",
        "seed",
        "placement",
        "area_m",
        "users",
        "servers",
        "params",
        "family",
        "task_mode",
        "task_fields",
    )

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "scenario") -> Scenario:
        """A scenario from its :meth:`to_dict` form; every missing key, wrong shape, non-finite
        position or invalid parameter raises :class:`ParameterError` naming ``source`` and the key."""
        if not isinstance(data, dict):
            raise ParameterError(
                f"{source}: expected a JSON object with keys {list(cls.REQUIRED_KEYS)}, got {type(data).__name__}"
            )
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise ParameterError(
                f"{source}: format_version {version!r} is not supported (this code reads version "
                f"{FORMAT_VERSION}); regenerate the scenario"
            )
        missing = [k for k in cls.REQUIRED_KEYS if k not in data]
        if missing:
            raise ParameterError(
                f"{source}: missing required key(s) {missing}; a scenario file needs {list(cls.REQUIRED_KEYS)}"
            )
        arrays = {}
        for key in ("users", "servers"):
            try:
                arr = np.asarray(data[key], dtype=np.float64)
            except (TypeError, ValueError):
                raise ParameterError(
                    f"{source}: {key}: expected a list of (x, y) pairs in metres, got {str(data[key])[:80]}"
                ) from None
            if arr.ndim != 2 or arr.shape[1:] != (2,) or len(arr) < 1:
                raise ParameterError(
                    f"{source}: {key}: expected shape ({'N' if key == 'users' else 'M'} >= 1, 2), got {arr.shape}"
                )
            if not np.all(np.isfinite(arr)):
                k = int(np.argwhere(~np.isfinite(arr))[0][0])
                raise ParameterError(f"{source}: {key}[{k}]: positions must be finite, got {arr[k].tolist()}")
            arrays[key] = arr
        if not isinstance(data["params"], dict):
            raise ParameterError(
                f"{source}: params: expected an object of system parameters, got {type(data['params']).__name__}"
            )
        try:
            params = SystemParams.from_dict(data["params"])
        except (ParameterError, TypeError) as exc:
            raise ParameterError(f"{source}: params.{exc}") from None
        try:
            area = float(data["area_m"])
            seed = int(data["seed"])
        except (TypeError, ValueError):
            raise ParameterError(
                f"{source}: area_m, seed: expected numbers, got area_m={data['area_m']!r}, seed={data['seed']!r}"
            ) from None
        if not (np.isfinite(area) and area > 0):
            raise ParameterError(f"{source}: area_m: must be finite and > 0, got {area}")
        if not isinstance(data.get("meta", {}), dict):
            raise ParameterError(f"{source}: meta: expected an object, got {type(data['meta']).__name__}")
        _check_record(data, source)
        try:
            return cls(
                users=arrays["users"],
                servers=arrays["servers"],
                params=params,
                area_m=area,
                name=str(data["name"]),
                seed=seed,
                placement=str(data["placement"]),
                meta=dict(data.get("meta", {})),
                family=data["family"],
                task_mode=data["task_mode"],
                task_fields=tuple(data["task_fields"]),
                config=data.get("config"),
            )
        except ParameterError as exc:
            raise ParameterError(f"{source}: params.{exc}") from None

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        """A scenario from ``scenario.json``; a missing file raises FileNotFoundError, anything wrong
        in it :class:`dirs.io.InputFileError` (a ParameterError) naming the file and the key."""
        from dirs.io import InputFileError, read_json

        path = Path(path)
        data = read_json(path, what="scenario JSON")
        try:
            return cls.from_dict(data, source=str(path))
        except ParameterError as exc:
            msg = str(exc)
            raise InputFileError(path, msg[len(str(path)) + 2 :] if msg.startswith(f"{path}: ") else msg) from None

    def load_channels(self, path: str | Path, split: str = "test") -> np.ndarray:
        """Channel samples ``split`` (``train`` | ``test``) of ``channels.npz``, validated against
        this scenario's size (shape, T >= 1, finite and > 0) and the per-slot task arrays it declares
        (:func:`dirs.io.read_channels`; use :func:`dirs.io.load_split` for the split's params); a
        corrupt archive raises one :class:`dirs.io.InputFileError` naming the file."""
        from dirs.io import read_channels

        return read_channels(path, split, self)[split]

    def check_channels(self, gains: np.ndarray, name: str = "channels") -> np.ndarray:
        """Raise unless ``gains`` is ``(T, N, M)`` for this scenario, finite and positive."""
        from dirs.system.cost import check_gains

        g = check_gains(gains, name)
        if g.ndim != 3 or g.shape[1:] != (self.num_iotds, self.num_servers):
            raise ParameterError(
                f"{name}: shape {g.shape} disagrees with the scenario (expected (T, "
                f"{self.num_iotds}, {self.num_servers}))"
            )
        if g.shape[0] < 1:
            raise ParameterError(f"{name}: has no samples (shape {g.shape}); needs T >= 1")
        return g
