"""The sweep of the spiking model as one table of runs, each row a :class:`SweepPoint`.

The table is the union of the product of ``assemblies.sweep`` and of each ``extra_sweeps`` block
(an axis a block leaves out takes ``sweep``'s values); a run named twice appears once, where it
first appears. Run folders follow Snakemake's Paramspace convention, ``key~value`` joined by ``_``,
so a path says which run it holds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from homeoplastic.assemblies.params import ParameterError
from homeoplastic.config import sweep_value

SWEEP_KEYS = ("n_neurons", "rule", "learning_speed", "seed")
"""The axes of the spiking sweep, in the order they appear in run ids."""
MIN_NEURONS = 100
"""Smallest network the workflow (schema) and the CLI accept: below it the scaled network leaves
the asynchronous balanced regime (N = 50 runs away to ~700 Hz)."""


@dataclass(frozen=True)
class SweepPoint:
    """One run of the sweep: network size (cells), rule variant, learning speed (x paper), seed."""

    n_neurons: int
    rule: str
    learning_speed: float
    seed: int

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> SweepPoint:
        return cls(n_neurons=int(values["n_neurons"]), rule=str(values["rule"]),
                   learning_speed=float(values["learning_speed"]), seed=int(values["seed"]))

    @property
    def run_id(self) -> str:
        """Paramspace-style folder name: ``n_neurons~2000_rule~voltage_learning_speed~4_seed~1``."""
        return "_".join(f"{key}~{sweep_value(getattr(self, key))}" for key in SWEEP_KEYS)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _product(block: Mapping[str, Any], where: str) -> list[SweepPoint]:
    rows: list[dict[str, Any]] = [{}]
    for key in SWEEP_KEYS:
        values = block.get(key)
        if values is None:
            raise ParameterError(f"{where}.{key} is missing")
        rows = [{**row, key: value} for row in rows for value in values]
    return [SweepPoint.from_mapping(row) for row in rows]


def sweep_points(section: Mapping[str, Any]) -> list[SweepPoint]:
    """Every run of the ``assemblies`` section, in table order, each once."""
    sweep = section.get("sweep", {})
    points = _product(sweep, "assemblies.sweep")
    for index, block in enumerate(section.get("extra_sweeps", ())):
        points += _product({**sweep, **block}, f"assemblies.extra_sweeps[{index}]")
    return list(dict.fromkeys(points))


def sweep_table(section: Mapping[str, Any]) -> pd.DataFrame:
    """The runs as a table: one row per run, the sweep axes as columns, indexed by run id."""
    points = sweep_points(section)
    table = pd.DataFrame([p.as_dict() for p in points], columns=list(SWEEP_KEYS))
    table.index = pd.Index([p.run_id for p in points], name="run")
    return table


_RUN_ID = re.compile(
    r"^n_neurons~(?P<n_neurons>\d+)_rule~(?P<rule>[A-Za-z0-9_]+)"
    r"_learning_speed~(?P<learning_speed>[0-9.eE+-]+)_seed~(?P<seed>\d+)$"
)


def parse_run_id(text: str) -> SweepPoint:
    """Inverse of :attr:`SweepPoint.run_id`, for tools that start from a run folder's name."""
    match = _RUN_ID.match(text)
    if match is None:
        raise ParameterError(
            f"run id {text!r} is not of the form "
            "n_neurons~N_rule~RULE_learning_speed~S_seed~K")
    return SweepPoint.from_mapping(match.groupdict())
