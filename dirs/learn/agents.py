"""DIRS agents (paper §IV-A): one MLP per MEC server, all M of them evaluated in one batched pass.

Agent j sees its own column of channel gains h_j = (h_1j … h_Nj) and outputs N sigmoid
probabilities π_j(h_j)_i = "IoTD i offloads to server j".  The layer sizes are the paper's
([N, hidden…, N]; medium [30, 80, 60, 30], large [180, 260, 200, 180], xlarge [200, 300, 250, 200]).

Inputs are standardised log-gains: x_ij = (log h_ij − μ_ij) / σ_ij, with μ, σ per (IoTD, server)
from the training samples, stored with the model (raw gains are ~1e-6…1e-3, far outside the
range a sigmoid/ReLU network trains well on).

The M agents' weights are stacked into ``(M, in, out)`` tensors and every layer is one
``torch.baddbmm``, so a decision for any batch costs L batched matrix products, not M·L.
A :class:`Policy` bundles the network, the input statistics and the system parameters, and is
saved as ``policy.pt`` (tensors only, ``weights_only`` loadable) + ``policy.json`` (plain data).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dirs.common import atomic_path, write_json_atomic
from dirs.learn.vote import vote_stacked
from dirs.system.params import ParameterError, SystemParams

#: Paper layer sizes (hidden layers) by scenario size N (paper §V).
PAPER_HIDDEN = {30: [80, 60], 180: [260, 200], 200: [300, 250]}
POLICY_FORMAT = 1


def hidden_layers(num_iotds: int, hidden: Sequence[int] | None = None) -> list[int]:
    """Hidden sizes: ``hidden`` if given, else the paper's for this N, else ⌈1.5N⌉, ⌈1.25N⌉ (≥ 80, 60)."""
    if hidden:
        return [int(h) for h in hidden]
    if num_iotds in PAPER_HIDDEN:
        return list(PAPER_HIDDEN[num_iotds])
    return [max(80, math.ceil(1.5 * num_iotds)), max(60, math.ceil(1.25 * num_iotds))]


