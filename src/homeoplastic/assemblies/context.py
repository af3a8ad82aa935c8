"""What a stage function of the assembly chain receives: its declared settings and nothing else.

A rule's params are the JSON of only the settings its stage declares
(:func:`homeoplastic.assemblies.stages.stage_params`); :meth:`StageContext.from_params` rebuilds
them, and its ``protocol`` answers only the declared fields: reading any other raises, so params
cannot silently miss a setting the stage uses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from homeoplastic.assemblies.experiments.probe import ProbeSettings
from homeoplastic.assemblies.params import NetworkParams
from homeoplastic.assemblies.settings import RecordSettings
from homeoplastic.assemblies.sweep import in_id_order
from homeoplastic.sweep import Point


class DeclaredSettings:
    """Read-only settings that answer only the fields a stage declares; others raise."""

    def __init__(self, values: Mapping[str, Any], where: str) -> None:
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "_where", where)

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        where = object.__getattribute__(self, "_where")
        raise AttributeError(
            f"{where}.{name} is read but not declared; add it to the stage's row in "
            "homeoplastic.assemblies.stages.STAGE_TABLE so that its rule reruns when it changes")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("stage settings are read-only")


@dataclass(frozen=True)
class StageContext:
    """What a stage function receives: its declared settings, resolved, and nothing else."""

    stage: str
    store_stage: str
    point: Point
    network: NetworkParams
    protocol: DeclaredSettings
    record: RecordSettings
    probe: ProbeSettings | None
    provenance: dict[str, Any] = field(repr=False)

    @classmethod
    def from_params(cls, stage: str, params: str | Mapping[str, Any], *,
                    store_stage: str | None = None,
                    chunk_s: float | None = None,
                    checkpoint_every_s: float | None = None) -> StageContext:
        """Rebuild a stage's context from :func:`stage_params` (and the operational settings)."""
        settings = json.loads(params) if isinstance(params, str) else dict(params)
        operational = {key: value for key, value in
                       (("chunk_s", chunk_s), ("checkpoint_every_s", checkpoint_every_s))
                       if value is not None}
        record = RecordSettings(**settings.get("record", {}), **operational)
        probe = ProbeSettings.from_dict(settings["probe"]) if "probe" in settings else None
        sweep = in_id_order(settings["sweep"])  # the values that name its store
        point = Point(tuple(sweep.items()), tuple(sweep))
        return cls(stage=stage, store_stage=store_stage or stage, point=point,
                   network=NetworkParams.from_dict(settings["network"]),
                   protocol=DeclaredSettings(settings["protocol"], f"assemblies.protocol ({stage})"),
                   record=record, probe=probe, provenance={"assemblies": settings})
