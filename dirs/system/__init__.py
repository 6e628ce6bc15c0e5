"""The MEC system model (paper §III): parameters, scenarios, channels, exact allocation, costs."""

from dirs.system.allocation import local_cost, optimal_power, transmission_cost
from dirs.system.cost import Costs, check_gains, evaluate, server_loads
from dirs.system.params import ParameterError, SystemParams
from dirs.system.scenario import FORMAT_VERSION, Placement, Scenario, ServerPlacement

__all__ = [
    "Costs",
    "FORMAT_VERSION",
    "ParameterError",
    "Placement",
    "Scenario",
    "ServerPlacement",
    "SystemParams",
    "check_gains",
    "evaluate",
    "local_cost",
    "optimal_power",
    "server_loads",
    "transmission_cost",
]