class StackedAgents(torch.nn.Module):
    """M independent MLPs ``N → hidden… → N`` (ReLU hidden, sigmoid out) with stacked weights."""

    def __init__(
        self, num_iotds: int, num_servers: int, hidden: Sequence[int], generator: torch.Generator | None = None
    ):
        super().__init__()
        self.num_iotds, self.num_servers = int(num_iotds), int(num_servers)
        self.sizes = [self.num_iotds, *[int(h) for h in hidden], self.num_iotds]
        self.weights = torch.nn.ParameterList()
        self.biases = torch.nn.ParameterList()
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]):
            bound = 1.0 / math.sqrt(fan_in)  # PyTorch's nn.Linear default initialisation
            w = (
                torch.rand(self.num_servers, fan_in, fan_out, generator=generator, dtype=torch.float32) * 2 - 1
            ) * bound
            b = (torch.rand(self.num_servers, 1, fan_out, generator=generator, dtype=torch.float32) * 2 - 1) * bound
            self.weights.append(torch.nn.Parameter(w))
            self.biases.append(torch.nn.Parameter(b))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(M, B, N)`` from standardised inputs ``(M, B, N)`` (agent j reads row j)."""
        last = len(self.weights) - 1
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = torch.baddbmm(b, x, w)
            if k < last:
                x = torch.relu(x)
        return x

    def l2(self) -> torch.Tensor:
        """‖θ_j‖² per agent, ``(M,)`` (the λ1 term of L1, paper Alg. 2)."""
        return sum((w * w).sum((1, 2)) + (b * b).sum((1, 2)) for w, b in zip(self.weights, self.biases))


def stacked_forward(layers: Sequence[tuple[torch.Tensor, torch.Tensor]], x: torch.Tensor) -> torch.Tensor:
    """Logits ``(M, B, N)`` of frozen stacked layers ``[(W (M, in, out), b (M, 1, out)), …]`` (no autograd:
    ReLU in place) — the inference twin of :meth:`StackedAgents.forward`."""
    last = len(layers) - 1
    for k, (w, b) in enumerate(layers):
        x = torch.baddbmm(b, x, w)
        if k < last:
            x = torch.relu_(x)
    return x


def inference_layout(w: torch.Tensor) -> torch.Tensor:
    """The same ``(M, in, out)`` weights, stored so that a batch-1 ``baddbmm`` reads them fastest.

    A small-batch product x·W is bound by reading W.  With ``out < in`` (e.g. N = 2000 → 64) the
    kernel is fastest as ``out`` dot products over contiguous rows of length ``in``, i.e. with W
    stored as ``(M, out, in)``; with ``out ≥ in`` the ``(M, in, out)`` storage streams long rows.
    Measured on the scale study's N = 2000, M = 50 agents (``python -m dirs.bench layout``, quiet
    machine): first layer 1.45 ms stored ``(M, out, in)`` vs 2.59 ms ``(M, in, out)``; the last
    layer (64 → 2000) keeps ``(M, in, out)``, which a loaded run measured at 1.6 vs 3.1 ms transposed.
    Returns a view with the original shape, so the arithmetic is unchanged.
    """
    if w.shape[-1] < w.shape[-2]:
        return w.transpose(-1, -2).contiguous().transpose(-1, -2)
    return w.contiguous()


class InputScaler:
    """x = (log h − μ) / σ per (IoTD, server); statistics from training gains."""

    def __init__(self, mean: np.ndarray, std: np.ndarray):
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.asarray(std, dtype=np.float64)
        self._mean_t = torch.as_tensor(self.mean.T[:, None, :], dtype=torch.float32)  # (M, 1, N)
        self._inv_t = torch.as_tensor(1.0 / self.std.T[:, None, :], dtype=torch.float32)

    @classmethod
    def fit(cls, gains: np.ndarray) -> InputScaler:
        lg = np.log(np.asarray(gains, dtype=np.float64))
        return cls(lg.mean(0), np.maximum(lg.std(0), 1e-6))

    def __call__(self, gains: np.ndarray) -> torch.Tensor:
        """``(T, N, M)`` gains → ``(M, T, N)`` float32 agent inputs."""
        # float32 log in torch (vectorised; ~3x NumPy's float64 log at N·M = 1e5); gains are
        # ≫ float32's smallest normal, so the rounding is one float32 ulp of the standardised input
        g = torch.from_numpy(np.asarray(gains, dtype=np.float64))
        lg = g.to(torch.float32).log_().permute(2, 0, 1)
        return (lg - self._mean_t) * self._inv_t


def targets(decisions: np.ndarray, num_servers: int) -> torch.Tensor:
    """Agent labels ``(M, T, N)``: 1[a*_i = j] (the target of agent j's output i, paper Alg. 2)."""
    a = torch.as_tensor(np.asarray(decisions), dtype=torch.int64)
    return (a[None] == torch.arange(1, num_servers + 1)[:, None, None]).to(torch.float32)


class Policy:
    """Trained DIRS agents + input statistics + system parameters: ``decide(gains) → (T, N)``."""

    def __init__(
        self, net: StackedAgents, scaler: InputScaler, params: SystemParams, meta: dict[str, Any] | None = None
    ):
        self.net = net.eval()
        self.scaler = scaler
        self.params = params
        self.meta = dict(meta or {})
        # frozen plain tensors: the inference path skips nn.Module dispatch (batch-1 latency)
        self._layers = [(inference_layout(w.detach()), b.detach()) for w, b in zip(net.weights, net.biases)]

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Same as ``self.net(x)`` on the frozen weights (one baddbmm per layer for all M agents)."""
        return stacked_forward(self._layers, x)

    @property
    def num_iotds(self) -> int:
        return self.net.num_iotds

    @property
    def num_servers(self) -> int:
        return self.net.num_servers

    def probabilities(self, gains: np.ndarray) -> torch.Tensor:
        """``(M, T, N)`` offloading probabilities π_j(h_j) of every agent."""
        with torch.inference_mode():
            return torch.sigmoid(self.logits(self.scaler(gains)))

    def decide(self, gains: np.ndarray, repair: bool = False, params: SystemParams | None = None) -> np.ndarray:
        """Voted decisions ``(T, N)`` (or ``(N,)`` for one ``(N, M)`` sample); optionally repaired by
        single-IoTD improving moves (:func:`dirs.solvers.local_search.improve_tables`) priced with
        ``params`` (the samples' system params, e.g. per-slot task sizes; default: the params the
        agents were trained with).  The agents themselves see only the gains (paper §IV)."""
        g, single = check_policy_gains(gains, self.num_iotds, self.num_servers)
        if params is not None and not isinstance(params, SystemParams):
            raise ParameterError(
                f"params: expected a SystemParams (e.g. Scenario.load(path).params), got {type(params).__name__}"
            )
        with torch.inference_mode():
            logits = self.logits(self.scaler(g))  # (M, T, N)
            # the vote in logit space: σ is monotone and σ(z) ≥ 0.5 ⇔ z ≥ 0, so this is the
            # paper's rule without the sigmoid (and without float32 σ's saturation ties)
            a = vote_stacked(logits, threshold=0.0)
        if repair:
            from dirs.solvers.costs import cost_tables
            from dirs.solvers.local_search import improve_tables

            a = improve_tables(a, cost_tables(g, self.params if params is None else params))
        return a[0] if single else a

    # -------------------------------------------------------------- persistence
    def save(self, directory: str | Path) -> None:
        """``policy.pt`` (weights and input statistics as tensors) and ``policy.json`` (config)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tensors = {
            "weights": [w.detach().clone() for w in self.net.weights],
            "biases": [b.detach().clone() for b in self.net.biases],
            "input_mean": torch.as_tensor(self.scaler.mean),
            "input_std": torch.as_tensor(self.scaler.std),
        }
        with atomic_path(directory / "policy.pt") as tmp:
            torch.save(tensors, tmp)
        write_json_atomic(
            directory / "policy.json",
            {
                "format_version": POLICY_FORMAT,
                "num_iotds": self.num_iotds,
                "num_servers": self.num_servers,
                "layers": self.net.sizes,
                "params": self.params.to_dict(),
                "meta": self.meta,
            },
        )


def build_net(num_iotds: int, num_servers: int, hidden: Sequence[int] | None, seed: int) -> StackedAgents:
    gen = torch.Generator().manual_seed(int(seed))
    return StackedAgents(num_iotds, num_servers, hidden_layers(num_iotds, hidden), generator=gen)


def check_policy_gains(gains, num_iotds: int, num_servers: int, name: str = "gains") -> tuple[np.ndarray, bool]:
    """Validate a policy's input as :func:`dirs.system.evaluate` does — shape ``(T, N, M)`` or
    ``(N, M)`` for this policy's N, M, every entry finite and > 0 — and return ``(g (T, N, M), single)``."""
    from dirs.system.cost import as_gains, check_gains

    shape = np.shape(as_gains(gains, name))
    if len(shape) not in (2, 3) or tuple(shape[-2:]) != (num_iotds, num_servers):
        raise ParameterError(
            f"{name}: expected shape (T, {num_iotds}, {num_servers}), got {shape} "
            f"(one sample may be given as ({num_iotds}, {num_servers}))"
        )
    try:
        g = check_gains(gains, name)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ParameterError):
            raise
        raise ParameterError(f"{name}: expected numeric channel gains, got {exc}") from None
    single = g.ndim == 2
    return (g[None] if single else g), single


