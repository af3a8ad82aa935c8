"""The reduced model's sweep: its axes, its points (validated before any job), each stage's run
folder and params, and the sweep figure's panels.

Any setting of :class:`~homeoplastic.reduced.params.ReducedSettings` is an axis, besides the
named axes ``m`` (alias ``models``), ``n`` (``system_size``), ``eta`` and ``seed`` (``seeds``):
a top-level key by its name (``theta``, ``w_inh``, ``rates_duration``) or a key of a group as its
dotted key (``activation.f_max``). The ``sweep`` block maps axes to lists of values; today's
top-level lists (``models``, ``system_size``, ``eta``, ``seeds``) are the named axes' values where
the block does not give them. ``extra_sweeps`` blocks add further products (see
:mod:`homeoplastic.sweep`).

Run ids are :class:`homeoplastic.sweep.Point` ids: ``m~2_n~16_eta~0.001_seed~0`` for the named
axes (as before), then ``theta~2`` etc. for each other axis off its default. A stage's store lives
in the folder of the point restricted to what the stage reads (its row of
:data:`~homeoplastic.reduced.experiments.STAGE_TABLE` and the rows it reads): sweeping
``field_points`` shares every simulate and train store between its values.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from homeoplastic.parameters import ParameterError, from_mapping, spec_of
from homeoplastic.reduced.experiments import (
    NAMED_AXES,
    STAGE_TABLE,
    STRUCTURAL_KEYS,
    for_model,
    run_point,
    stage_config,
)
from homeoplastic.reduced.params import ReducedPoint, ReducedSettings
from homeoplastic.reduced.quantities import QUANTITIES
from homeoplastic.stage import reads
from homeoplastic.sweep import Axes, Point, expand, flatten, id_regex, set_dotted, sweep_blocks

TOP_LEVEL_LISTS = {"models": "m", "system_size": "n", "eta": "eta", "seeds": "seed"}
"""Today's top-level sweep lists and the axis each gives."""

AXES = Axes(
    aliases={
        # top-level settings are axes by their own name (dotted keys need no alias)
        **{f.name: f.name for f in dataclasses.fields(ReducedSettings) if spec_of(f) is not None},
        **TOP_LEVEL_LISTS,
        "m": "m", "n": "n", "seed": "seed",  # last: the names the runs go by
    },
    named=NAMED_AXES,
)
WHERE = "reduced"


def sweep_section(section: Mapping[str, Any]) -> dict[str, Any]:
    """The ``sweep`` and ``extra_sweeps`` blocks as :func:`homeoplastic.sweep.expand` reads them:
    a named axis the ``sweep`` block leaves out takes today's top-level list (or its default)."""
    given = dict(section.get("sweep") or {})
    named = {AXES.canonical(key, f"{WHERE}.sweep") for key in given}
    block = {}
    defaults = ReducedPoint()
    for name, axis in TOP_LEVEL_LISTS.items():
        if axis not in named:
            block[name] = list(section.get(name, [getattr(defaults, axis)]))
    return {"sweep": {**block, **given}, "extra_sweeps": list(section.get("extra_sweeps") or [])}


def run_settings(section: Mapping[str, Any]) -> dict[str, Any]:
    """The section's run settings (not the sweep's or the workflow's keys), as a mapping."""
    return {k: v for k, v in section.items() if k not in STRUCTURAL_KEYS}


def base_settings(section: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting a run would have without the sweep, as flat dotted keys (defaults filled)."""
    settings = from_mapping(ReducedSettings, run_settings(section), WHERE)
    return flatten(json.loads(json.dumps(dataclasses.asdict(settings))))


def check_values(section: Mapping[str, Any]) -> None:
    """Every value of every axis checked by the declaration of its key (type, range, allowed
    values), naming ``reduced.sweep.<key>`` (or ``reduced.extra_sweeps[i].<key>``)."""
    settings = run_settings(section)
    for path, block in sweep_blocks(sweep_section(section), AXES, WHERE):
        for key, values in block.items():
            for value in values:
                if key in NAMED_AXES:
                    run_point({**dataclasses.asdict(ReducedPoint()), key: value}, path)
                else:
                    from_mapping(ReducedSettings, set_dotted(settings, key, value), path)


def points(section: Mapping[str, Any]) -> list[Point]:
    """Every point of the section's sweep, each value checked before any job (see
    :func:`check_values`); raises :class:`~homeoplastic.parameters.ParameterError` naming the key."""
    check_values(section)
    base = base_settings(section)
    found = expand(sweep_section(section), AXES, WHERE, defaults_of=lambda named: base)
    for point in found:  # every point's settings together (no key checks another today)
        settings_of(section, point)
    return found


def settings_of(section: Mapping[str, Any], point: Point) -> dict[str, Any]:
    """The point's run settings: the section's, with the point's axes (other than m, n, eta,
    seed) set; checked by :class:`ReducedSettings`."""
    settings = run_settings(section)
    for key, value in point.settings().items():
        if key not in NAMED_AXES:
            settings = set_dotted(settings, key, value)
    from_mapping(ReducedSettings, settings, WHERE)
    return settings


def stage_point(point: Point, stage: str) -> Point:
    """The point a stage's store depends on: the axes the stage (or a stage it reads) declares."""
    m = int(point["m"])
    return point.restrict(lambda key: reads(STAGE_TABLE, stage, key) and for_model(key, m))


def stage_run_id(point: Point, stage: str) -> str:
    """The folder of a point's store of ``stage``."""
    return stage_point(point, stage).run_id


def point_json(point: Point) -> str:
    """A point's visible values with the named axes typed (m, seed int; n, eta float)."""
    values = point.visible()
    named = run_point(values)
    return json.dumps({**values, **dataclasses.asdict(named)}, sort_keys=True)


