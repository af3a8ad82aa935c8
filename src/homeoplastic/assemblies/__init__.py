"""The balanced spiking network of Litwin-Kumar & Doiron (2014) with homeostatic plasticity.

Start with :class:`homeoplastic.assemblies.engine.Simulation` and
:class:`homeoplastic.assemblies.params.NetworkParams`.
"""

from homeoplastic.assemblies.engine import RecordSpec, RunRecord, Simulation
from homeoplastic.assemblies.params import NetworkParams, ParameterError
from homeoplastic.assemblies.stimulus import StimulusSchedule, training_schedule

__all__ = [
    "NetworkParams",
    "ParameterError",
    "RecordSpec",
    "RunRecord",
    "Simulation",
    "StimulusSchedule",
    "training_schedule",
]
