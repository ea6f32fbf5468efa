"""The agent-based school model: state arrays, the compiled tick loop, and the simulation driver."""

from hyosan.school.codes import EventKind, Intent, State
from hyosan.school.sim import ProgressInfo, SchoolSim

__all__ = ["EventKind", "Intent", "ProgressInfo", "SchoolSim", "State"]
