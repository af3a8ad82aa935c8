"""The balanced spiking network of Litwin-Kumar & Doiron (2014) with homeostatic plasticity.

Start with :class:`homeoplastic.assemblies.engine.Simulation` and
:class:`homeoplastic.assemblies.params.NetworkParams`. The names below load on first use, so that
importing a light module of this package (a run's members, the sweep axes) loads no kernel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeoplastic._lazy import lazy_names

if TYPE_CHECKING:
    from homeoplastic.assemblies.engine import RecordSpec, RunRecord, Simulation
    from homeoplastic.assemblies.params import NetworkParams, ParameterError
    from homeoplastic.assemblies.stimulus import StimulusSchedule, training_schedule

_MODULES = {
    "RecordSpec": "engine",
    "RunRecord": "engine",
    "Simulation": "engine",
    "NetworkParams": "params",
    "ParameterError": "params",
    "StimulusSchedule": "stimulus",
    "training_schedule": "stimulus",
}
__getattr__, __dir__ = lazy_names(__name__, {name: f"{__name__}.{module}"
                                             for name, module in _MODULES.items()})

__all__ = [
    "NetworkParams",
    "ParameterError",
    "RecordSpec",
    "RunRecord",
    "Simulation",
    "StimulusSchedule",
    "training_schedule",
]
