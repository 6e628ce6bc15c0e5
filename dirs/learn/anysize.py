"""Any-size learned scheduler ([anysize], docs/design.md §9): one model for every number of IoTDs N and servers M.

Why prices.  With the CPU split in closed form the decision problem is
min Σ_i c_{i,a_i} + Σ_j φT (Σ_{i→j} √F_i)² / F_j^max.  For identical tasks it is an assignment
problem over server "slots" (docs/design.md §3), whose optimum is characterised by one *price* per server:
there are π_j such that every IoTD takes its cheapest option among local and c_ij + π_j √F_i, and
server j's price lies between the marginal costs of its last used and first unused slot.  So a
policy that outputs M numbers and decodes every IoTD by an argmin can represent the exact optimum for
any N and M, and the decoding is one vectorised pass over the (N, M) cost table.

The model (:class:`AnySizeNet`) is a message-passing network over the IoTD–server bipartite graph
that computes those prices in R rounds of iterative refinement:

* **Scale-free inputs.**  Every cost is divided by the sample's mean local cost L̄, every load by the
  mean √F: edge costs ĉ_ij = tx_ij / L̄, IoTD local costs l̂_i = local_i / L̄, IoTD loads
  ŝ_i = √F_i / mean √F, server congestion κ_j = 2 φT (mean √F)² / (F_j^max L̄) (the normalised
  marginal cost of one more unit of load).  Heterogeneous task sizes (per-IoTD or per-sample
  ``(T, N)`` arrays) and server capacities enter only through these tables.
* **IoTD → server messages** (per round, given the current prices): IoTD i's valuation of server j,
  v_ij = (best alternative of i at current prices − ĉ_ij) / ŝ_i; server j aggregates the top-K
  valuations (a sorted set aggregation, permutation invariant, K = the most slots any server can
  fill) into its *best response* — the price interval [lo_j, hi_j] at which the number of IoTDs that
  want j equals the number of slots worth filling (κ_j (k − ½) < valuation of the k-th) — and the
  load ℓ_j the current prices actually put on j (congestion fed back).
* **Server update** (learned, weights shared by all servers, rounds and sizes): an MLP on per-server
  features (gap to the best response, interval width, best-response count, load minus that count,
  price minus the load's marginal cost, log κ_j, last step, level move) and their means over servers
  (global context), outputs a step fraction, an offset inside the interval and a weight of the
  common level move: π_j ← π_j + 2σ(o₁)(mid_j − π_j) + ½ tanh(o₂)(hi_j − lo_j) + σ(o₃) δ, with δ
  (:func:`level_move`) the shift that makes the prices' slot positions add up to the loads, clipped
  at the nearest local margin.  Without it the best responses only drift when every IoTD offloads
  (N/M small): all servers lower their prices together by tiny amounts while the level is off by
  several slots.  Round 0 responds to local alone.
* **Output**: logits over {local, 1..M} per IoTD, −(ĉ_ij + π_j ŝ_i) / τ and −l̂_i / τ; the decision
  is their argmax (the cheapest option at the final prices) — congestion is respected through the
  prices, which the rounds set from the loads.
* **Rounds**: training unrolls ``rounds`` (R) rounds; decisions run at least R and then keep going,
  up to ``max_rounds``, until no decision has changed for ``patience`` consecutive rounds (per
  sample: a batch decides exactly like its samples one by one).  With many IoTDs per server the
  prices settle in ~R + patience rounds; with few (N/M ≤ 10, every IoTD offloads) they need more.

Decoding alternatives measured (NRR vs the exact optimum, 100 samples, 12 rounds unless said):

* tatonnement on the hard loads (π_j ← κ_j ℓ_j, damped): oscillates, NRR 0.1–0.5 after round 1;
* damped Newton on the entropy-smoothed dual (full M × M Hessian) from zero prices: unstable,
  0.4–0.9;
* Sinkhorn (IoTD log-sum-exp / closed-form server prices on the slot staircase) with an annealed
  temperature: 0.74 on 200 × 10, 0.97 on 200 × 50 after 20 rounds — too slow from a cold start;
* damped (0.7) best responses alone = this network without its MLP and level move: ≥ 0.9999 when
  N/M ≥ 18, medium 0.9996, but 0.90 on 200 × 50 (the level drift above);
* + the clipped level move (= the untrained network): 200 × 50 0.991, 100 × 10 0.998, medium 1.0;
  held-out mixture 0.9969 with R = 8;
* + imitation training of the MLP: held-out mixture 0.9984 with R = 8 (≈ 0.999 with R = 12).
* rounds of the trained model (500 samples; ``python -m dirs.learn.anysize_eval``): fixed R = 4:
  xlarge 0.99977, medium 0.9923, 200 × 50 0.962; fixed R = 8: xlarge 0.99990, medium 0.99963,
  200 × 50 0.984; adaptive (R ≥ 8, patience 4, ≤ 80 rounds, the default): xlarge 0.99991,
  medium 0.99994, 200 × 50 0.9951 — 8–11 rounds where IoTDs stay local, 20–60 when all offload.

Nothing depends on N or M: the weights are the server MLP's, the same for any graph.  Permuting
IoTDs permutes the decisions; permuting servers permutes the server labels (up to exact ties).

:class:`AnySizePolicy` bundles the network with its meta data; it is saved as ``policy.json``
(``"kind": "anysize"``, format version, hyper-parameters, training meta) + ``policy.pt`` (tensors),
loaded by :func:`load_anysize` (and by :func:`dirs.learn.load_policy`, which dispatches on the kind).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dirs.solvers.costs import CostTables, cost_tables
from dirs.system.cost import check_gains
from dirs.system.params import ParameterError, SystemParams

#: ``policy.json`` "kind" of this model (DIRS's policy.json has no kind).
KIND = "anysize"
#: Version of the any-size policy layout; bump on incompatible changes.
FORMAT_VERSION = 1
#: Number of per-server features the update MLP reads (before the global means are appended).
NUM_FEATURES = 8
_DTYPE = torch.float64
_BIG = 1e9
#: Features squashed by asinh (all but count·κ and log κ).
_SQUASH = torch.tensor([True, True, False, True, True, False, True, True])


# ---------------------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class Problem:
    """Normalised, scale-free tensors of a batch of T samples (see the module docstring)."""

    cost: torch.Tensor
    """(T, N, M) ĉ_ij = tx_ij / L̄."""
    local: torch.Tensor
    """(T, N) l̂_i = local_i / L̄."""
    load: torch.Tensor
    """(T, N) ŝ_i = √F_i / mean √F (each IoTD's weight in a server's load)."""
    kappa: torch.Tensor
    """(T, M) κ_j = 2 φT (mean √F)² / (F_j^max L̄)."""
    slots: int
    """K: an upper bound on the number of slots any server can fill (top-K valuations suffice)."""
    slot_prices: torch.Tensor | None = None
    """(T, M, K+2) κ_j (k − ½) for k = 0..K+1 (0 for k = 0) when every ŝ_i = 1 (identical CPU demands:
    the slots' marginal prices do not depend on which IoTDs fill them); ``None`` otherwise."""

    inv_kappa: torch.Tensor = field(init=False, repr=False)
    """(T, M) 1 / κ_j."""
    log_kappa: torch.Tensor = field(init=False, repr=False)
    """(T, M) log κ_j."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "inv_kappa", 1.0 / self.kappa)
        object.__setattr__(self, "log_kappa", torch.log(self.kappa))

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.cost.shape)  # type: ignore[return-value]

    @property
    def unit_load(self) -> bool:
        """True when every ŝ_i = 1 (identical CPU demands)."""
        return self.slot_prices is not None


def _per_sample(x: np.ndarray, t: int, n: int) -> np.ndarray:
    """``(N,)`` or ``(T, N)`` per-IoTD array → ``(T, N)`` float64."""
    return np.broadcast_to(np.asarray(x, dtype=np.float64), (t, n))


def problem_from_tables(tables: CostTables) -> Problem:
    """Scale-free :class:`Problem` from cost tables; ``local`` and ``sqrt_f`` may be ``(N,)`` or ``(T, N)``."""
    tx = np.asarray(tables.tx, dtype=np.float64)
    t, n, m = tx.shape
    loc = _per_sample(tables.local, t, n)
    sf = _per_sample(tables.sqrt_f, t, n)
    lbar = loc.mean(1, keepdims=True)  # (T, 1)
    sbar = sf.mean(1, keepdims=True)
    fmax = np.broadcast_to(np.asarray(tables.mec_cpu_hz, dtype=np.float64), (m,))
    kappa = 2.0 * tables.phi_t * sbar**2 / (fmax[None, :] * lbar)  # (T, M)
    local = loc / lbar
    unit = bool(np.all(sf == sf[:, :1]))
    load = np.ones_like(sf) if unit else sf / sbar
    # a valuation never exceeds local / load, and slot k costs at least κ (k − ½)
    slots = max(int(min(n, math.ceil(float((local / load).max() / kappa.min()) + 1.5))), 1)
    slot_prices = None
    if unit:
        k = np.concatenate([[0.0], np.arange(1, slots + 2) - 0.5])
        slot_prices = torch.from_numpy(np.ascontiguousarray(kappa[:, :, None] * k))
    return Problem(
        cost=torch.from_numpy(tx / lbar[:, :, None]),
        local=torch.from_numpy(np.ascontiguousarray(local)),
        load=torch.from_numpy(np.ascontiguousarray(load)),
        kappa=torch.from_numpy(np.ascontiguousarray(kappa)),
        slots=slots,
        slot_prices=slot_prices,
    )


# ------------------------------------------------------------------------------ message passing
def option_costs(prob: Problem, prices: torch.Tensor) -> torch.Tensor:
    """(T, N, M) normalised cost of IoTD i on server j at ``prices`` (T, M): ĉ_ij + π_j ŝ_i."""
    return prob.cost + prices[:, None, :] * prob.load[:, :, None]


def decide_prices(prob: Problem, prices: torch.Tensor) -> torch.Tensor:
    """Decisions (T, N) in 0..M: each IoTD's cheapest option at ``prices`` (0 = local).

    An IoTD whose cheapest servers tie exactly (identical gains, or gains so large that every
    transmission costs 0) takes the tied servers in turn with the other tied IoTDs of its sample, in
    IoTD order: without this, one price per server would send every such IoTD to the first of them.
    Real-valued gains never tie, so this changes nothing else."""
    costs = option_costs(prob, prices)
    best, j = costs.min(-1)
    tied = costs == best[..., None]
    ntied = tied.sum(-1)
    multi = ntied > 1
    if bool(multi.any()):
        turn = (torch.cumsum(multi.to(torch.int64), 1) - 1) % ntied  # (T, N): which tied server
        pick = ((torch.cumsum(tied.to(torch.int64), -1) == (turn + 1)[..., None]) & tied).to(torch.int64).argmax(-1)
        j = torch.where(multi, pick, j)
    return torch.where(best < prob.local, j + 1, torch.zeros_like(j))


def server_loads(prob: Problem, decisions: torch.Tensor) -> torch.Tensor:
    """(T, M) Σ ŝ_i over the IoTDs that ``decisions`` puts on each server."""
    t, n, m = prob.shape
    out = torch.zeros(t, m + 1, dtype=prob.load.dtype)
    out.scatter_add_(1, decisions, prob.load)
    return out[:, 1:]


def best_response(prob: Problem, prices: torch.Tensor, alone: bool = False, costs: torch.Tensor | None = None):
    """Each server's best-response price interval given the other servers' ``prices``.

    IoTD i values server j at v_ij = (alt_ij − ĉ_ij) / ŝ_i, alt_ij = its cheapest other option at the
    current prices (``alone``: local only).  Server j sorts its top-K valuations v_(1) ≥ v_(2) ≥ …,
    with cumulative load C_k, and fills k* = #{k : v_(k) > κ_j (C_k − ŝ_(k)/2)} slots; any price in
    [max(κ_j(C_k* − ŝ_(k*)/2), v_(k*+1)), min(κ_j(C_k* + ŝ_(k*+1)/2), v_(k*))] makes exactly those
    IoTDs want j.  Returns ``lo, hi`` (T, M), the count k* (T, M) as float, the decisions (T, N)
    at the current prices (each IoTD's cheapest option) and each IoTD's cheapest server cost (T, N)
    (both ``None`` when ``alone``).
    ``costs``: :func:`option_costs` at ``prices`` if already computed.
    """
    t, n, m = prob.shape
    decisions = best = None
    if alone:
        alt = prob.local[:, :, None]
    else:
        costs = option_costs(prob, prices) if costs is None else costs
        if m == 1:
            first = costs
            alt = prob.local[:, :, None]
            j = torch.zeros((t, n), dtype=torch.int64)
        else:
            two = torch.topk(costs, 2, dim=-1, largest=False)
            first, second = two.values[..., :1], two.values[..., 1:2]
            j = two.indices[..., 0]
            is_best = j[..., None] == torch.arange(m)
            alt = torch.minimum(torch.where(is_best, second, first), prob.local[:, :, None])
        best = first[..., 0]
        decisions = (j + 1) * (best < prob.local)
    value = alt - prob.cost  # (T, N, M)
    if not prob.unit_load:
        value = value / prob.load[:, :, None]
    k = min(prob.slots + 1, n)
    top = torch.topk(value.transpose(1, 2), k, dim=-1)  # (T, M, k) descending
    vs = top.values
    pad = prob.slots + 1 - k  # > 0: fewer IoTDs than slots + 1, pad with "nobody"
    if pad > 0:
        vs = torch.cat([vs, vs.new_full((t, m, pad), -_BIG)], -1)
    if prob.slot_prices is not None:  # unit loads: slot k's marginal price is κ (k − ½)
        marg_pad = prob.slot_prices
    else:
        ws = prob.load[:, None, :].expand(t, m, n).gather(2, top.indices)
        if pad > 0:
            ws = torch.cat([ws, ws.new_ones((t, m, pad))], -1)
        cum = torch.cumsum(ws, -1)
        marg = prob.kappa[:, :, None] * (cum - 0.5 * ws)  # marginal price of the k-th valuation's slot
        marg_pad = torch.cat([marg.new_zeros((t, m, 1)), marg], -1)  # marg_pad[k]: the k-th (1-based)
    count = (vs[..., :-1] > marg_pad[..., 1:-1]).sum(-1, keepdim=True)  # k*
    v_pad = torch.cat([vs.new_full((t, m, 1), _BIG), vs], -1)
    lo = torch.maximum(marg_pad.gather(2, count), v_pad.gather(2, count + 1))[..., 0]
    hi = torch.minimum(marg_pad.gather(2, count + 1), v_pad.gather(2, count))[..., 0]
    lo = torch.clamp(lo, min=0.0)
    hi = torch.maximum(hi, lo)
    return lo, hi, count[..., 0].to(prices.dtype), decisions, best


def level_move(prob: Problem, prices: torch.Tensor, loads: torch.Tensor, best: torch.Tensor) -> torch.Tensor:
    """Common price shift (T, 1) that closes the mean gap between loads and the prices' slot positions.

    δ = Σ_j (ℓ_j − π_j/κ_j) / Σ_j 1/κ_j (the level at which the prices' slot positions add up to the
    load), clipped so that no IoTD switches between local and offloading (the shift stops at the
    nearest local margin): when some IoTDs stay local the level is already pinned by them; when all
    offload it is only pinned by the slots, and this move sets it in one step.
    """
    delta = (loads - prices * prob.inv_kappa).sum(1, keepdim=True) / prob.inv_kappa.sum(1, keepdim=True)
    margin = prob.local - best  # > 0: offloads; the shift that makes it switch (per unit load)
    if not prob.unit_load:
        margin = margin / prob.load
    lower = torch.where(margin < 0, margin, -_BIG).max(1, keepdim=True).values  # −(room downwards)
    upper = torch.where(margin > 0, margin, _BIG).min(1, keepdim=True).values
    return torch.minimum(torch.maximum(delta, lower), upper)


# ---------------------------------------------------------------------------------------- model
class AnySizeNet(torch.nn.Module):
    """Learned iterative price refinement over the IoTD–server graph (see the module docstring).

    Parameters: ``hidden`` width of the server-update MLP; ``rounds`` R of refinement; ``tau`` the
    logit temperature (in units of the mean κ) used by :meth:`logits` and the imitation loss;
    ``init_step`` the step fraction the untrained network takes toward the best response.
    """

    def __init__(
        self,
        hidden: int = 32,
        rounds: int = 6,
        tau: float = 0.1,
        init_step: float = 0.7,
        max_rounds: int = 0,
        patience: int = 2,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        self.hidden, self.rounds, self.tau, self.init_step = int(hidden), int(rounds), float(tau), float(init_step)
        self.max_rounds, self.patience = int(max_rounds), int(patience)
        d_in = 2 * NUM_FEATURES
        self.l1 = torch.nn.Linear(d_in, self.hidden, dtype=_DTYPE)
        self.l2 = torch.nn.Linear(self.hidden, self.hidden, dtype=_DTYPE)
        self.out = torch.nn.Linear(self.hidden, 3, dtype=_DTYPE)
        with torch.no_grad():
            for lin in (self.l1, self.l2):
                bound = 1.0 / math.sqrt(lin.in_features)
                lin.weight.copy_((torch.rand(lin.weight.shape, generator=generator, dtype=_DTYPE) * 2 - 1) * bound)
                lin.bias.copy_((torch.rand(lin.bias.shape, generator=generator, dtype=_DTYPE) * 2 - 1) * bound)
            # the untrained network is the damped best response: step σ(b) = init_step, no offset
            self.out.weight.zero_()
            half = self.init_step / 2.0  # step fraction 2σ(o₁) ∈ (0, 2): over-relaxation allowed
            self.out.bias.copy_(torch.tensor([math.log(half / (1 - half)), 0.0, 6.0], dtype=_DTYPE))

    def hparams(self) -> dict[str, Any]:
        return {
            "hidden": self.hidden,
            "rounds": self.rounds,
            "tau": self.tau,
            "init_step": self.init_step,
            "max_rounds": self.max_rounds,
            "patience": self.patience,
        }

    def update(self, prob: Problem, prices: torch.Tensor, last_step: torch.Tensor, r: int, rounds: int):
        """One refinement round: best responses and loads → server MLP → new prices (T, M)."""
        lo, hi, count, decisions, best = best_response(prob, prices, alone=(r == 0))
        kap, inv = prob.kappa, prob.inv_kappa
        if r > 0:
            loads = server_loads(prob, decisions)
            level = level_move(prob, prices, loads, best).expand_as(prices)
        else:
            loads, level = torch.zeros_like(prices), torch.zeros_like(prices)
        gap = 0.5 * (lo + hi) - prices
        width = hi - lo
        raw = torch.stack(
            [
                gap * inv,
                width * inv,
                count * kap,
                loads - count,
                prices * inv - loads,
                prob.log_kappa,
                last_step * inv,
                level * inv,
            ],
            -1,
        )  # (T, M, F)
        feats = torch.where(_SQUASH, torch.asinh(raw), raw)
        x = torch.cat([feats, feats.mean(1, keepdim=True).expand_as(feats)], -1)
        h = torch.relu(self.l1(x))
        h = torch.relu(self.l2(h))
        o = self.out(h)
        sig = torch.sigmoid(o)
        frac = 1.0 if r == 0 else 2.0 * sig[..., 0]  # round 0: from zero prices, a full step
        step = frac * gap + 0.5 * torch.tanh(o[..., 1]) * width + sig[..., 2] * level
        return torch.clamp(prices + step, min=0.0), step

    def forward(
        self, prob: Problem, rounds: int | None = None, detach: bool = False, adaptive: bool = False
    ) -> list[torch.Tensor]:
        """Prices (T, M) after every round (the last one decides).

        ``detach`` cuts the gradient between rounds (truncated back-propagation: every round learns
        to improve on the state it is given).  ``adaptive`` (decisions): after ``rounds`` rounds keep
        refining, up to ``max_rounds``, until the decisions have not changed (or only returned to
        those of the round before, a marginal IoTD flipping) for ``patience`` consecutive rounds,
        counted from round ``rounds − patience``; a sample that has settled keeps its prices while
        the others go on, so a batch decides exactly like its samples one by one.  The weights are
        shared by all rounds, so any number of rounds runs.
        """
        rounds = self.rounds if rounds is None else int(rounds)
        limit = max(rounds, self.max_rounds) if adaptive else rounds
        prices = torch.zeros_like(prob.kappa)
        last = torch.zeros_like(prices)
        out = []
        previous = earlier = done = still = None
        check_from = max(rounds - self.patience - 1, 0)
        for r in range(limit):
            if detach:
                prices, last = prices.detach(), last.detach()
            new, step = self.update(prob, prices, last, r, rounds)
            if done is not None:  # settled samples keep their prices: batch = one sample at a time
                new = torch.where(done[:, None], prices, new)
                step = torch.where(done[:, None], last, step)
            prices, last = new, step
            out.append(prices)
            if limit > rounds and r >= check_from:
                current = decide_prices(prob, prices)
                if previous is None:
                    still = torch.zeros(current.shape[0], dtype=torch.int64)
                else:
                    # unchanged, or back to the decisions of two rounds ago (a marginal IoTD flipping)
                    same = (current == previous).all(1)
                    if earlier is not None:
                        same |= (current == earlier).all(1)
                    still = torch.where(same, still + 1, torch.zeros_like(still))
                previous, earlier = current, previous
                if r + 1 >= rounds:
                    done = still >= self.patience
                    if bool(done.all()):
                        break
        return out

    def logits(self, prob: Problem, prices: torch.Tensor) -> torch.Tensor:
        """(T, N, M+1) logits over {local, 1..M}: −cost / (τ · mean κ)."""
        scale = self.tau * prob.kappa.mean(1)[:, None, None]
        opts = torch.cat([prob.local[:, :, None], option_costs(prob, prices)], -1)
        return -opts / scale


# --------------------------------------------------------------------------------------- policy
class AnySizePolicy:
    """A trained :class:`AnySizeNet` with its meta data: ``decide(gains, params) → (T, N)`` for any N, M.

    The model stores nothing scenario-specific; the cost tables need the scenario's
    :class:`SystemParams`, so pass ``params`` to :meth:`decide` or bind them once with
    :meth:`with_params`.
    """

    kind = KIND

    def __init__(self, net: AnySizeNet, meta: dict[str, Any] | None = None, params: SystemParams | None = None):
        self.net = net.eval()
        self.meta = dict(meta or {})
        self.params = params

    def with_params(self, params: SystemParams) -> AnySizePolicy:
        """A copy bound to ``params`` (shares the weights), so that ``decide(gains)`` needs no params."""
        if not isinstance(params, SystemParams):
            raise ParameterError(f"params: expected a SystemParams, got {type(params).__name__}")
        return AnySizePolicy(self.net, self.meta, params)

    def _params(self, params: SystemParams | None) -> SystemParams:
        p = params if params is not None else self.params
        if p is None:
            raise ParameterError(
                "params: the any-size policy needs the scenario's SystemParams to build its cost tables; "
                "call decide(gains, params) or bind them with policy.with_params(params)"
            )
        if not isinstance(p, SystemParams):
            raise ParameterError(
                f"params: expected a SystemParams (e.g. Scenario.load(path).params), got {type(p).__name__}"
            )
        return p

    def prices(self, tables: CostTables, rounds: int | None = None) -> tuple[Problem, torch.Tensor]:
        """The normalised problem and the final prices (T, M) for precomputed cost tables."""
        prob = problem_from_tables(tables)
        with torch.inference_mode():
            return prob, self.net(prob, _rounds(rounds), adaptive=True)[-1]

    def decide_tables(self, tables: CostTables, rounds: int | None = None) -> np.ndarray:
        """Decisions (T, N) from precomputed :class:`CostTables`."""
        prob, prices = self.prices(tables, rounds)
        with torch.inference_mode():
            return decide_prices(prob, prices).numpy()

    def _inputs(self, gains, params) -> tuple[np.ndarray, SystemParams, bool]:
        """``(gains (T, N, M), params, single)`` checked as :meth:`dirs.learn.agents.Policy.decide`
        checks its input (numbers, shape, finite, > 0) and the params against N, M (and T)."""
        p = self._params(params)
        g = check_gains(gains)
        single = g.ndim == 2
        g = g[None] if single else g
        p.check_sizes(g.shape[1], g.shape[2], g.shape[0])
        return g, p, single

    def decide(self, gains: np.ndarray, params: SystemParams | None = None, *, rounds: int | None = None) -> np.ndarray:
        """Decisions ``(T, N)`` in 0..M for gains ``(T, N, M)`` (or ``(N,)`` for one ``(N, M)`` sample).

        ``params`` (or the bound ones, :meth:`with_params`) give the system parameters; ``rounds``
        overrides the number of refinement rounds the model was trained with.  No sample (T = 0) or
        no IoTD gives an empty array, no server (M = 0) every IoTD local.
        """
        g, p, single = self._inputs(gains, params)
        rounds = _rounds(rounds)
        if 0 in g.shape:
            a = np.zeros(g.shape[:2], dtype=np.int64)
        else:
            a = self.decide_tables(cost_tables(g, p), rounds)
        return a[0] if single else a

    def logits(self, gains: np.ndarray, params: SystemParams | None = None) -> np.ndarray:
        """Final logits ``(T, N, M+1)`` over {local, 1..M}."""
        g, p, single = self._inputs(gains, params)
        if 0 in g.shape:
            return np.zeros((*g.shape[:2], g.shape[2] + 1))
        prob, prices = self.prices(cost_tables(g, p))
        with torch.inference_mode():
            out = self.net.logits(prob, prices).numpy()
        return out[0] if single else out

    # ---------------------------------------------------------------------------- persistence
    def save(self, directory: str | Path) -> None:
        """Write ``policy.pt`` (state dict) and ``policy.json`` (kind, version, hyper-parameters, meta)."""
        save_anysize(self.net, directory, self.meta)


def _rounds(rounds) -> int | None:
    if rounds is None:
        return None
    if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or rounds < 1:
        raise ParameterError(f"rounds: expected an integer >= 1 (or None: the model's own), got {rounds!r}")
    return int(rounds)


#: Declared hyper-parameters of :class:`AnySizeNet` (``policy.json`` ``hparams``): kind and range.
HPARAMS: dict[str, tuple[type, float, float]] = {
    "hidden": (int, 1, math.inf),
    "rounds": (int, 1, math.inf),
    "tau": (float, 0.0, math.inf),
    "init_step": (float, 0.0, 2.0),
    "max_rounds": (int, 0, math.inf),
    "patience": (int, 0, math.inf),
}


def check_hparams(hparams: Any, key: str = "hparams", partial: bool = False) -> dict[str, Any]:
    """The hyper-parameters, each declared (:data:`HPARAMS`), of its type and inside its range
    (``tau`` > 0 and ``init_step`` in (0, 2) exclusive); all of them unless ``partial``."""
    if not isinstance(hparams, dict):
        raise ParameterError(f"{key}: expected an object of hyper-parameters {list(HPARAMS)}, got {hparams!r}")
    unknown = sorted(set(hparams) - set(HPARAMS))
    missing = [] if partial else [k for k in HPARAMS if k not in hparams]
    if unknown or missing:
        raise ParameterError(f"{key}: unknown {unknown}, missing {missing}; the declared ones are {list(HPARAMS)}")
    out = {}
    for name, value in hparams.items():
        kind, low, high = HPARAMS[name]
        ok_type = isinstance(value, (int, float) if kind is float else int) and not isinstance(value, bool)
        exclusive = kind is float
        inside = ok_type and math.isfinite(value) and (low < value < high if exclusive else low <= value <= high)
        if not inside:
            bounds = f"in ({low:g}, {high:g})" if exclusive else f">= {low:g}"
            raise ParameterError(
                f"{key}.{name}: expected {'a number' if exclusive else 'an integer'} {bounds}, got {value!r}"
            )
        out[name] = kind(value)
    return out


def save_anysize(net: AnySizeNet, directory: str | Path, meta: dict[str, Any] | None = None) -> None:
    """Save ``net`` to ``directory`` as ``policy.pt`` + ``policy.json`` (``"kind": "anysize"``), written
    together: both files are replaced, or neither."""
    from dirs.io import write_together

    directory = Path(directory)
    state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    info = {"kind": KIND, "format_version": FORMAT_VERSION, "hparams": net.hparams(), "meta": dict(meta or {})}
    write_together(
        {
            directory / "policy.pt": lambda tmp: torch.save(state, tmp),
            directory / "policy.json": lambda tmp: tmp.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n"),
        }
    )


def build_net(hparams: dict[str, Any], seed: int = 0) -> AnySizeNet:
    """A fresh :class:`AnySizeNet` with ``hparams`` (see :meth:`AnySizeNet.hparams`), seeded."""
    gen = torch.Generator().manual_seed(int(seed))
    return AnySizeNet(**check_hparams(hparams, partial=True), generator=gen)


def policy_dir(path: str | Path) -> Path:
    """The saved policy's directory: ``path`` itself, or the directory of its ``policy.json`` /
    ``policy.pt``; a path that does not exist is named (not its parent)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such policy directory (expected policy.json and policy.pt in it)")
    if path.is_dir():
        return path
    if path.name not in ("policy.json", "policy.pt"):
        raise ParameterError(f"{path}: not a saved policy; expected its directory or its policy.json / policy.pt")
    return path.parent


def is_anysize(directory: str | Path) -> bool:
    """True when ``directory`` (or the directory of a given file) holds an any-size ``policy.json``."""
    path = Path(directory)
    path = path if path.is_dir() else path.parent
    meta = path / "policy.json"
    if not meta.is_file():
        return False
    try:
        return json.loads(meta.read_text()).get("kind") == KIND
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return False


def _read_info(meta_path: Path) -> dict[str, Any]:
    """``policy.json`` of an any-size policy: kind, format version, declared hyper-parameters, meta."""
    from dirs.io import InputFileError, read_json

    info = read_json(meta_path, ("kind", "format_version", "hparams"), what="any-size policy JSON")
    if info["kind"] != KIND:
        raise InputFileError(meta_path, f"kind: {info['kind']!r} is not {KIND!r}")
    if info["format_version"] != FORMAT_VERSION:
        raise InputFileError(
            meta_path,
            f"format_version {info['format_version']!r} is not supported (this code reads version {FORMAT_VERSION})",
        )
    if not isinstance(info.get("meta", {}), dict):
        raise InputFileError(meta_path, f"meta: expected an object, got {type(info['meta']).__name__}")
    try:
        info["hparams"] = check_hparams(info["hparams"])
    except ParameterError as exc:
        raise InputFileError(meta_path, str(exc)) from None
    return info


def _read_weights(pt_path: Path, net: AnySizeNet) -> dict[str, torch.Tensor]:
    """The state dict in ``policy.pt``: readable, exactly the tensors of ``net`` (names, shapes), finite."""
    from dirs.io import InputFileError

    try:
        state = torch.load(pt_path, weights_only=True)
    except Exception as exc:  # noqa: BLE001 — torch raises many types (EOFError, UnpicklingError, …) on garbage
        first = str(exc).splitlines()[0] if str(exc).strip() else "empty or truncated file"
        raise InputFileError(
            pt_path, f"corrupt or unreadable any-size weights ({type(exc).__name__}: {first}); retrain or restore it"
        ) from None
    want = net.state_dict()
    if not isinstance(state, dict):
        raise InputFileError(pt_path, f"expected a dict of tensors {sorted(want)}, got {type(state).__name__}")
    missing, unexpected = sorted(set(want) - set(state)), sorted(map(str, set(state) - set(want)))
    if missing or unexpected:
        raise InputFileError(
            pt_path,
            f"not the weights of an any-size model: missing tensor(s) {missing}, unexpected {unexpected[:6]}",
        )
    for name, tensor in state.items():
        if not isinstance(tensor, torch.Tensor):
            raise InputFileError(pt_path, f"{name}: expected a tensor, got {type(tensor).__name__}")
        if tuple(tensor.shape) != tuple(want[name].shape) or not tensor.is_floating_point():
            raise InputFileError(
                pt_path,
                f"{name}: shape {tuple(tensor.shape)} ({tensor.dtype}), expected {tuple(want[name].shape)} floats "
                f"(policy.json hparams {net.hparams()})",
            )
        if not bool(torch.isfinite(tensor).all()):
            raise InputFileError(pt_path, f"{name}: contains NaN or inf")
    return state


def load_anysize(path: str | Path) -> AnySizePolicy:
    """Load a saved :class:`AnySizePolicy` from its directory (or its ``policy.pt`` / ``policy.json``),
    as strictly as :func:`dirs.learn.agents.load_policy`: a missing file raises FileNotFoundError naming
    it; bad JSON, a wrong kind or version, undeclared / missing / out-of-range hyper-parameters,
    unreadable weights, tensors that are not this model's (names, shapes) or not finite raise
    :class:`dirs.io.InputFileError` naming the file and the key."""
    directory = policy_dir(path)
    meta_path, pt_path = directory / "policy.json", directory / "policy.pt"
    for p in (meta_path, pt_path):
        if not p.is_file():
            raise FileNotFoundError(f"{p}: no saved policy here (expected policy.json and policy.pt)")
    info = _read_info(meta_path)
    net = AnySizeNet(**info["hparams"])
    net.load_state_dict(_read_weights(pt_path, net))
    return AnySizePolicy(net, info.get("meta"))


__all__ = [
    "KIND",
    "FORMAT_VERSION",
    "AnySizeNet",
    "AnySizePolicy",
    "HPARAMS",
    "Problem",
    "best_response",
    "level_move",
    "build_net",
    "check_hparams",
    "decide_prices",
    "is_anysize",
    "load_anysize",
    "option_costs",
    "problem_from_tables",
    "save_anysize",
    "server_loads",
]


# ------------------------------------------------------------------ registry (dirs.methods)
def _register() -> None:
    from dirs.methods import register

    def train(settings, out_dir, **kwargs):
        """One model for every instance: :func:`dirs.learn.anysize_train.train_anysize`."""
        from dirs.learn.anysize_train import train_anysize

        return train_anysize(settings, out_dir, **kwargs)

    register("anysize", label="Any-size scheduler (ours)", kind="learned", load=load_anysize)(train)


_register()