def _policy_error(path: Path, message: str) -> ParameterError:
    from dirs.io import InputFileError

    return InputFileError(path, message)


def load_policy(path: str | Path) -> Policy:
    """Load a saved :class:`Policy` from its directory (or its ``policy.pt`` / ``policy.json``).

    A missing file raises FileNotFoundError; a corrupt, incomplete or inconsistent one
    :class:`dirs.io.InputFileError` (a ParameterError) naming the file and the key."""
    from dirs.io import read_json
    from dirs.learn.anysize import policy_dir

    directory = policy_dir(path)
    meta_path, pt_path = directory / "policy.json", directory / "policy.pt"
    for p in (meta_path, pt_path):
        if not p.is_file():
            raise FileNotFoundError(f"{p}: no saved policy here (expected policy.json and policy.pt)")
    meta = read_json(meta_path, what="policy JSON")
    if meta.get("format_version") != POLICY_FORMAT:
        raise _policy_error(meta_path, f"format_version {meta.get('format_version')!r} is not {POLICY_FORMAT}")
    missing = [k for k in ("num_iotds", "num_servers", "layers", "params") if k not in meta]
    if missing:
        raise _policy_error(
            meta_path, f"missing required key(s) {missing}; needs num_iotds, num_servers, layers, params"
        )
    try:
        n, m = int(meta["num_iotds"]), int(meta["num_servers"])
        sizes = [int(s) for s in meta["layers"]]
    except (TypeError, ValueError):
        raise _policy_error(
            meta_path,
            f"num_iotds, num_servers, layers: expected integers, got "
            f"{meta['num_iotds']!r}, {meta['num_servers']!r}, {meta['layers']!r}",
        ) from None
    if n < 1 or m < 1 or len(sizes) < 2 or sizes[0] != n or sizes[-1] != n or min(sizes) < 1:
        raise _policy_error(
            meta_path,
            f"layers: expected [N={n}, hidden..., N={n}] with sizes >= 1 and N, M >= 1, "
            f"got layers={sizes}, num_servers={m}",
        )
    if not isinstance(meta["params"], dict):
        raise _policy_error(meta_path, f"params: expected an object, got {type(meta['params']).__name__}")
    try:
        params = SystemParams.from_dict(meta["params"])
        params.check_sizes(n, m)
    except (ParameterError, TypeError) as exc:
        raise _policy_error(meta_path, f"params.{exc}") from None
    try:
        tensors = torch.load(pt_path, weights_only=True)
    except Exception as exc:  # noqa: BLE001 — torch's unpickler raises many types (IndexError, …) on garbage
        raise _policy_error(
            pt_path,
            f"corrupt or unreadable policy weights ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc).strip() else 'empty or truncated file'}); retrain or restore it",
        ) from None
    if not isinstance(tensors, dict):
        raise _policy_error(pt_path, f"expected a dict of tensors, got {type(tensors).__name__}")
    missing = [k for k in ("weights", "biases", "input_mean", "input_std") if k not in tensors]
    if missing:
        raise _policy_error(pt_path, f"missing tensor(s) {missing}; needs weights, biases, input_mean, input_std")
    layers = len(sizes) - 1
    if len(tensors["weights"]) != layers or len(tensors["biases"]) != layers:
        raise _policy_error(
            pt_path,
            f"weights/biases: {len(tensors['weights'])}/{len(tensors['biases'])} layers, "
            f"but policy.json layers={sizes} needs {layers}",
        )
    for k, (w, b) in enumerate(zip(tensors["weights"], tensors["biases"])):
        want_w, want_b = (m, sizes[k], sizes[k + 1]), (m, 1, sizes[k + 1])
        if tuple(w.shape) != want_w or tuple(b.shape) != want_b:
            raise _policy_error(
                pt_path,
                f"weights[{k}]/biases[{k}]: shapes {tuple(w.shape)}/{tuple(b.shape)}, "
                f"expected {want_w}/{want_b} (policy.json layers={sizes}, M={m})",
            )
        if not (torch.isfinite(w).all() and torch.isfinite(b).all()):
            raise _policy_error(pt_path, f"weights[{k}]/biases[{k}]: contain NaN or inf")
    mean, std = tensors["input_mean"].numpy(), tensors["input_std"].numpy()
    if mean.shape != (n, m) or std.shape != (n, m):
        raise _policy_error(pt_path, f"input_mean/input_std: shapes {mean.shape}/{std.shape}, expected ({n}, {m})")
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std > 0)):
        raise _policy_error(pt_path, "input_mean/input_std: must be finite, with input_std > 0")
    net = StackedAgents(n, m, sizes[1:-1])
    with torch.no_grad():
        for p, w in zip(net.weights, tensors["weights"]):
            p.copy_(w)
        for p, b in zip(net.biases, tensors["biases"]):
            p.copy_(b)
    scaler = InputScaler(mean, std)
    extra = meta.get("meta")
    if extra is not None and not isinstance(extra, dict):
        raise _policy_error(meta_path, f"meta: expected an object, got {type(extra).__name__}")
    return Policy(net, scaler, params, extra)
