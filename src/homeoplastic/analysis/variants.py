"""Which constants decide an outcome: the training chain run once per variant of its settings.

:func:`chain_variants` runs simulate -> train -> spontaneous activity for one sweep point of an
``assemblies`` config section once per variant, each with some network or protocol settings
replaced, through the workflow's own stage functions, and tabulates the statistics that tell the
variants apart (those of ``analyze.zarr``). :data:`CALCIUM_CONSTANTS` is the scan behind the
account of the calcium rule on the docs' Results page (``docs/comparison/index.md``): the
constants the paper does not print (the rho -> W mapping, the noise, tau_rho) and the number of
presentations.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
import yaml

from homeoplastic.analysis.assemblies import analyze_run
from homeoplastic.assemblies.params import ParameterError
from homeoplastic.assemblies.stages import (
    STAGES,
    RunSettings,
    run_settings,
    run_stage,
    stage_params,
)
from homeoplastic.config import load_schema, validate
from homeoplastic.store import is_complete
from homeoplastic.sweep import Point

CHAIN = ("simulate", "train", "spontaneous_recurrent")

CALCIUM_CONSTANTS: dict[str, dict[str, Any]] = {
    "as configured": {},
    "noise off": {"network.calcium.noise": False},
    "tau_rho x 4": {"network.calcium.tau_rho_s": 4 * 3.463615},
    "W_UP = 10 J_min": {"network.calcium.up_down_ratio": 10.0},
    "rho spans [J_min, J_max]": {"network.calcium.up_down_ratio": 0.0},
    "rho spans [J_min, J_max], noise off": {"network.calcium.up_down_ratio": 0.0,
                                            "network.calcium.noise": False},
    "8 presentations": {"protocol.repetitions": 8},
    "rho spans [J_min, J_max], 8 presentations": {"network.calcium.up_down_ratio": 0.0,
                                                  "protocol.repetitions": 8},
}
"""Calcium-rule variants: ``network.<group>.<key>`` replaces a network parameter of the rule's
runs (``rule_network``), ``protocol.<key>`` a protocol setting (``rule_protocol``)."""

STATISTICS = {
    "ratio_after_training": ("1", "within/between after training"),
    "ratio_end_recurrent": ("1", "within/between at the end of spontaneous activity"),
    "training_gain_kept_min": ("1", "smallest share of its peak training gain an assembly keeps"),
    "w_assembly_to_outside_change_training": (
        "1", "relative change of assembly -> outside weights over training"),
    "assemblies_kept_fraction": (
        "1", "fraction of assemblies keeping half their gain through spontaneous activity"),
    "rate_exc_post_training_hz": ("Hz", "E rate in spontaneous activity"),
    "reactivations_per_min": ("1/min", "mean spontaneous reactivations per assembly"),
}
"""Statistics of ``analyze.zarr`` that the table reports (per-assembly ones averaged), with their
units and what they are."""


def assemblies_section(config_path: str | Path,
                       schema_path: str | Path = "workflow/schemas/assemblies.schema.yaml"
                       ) -> dict[str, Any]:
    """The validated ``assemblies`` section of a config file, with the schema's defaults (the
    default ``schema_path`` is relative to the project root, where the workflow runs)."""
    with open(config_path) as handle:
        raw = (yaml.safe_load(handle) or {}).get("assemblies", {})
    return validate(raw, load_schema(schema_path), where="assemblies")


def with_variant(section: Mapping[str, Any], rule: str, change: Mapping[str, Any]) -> dict[str, Any]:
    """``section`` with ``change`` laid over the rule's own network and protocol settings."""
    out = copy.deepcopy(dict(section))
    for key, value in change.items():
        head, _, rest = key.partition(".")
        if head == "network" and rest.count(".") == 1:
            group, name = rest.split(".")
            own = out.setdefault("rule_network", {}).setdefault(rule, {})
            own.setdefault(group, {})[name] = value
        elif head == "protocol" and rest and "." not in rest:
            out.setdefault("rule_protocol", {}).setdefault(rule, {})[rest] = value
        else:
            raise ParameterError(f"variant key {key!r} is invalid; allowed: "
                                 "'network.<group>.<key>' or 'protocol.<key>'")
    return out


def _folder_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_") or "variant"


def chain_variants(section: Mapping[str, Any], point: Point,
                   variants: Mapping[str, Mapping[str, Any]], out_dir: str | Path) -> xr.Dataset:
    """Run :data:`CHAIN` for ``point`` once per variant into ``out_dir/<variant>/``.

    ``section`` is a validated ``assemblies`` section (:func:`assemblies_section`); ``variants``
    maps a name to its changes (as :data:`CALCIUM_CONSTANTS`). Every variant is checked before
    any simulation. Returns :data:`STATISTICS` per variant. A finished stage store of the same
    settings is not run again, so a stopped scan continues where it stopped.
    """
    runs = {name: run_settings(with_variant(section, point.rule, change), point)
            for name, change in variants.items()}
    rows: dict[str, list[float]] = {key: [] for key in STATISTICS}
    for name, run in runs.items():
        stats = analyze_run(_run_chain(run, Path(out_dir) / _folder_name(name)), run.analysis)
        for key in STATISTICS:
            rows[key].append(float(stats[key].mean()) if key in stats else np.nan)
    data = {key: ("variant", np.array(values), {"units": STATISTICS[key][0],
                                                 "long_name": STATISTICS[key][1]})
            for key, values in rows.items()}
    return xr.Dataset(data, coords={"variant": ("variant", list(runs))},
                      attrs={"run_id": point.run_id,
                             "variants_json": json.dumps(dict(variants), sort_keys=True)})


def _run_chain(run: RunSettings, folder: Path) -> dict[str, str]:
    """Run :data:`CHAIN` into ``folder``, keeping stores a previous call of the same settings
    finished; a folder holding another variant's stores raises instead of mixing them."""
    settings = {stage: stage_params(run, stage) for stage in CHAIN}
    record = folder / "settings.json"
    if record.exists() and json.loads(record.read_text()) != settings:
        raise ParameterError(f"{folder} holds the chain of other settings; remove it or choose "
                             "another out_dir")
    folder.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(settings))
    paths: dict[str, str] = {}
    for stage in CHAIN:
        inputs = {key: paths[source] for key, source in STAGES[stage].inputs}
        paths[stage] = str(folder / f"{stage}.zarr")
        if not is_complete(paths[stage]):
            run_stage(stage, settings[stage], inputs, paths[stage])
    return paths
