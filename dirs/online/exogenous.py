"""The exogenous process ω(t) of the time-coupled model (docs/design.md §11.1, §11.4): arrivals, task
sizes, positions and channel gains, drawn from seeded streams that never see a decision.

Common random numbers: :class:`Exogenous` draws each component (arrivals, each task field, moves,
fading) from its own generator (spawned from one ``numpy.random.SeedSequence`` of the seed), in blocks of ``block_slots`` slots, always whole
blocks and always in the same order, so the values of slot t depend on the seed and the config only —
every controller, every buffer limit and every run length sees the same ω(t) (the block size changes
only the rounding of the positions' running sums). Arrivals are drawn as
uniforms U_i(t) turned into counts by the inverse CDF (A = 1{U < λ} for Bernoulli), and task sizes
are drawn for every (slot, IoTD, arrival index) whether a task arrives or not, so raising λ only adds
tasks (a monotone coupling across loads, which the stability bisection of §11.6 relies on).

* mobility (eq. 11.2): Gauss–Markov velocities v(t) = α v(t−1) + σ_v √(1 − α²) w(t) per axis (Liang &
  Haas, INFOCOM 1999, with zero mean velocity), positions x(t+1) = x(t) + τ v(t), reflected at the
  area's walls (the unfolded path folded into [0, area]);
* fading (eq. 11.3): g(t) = ρ g(t−1) + √(1 − ρ²) w(t), w ~ CN(0, 1), so |g|² ~ Exp(1) in every slot
  (the paper's Rayleigh power) with lag-k correlation ρ^k of g; ρ = 0 redraws it every slot;
* gains h_ij(t) = β0 |g_ij(t)|² / max(d_ij(t)², 1 m²) (docs/design.md §1, positions of slot t).

:class:`TraceExogenous` replays given arrays (hand-computed traces, tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter
from scipy.stats import poisson

from dirs.online.config import TASK_FIELDS, OnlineConfig
from dirs.system.channel import squared_distances
from dirs.system.params import ParameterError
from dirs.system.tasks import draw

_TINY = np.finfo(np.float64).tiny
_STREAM_KEY = 0x0411  # the [online] streams' salt, so they never coincide with the scenario's


@dataclass(frozen=True)
class Block:
    """ω(t) for the slots ``start .. start + len - 1`` (read-only arrays)."""

    start: int
    arrivals: np.ndarray
    """(B, N) tasks arriving at the start of each slot."""
    data_bits: np.ndarray
    """(B, K, N) D of the k-th arrival of IoTD i in the slot (K = most arrivals per slot)."""
    cpu_cycles: np.ndarray
    """(B, K, N) F of the k-th arrival."""
    positions: np.ndarray
    """(B, N, 2) IoTD positions in metres."""
    gains: np.ndarray
    """(B, N, M) channel gains h_ij(t)."""

    def __len__(self) -> int:
        return int(self.arrivals.shape[0])


def fold(u: np.ndarray, area: float) -> np.ndarray:
    """Reflect unfolded coordinates into [0, area] (a point bouncing off the walls)."""
    r = np.mod(u, 2.0 * area)
    return area - np.abs(area - r)


class Exogenous:
    """Seeded ω(t) for one deployment and config (module docstring); :meth:`next_block` yields the
    blocks in order."""

    def __init__(self, scenario, config: OnlineConfig, seed: int) -> None:
        self.config = config
        self.users = np.asarray(scenario.users, dtype=np.float64)
        self.servers = np.asarray(scenario.servers, dtype=np.float64)
        self.area = float(scenario.area_m)
        self.beta0 = float(scenario.params.beta0)
        self.num_iotds, self.num_servers = len(self.users), len(self.servers)
        streams = np.random.SeedSequence([int(seed), _STREAM_KEY]).spawn(5)
        self._arr, self._move, self._fade = (np.random.default_rng(s) for s in streams[:3])
        self._task = {name: np.random.default_rng(s) for name, s in zip(TASK_FIELDS, streams[3:])}
        n, m = self.num_iotds, self.num_servers
        self._g = self._cn((n, m), self._fade)  # stationary start: g(−1) ~ CN(0, 1)
        sigma = config.speed_mps
        self._v = sigma * self._move.standard_normal((n, 2))  # stationary velocity
        self._u = self.users.copy()  # unfolded position of the next slot
        self._mean_gain = self.beta0 / squared_distances(self.users, self.servers)
        self._k = 1 if config.arrival == "bernoulli" else config.max_arrivals
        if config.arrival == "poisson":
            self._cdf = poisson.cdf(np.arange(config.max_arrivals), config.rate)
        self._start = 0

    @staticmethod
    def _cn(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        z = rng.standard_normal(shape + (2,))
        return (z[..., 0] + 1j * z[..., 1]) * np.sqrt(0.5)

    def _arrivals(self, b: int) -> np.ndarray:
        u = self._arr.random((b, self.num_iotds))
        if self.config.arrival == "bernoulli":
            return (u < self.config.rate).astype(np.int64)
        return np.searchsorted(self._cdf, u, side="right").astype(np.int64)  # ≤ max_arrivals

    def _positions(self, b: int) -> np.ndarray:
        if self.config.mobility == "static":
            return np.broadcast_to(self.users, (b,) + self.users.shape)
        a, sigma, tau = self.config.memory, self.config.speed_mps, self.config.slot_s
        w = self._move.standard_normal((b,) + self._v.shape)
        v = lfilter([sigma * np.sqrt(1.0 - a * a)], [1.0, -a], w, axis=0, zi=a * self._v[None])[0]
        steps = tau * np.cumsum(v, axis=0)
        unfolded = self._u + steps - tau * v  # x(t) uses the velocities of the slots before t
        self._u = self._u + steps[-1]
        self._v = v[-1]
        return fold(unfolded, self.area)

    def _fading_power(self, b: int) -> np.ndarray:
        rho = self.config.fading_rho
        w = self._cn((b,) + self._g.shape, self._fade)
        if rho == 0.0:
            g = w
        else:
            g = lfilter([np.sqrt(1.0 - rho * rho)], [1.0, -rho], w, axis=0, zi=rho * self._g[None])[0]
        self._g = g[-1]
        power = g.real * g.real + g.imag * g.imag
        return np.maximum(power, _TINY, out=power)

    def next_block(self) -> Block:
        """The next ``block_slots`` slots of ω(t)."""
        b, n = self.config.block_slots, self.num_iotds
        arrivals = self._arrivals(b)
        shape = (b, self._k, n)
        sizes = {name: draw(name, self.config.tasks[name], shape, rng) for name, rng in self._task.items()}
        positions = self._positions(b)
        power = self._fading_power(b)
        if self.config.mobility == "static":
            gains = power * self._mean_gain
        else:
            d2 = ((positions[:, :, None, :] - self.servers[None, None]) ** 2).sum(-1)
            gains = power * (self.beta0 / np.maximum(d2, 1.0))
        block = Block(
            start=self._start,
            arrivals=arrivals,
            data_bits=sizes["data_bits"],
            cpu_cycles=sizes["cpu_cycles"],
            positions=positions,
            gains=gains,
        )
        self._start += b
        return _frozen(block)


class TraceExogenous:
    """ω(t) given as arrays (one block covering the whole trace): ``arrivals`` (T, N) counts,
    ``data_bits`` and ``cpu_cycles`` (T, K, N) sizes of the k-th arrival, ``gains`` (T, N, M),
    ``positions`` (T, N, 2) optional (zeros when omitted)."""

    def __init__(self, arrivals, data_bits, cpu_cycles, gains, positions=None) -> None:
        a = np.asarray(arrivals)
        if a.ndim != 2 or a.dtype.kind not in "iu" or (a < 0).any():
            raise ParameterError(f"arrivals: expected non-negative integer counts (T, N), got {a.dtype} {a.shape}")
        t_, n = a.shape
        g = np.asarray(gains, dtype=np.float64)
        if g.ndim != 3 or g.shape[:2] != (t_, n) or not (np.isfinite(g).all() and (g > 0).all()):
            raise ParameterError(f"gains: expected finite, positive gains of shape ({t_}, {n}, M), got {g.shape}")
        k = max(int(a.max(initial=0)), 1)
        sizes = {}
        for name, v in (("data_bits", data_bits), ("cpu_cycles", cpu_cycles)):
            arr = np.asarray(v, dtype=np.float64)
            if arr.ndim != 3 or arr.shape[0] != t_ or arr.shape[2] != n or arr.shape[1] < k:
                raise ParameterError(f"{name}: expected shape ({t_}, >= {k}, {n}), got {arr.shape}")
            if not (np.isfinite(arr).all() and (arr > 0).all()):
                raise ParameterError(f"{name}: task sizes must be finite and > 0")
            sizes[name] = arr
        pos = np.zeros((t_, n, 2)) if positions is None else np.asarray(positions, dtype=np.float64)
        if pos.shape != (t_, n, 2):
            raise ParameterError(f"positions: expected shape ({t_}, {n}, 2), got {pos.shape}")
        self.num_iotds, self.num_servers = n, g.shape[2]
        self._block = _frozen(Block(0, a.astype(np.int64), sizes["data_bits"], sizes["cpu_cycles"], pos, g))
        self._given = False

    def rewind(self) -> None:
        """Replay the trace from its first slot (a new run)."""
        self._given = False

    def next_block(self) -> Block:
        if self._given:
            raise ParameterError(f"slots: the trace holds {len(self._block)} slots; the run asked for more")
        self._given = True
        return self._block


def _frozen(block: Block) -> Block:
    for arr in (block.arrivals, block.data_bits, block.cpu_cycles, block.positions, block.gains):
        if arr.flags.writeable:
            arr.setflags(write=False)
    return block


__all__ = ["Block", "Exogenous", "TraceExogenous", "fold"]
