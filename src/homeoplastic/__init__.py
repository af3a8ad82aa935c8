"""homeoplastic: parameter sweeps of homeostatic synaptic plasticity models.

Two models share one workflow: the balanced spiking network with assembly formation of
Litwin-Kumar & Doiron (2014) (:mod:`homeoplastic.assemblies`) and synaptic balancing of
Stock, Harvey, Ocko & Ganguli (2022) (:mod:`homeoplastic.balancing`).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("homeoplastic")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
