"""The balanced spiking network of Litwin-Kumar & Doiron (2014) with homeostatic plasticity.

Start with :class:`homeoplastic.spiking.engine.Simulation` and
:class:`homeoplastic.spiking.params.NetworkParams`.
"""

from homeoplastic.spiking.engine import RecordSpec, RunRecord, Simulation
from homeoplastic.spiking.params import NetworkParams, ParameterError
from homeoplastic.spiking.stimulus import StimulusSchedule, training_schedule

__all__ = [
    "NetworkParams",
    "ParameterError",
    "RecordSpec",
    "RunRecord",
    "Simulation",
    "StimulusSchedule",
    "training_schedule",
]
