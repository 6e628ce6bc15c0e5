"""Time-coupled MEC ([online], docs/design.md §11): random task arrivals, per-IoTD queues, mobility and
correlated fading; a slot simulator with common random numbers, a Gymnasium environment, the
drift-plus-penalty controller on the certified per-slot solver, and long-run metrics.

Modules: :mod:`.config` (OnlineConfig), :mod:`.exogenous` (ω(t)), :mod:`.slot` (pricing and the slot
problem), :mod:`.sim` (Simulator), :mod:`.controllers`, :mod:`.metrics` (run, stability limit),
:mod:`.sweep` (V sweep and bound), :mod:`.env` (``dirs/MECOnline-v0``), :mod:`.cli`.
"""

from dirs.online.config import OnlineConfig, make_scenario
from dirs.online.controllers import Controller, DriftPlusPenalty, Local, Remote, myopic
from dirs.online.metrics import RunResult, growth_test, run, stability_limit
from dirs.online.sim import Simulator, SlotState, StepInfo
from dirs.online.sweep import v_sweep

__all__ = [
    "Controller",
    "DriftPlusPenalty",
    "Local",
    "OnlineConfig",
    "Remote",
    "RunResult",
    "Simulator",
    "SlotState",
    "StepInfo",
    "growth_test",
    "make_scenario",
    "myopic",
    "run",
    "stability_limit",
    "v_sweep",
]