def stage_params(section: Mapping[str, Any], point: Point, stage: str) -> dict[str, str]:
    """A stage rule's params for a point: ``cfg``, only the settings the stage's row declares
    (stable JSON, the same as before the generic sweep), and ``point``, the values naming its
    store's folder."""
    restricted = stage_point(point, stage)
    settings = settings_of(section, point)
    cfg = stage_config(settings, stage, int(point["m"]))
    return {"cfg": json.dumps(cfg, sort_keys=True), "point": point_json(restricted)}


def base_points(found: Sequence[Point]) -> list[Point]:
    """The points today's figures draw (over m, n, eta and seed): those with every other axis at
    its default, else those with the first point's values of the other axes."""
    def others(p: Point) -> tuple:
        return tuple((k, json.dumps(v)) for k, v in p.visible().items() if k not in NAMED_AXES)

    target = () if any(not others(p) for p in found) else others(found[0])
    return [p for p in found if others(p) == target]


# ------------------------------------------------------------------------------- sweep figure
def axis_names(found: Sequence[Point]) -> list[str]:
    """The names of the sweep's axes (aliases for named axes, keys for the others), in order."""
    names: list[str] = []
    for point in found:
        names += [name for name in point.as_dict() if name not in names]
    return names


def check_figures(section: Mapping[str, Any], found: Sequence[Point]) -> list[dict[str, str]]:
    """The ``figures`` panels with axis names resolved (``models`` -> ``m``); refuses a quantity
    the analyze store does not give or an axis the sweep does not have, naming the key."""
    names = axis_names(found)
    panels = []
    for index, panel in enumerate(section.get("figures") or ()):
        where = f"{WHERE}.figures[{index}]"
        if panel.get("y") not in QUANTITIES:
            raise ParameterError(f"{where}.y = {panel.get('y')!r} is not a quantity; allowed: "
                                 f"{', '.join(QUANTITIES)}", key=f"{where}.y")
        out = {"y": panel["y"]}
        for role in ("x", "hue", "col"):
            if role not in panel or panel[role] is None:
                continue
            name = panel[role]
            canonical = AXES.aliases.get(name, name)  # run ids name every axis by its key
            if canonical == "seed":
                raise ParameterError(f"{where}.{role} = {name!r}: seeds are the replicates every "
                                     "point is averaged over; allowed: another axis",
                                     key=f"{where}.{role}")
            if canonical not in names:
                raise ParameterError(f"{where}.{role} = {name!r} is not an axis of the sweep; "
                                     f"allowed: {', '.join(names)}", key=f"{where}.{role}")
            if canonical in out.values():
                raise ParameterError(f"{where}.{role} = {name!r} is used twice in the panel",
                                     key=f"{where}.{role}")
            out[role] = canonical
        if "x" not in out:
            raise ParameterError(f"{where}.x is missing; allowed: {', '.join(names)}",
                                 key=f"{where}.x")
        panels.append(out)
    return panels


def figure_runs(found: Sequence[Point], store_of) -> list[tuple[dict[str, Any], str]]:
    """(every axis's value by name, analyze store) per point, the named axes typed as in
    :func:`point_json`; ``store_of(point)`` gives the point's analyze store."""
    out = []
    for point in found:
        values = point.as_dict()
        out.append(({**values, **dataclasses.asdict(run_point(values))}, store_of(point)))
    return out


class Workflow:
    """What the reduced rules need of a validated ``reduced`` section: its points and panels
    (checked on construction, before any job), each stage's run folders, and per rule the input,
    params and wildcard constraint functions, all derived from the stage table."""

    def __init__(self, section: Mapping[str, Any], results: str) -> None:
        self.section = section
        self.results = results
        self.points = points(section)
        self.panels = check_figures(section, self.points)
        self.runs: dict[str, dict[str, Point]] = {stage: {} for stage in STAGE_TABLE}
        for point in self.points:
            for stage in STAGE_TABLE:
                self.runs[stage].setdefault(stage_run_id(point, stage), point)
        self.base = base_points(self.points)
        self.models = sorted({int(p["m"]) for p in self.points})

    def store(self, point: Point, stage: str) -> str:
        return f"{self.results}/{stage_run_id(point, stage)}/{stage}.zarr"

    def run_regex(self, stage: str) -> str:
        """Wildcard constraint: the run folders of ``stage``'s stores."""
        return id_regex(self.runs[stage])

    def params(self, stage: str, key: str = "cfg"):
        """A stage rule's params: ``cfg``, only the ``reduced`` keys that change its store (stable
        JSON), or ``point``, the values naming its folder (see :func:`stage_params`)."""
        return lambda wc: stage_params(self.section, self.runs[stage][wc.run], stage)[key]

    def inputs(self, stage: str):
        """The stores a stage reads, by name, from the stage table."""
        sources = STAGE_TABLE[stage].inputs
        return lambda wc: {name: self.store(self.runs[stage][wc.run], source)
                           for name, source in sources}

    def figure_stores(self, stage: str, m: int) -> list[str]:
        """The stores today's figures of the M-population model draw (the base points)."""
        return sorted({self.store(p, stage) for p in self.base if int(p["m"]) == m})

    def all_stores(self) -> list[str]:
        """Every store of every point (each point's whole chain, wherever a figure reads it)."""
        return sorted({self.store(p, stage) for p in self.points for stage in STAGE_TABLE})

    def sweep_stores(self) -> list[str]:
        """Every analyze store of the sweep (the sweep figure's input)."""
        return sorted({self.store(p, "analyze") for p in self.points})

    def sweep_runs_json(self) -> str:
        return json.dumps(figure_runs(self.points, lambda p: self.store(p, "analyze")))
