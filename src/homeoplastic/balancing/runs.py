"""The balancing model's runs: sweep points, run ids and each stage's narrow params.

Axes are written in ``balancing.sweep`` and ``balancing.extra_sweeps`` (a list of blocks laid over
``sweep``, as in every model, see :mod:`homeoplastic.sweep`):

- ``sizes``, ``ranks``, ``exponents``, ``seeds``: the random-network sweep's named axes (aliases of
  ``n``, ``rank``, ``p``, ``seed``), always in the run id: ``n~50_rank~1_p~2_seed~0``.
- ``sweep.solver``, ``sweep.tol``, ``sweep.flow_max_iter``: a solver setting as an axis, written as
  its dotted key under ``balancing`` (the scalar ``sweep.tol`` stays the setting every other run
  uses, and the value a point takes when the axis leaves it out).
- ``rnn.<key>`` (``rnn.learning_rate``, ``rnn.n``, ``rnn.n_iterations``...): an axis of the RNN
  experiment, whose named axes are its arm, lambda (``rnn.l2_lambdas`` / ``rnn.balance_rates``) and
  seed (``rnn.seeds``): ``arm~l2_lambda~0.3_seed~0``.

An axis applies to the experiment that reads it, so an ``rnn.*`` axis never multiplies the
random-network points and a ``sweep.*`` axis never multiplies the RNN runs. Any other axis appears
in the id only where it differs from the config's setting, so adding an axis whose values include
today's setting keeps every finished run where it is. Every point is checked (type, range, rank
<= size) by the same declarations that check a single run (the section's JSON schema and the
parameter classes) before any job, with the key named.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from homeoplastic.balancing.experiments import BALANCE_QUANTITIES, RNNSetup, SweepPoint
from homeoplastic.balancing.rnn import TrainConfig
from homeoplastic.parameters import ParameterError, config_keys, from_mapping
from homeoplastic.sweep import Axes, Point, expand, run_id_of, set_dotted

SCHEMA = Path(__file__).resolve().parents[3] / "workflow/schemas/balancing.schema.yaml"

SWEEP_AXES = Axes(
    aliases={"sizes": "n", "n": "n", "ranks": "rank", "rank": "rank", "exponents": "p", "p": "p",
             "seeds": "seed", "seed": "seed"},
    named=("n", "rank", "p", "seed"),
)
"""The random-network sweep: plural config names are aliases of the id's names."""
RNN_AXES = Axes(aliases={"arm": "arm", "lambda": "lambda", "seed": "seed"},
                named=("arm", "lambda", "seed"))
SOLVER_KEYS = tuple(f"sweep.{k}" for k in config_keys(SweepPoint))
"""Settings of a random-network point that may be axes (``sweep.solver``, ``sweep.tol``...)."""
RNN_SETUP_KEYS = config_keys(RNNSetup)
RNN_TRAIN_KEYS: tuple[str, ...] = (*RNN_SETUP_KEYS, *config_keys(TrainConfig), "n_permutations")
RNN_EVAL_KEYS: tuple[str, ...] = (*RNN_SETUP_KEYS, "dt", "substeps", "noise_sigmas",
                                  "n_trial_sets", "gain_floor", "silent_gain")
RNN_AXIS_KEYS = tuple(f"rnn.{k}" for k in sorted(set(RNN_TRAIN_KEYS) | set(RNN_EVAL_KEYS)))
"""RNN settings that may be axes; ``rnn.l2_lambdas``, ``rnn.balance_rates`` and ``rnn.seeds``
are the RNN's named axes already (add values to them)."""
NAMED_SETTINGS = ("sizes", "ranks", "exponents", "seeds")
WHERE = "balancing"


def _blocks(section: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(config path, block) of ``sweep`` and each extra block, as written."""
    blocks = [(f"{WHERE}.sweep", dict(section.get("sweep", {}) or {}))]
    for i, block in enumerate(section.get("extra_sweeps", ()) or ()):
        if not isinstance(block, Mapping):
            raise ParameterError(f"{WHERE}.extra_sweeps[{i}] = {block!r} is invalid; allowed: a "
                                 "mapping of axes to lists of values",
                                 key=f"{WHERE}.extra_sweeps[{i}]")
        blocks.append((f"{WHERE}.extra_sweeps[{i}]", dict(block)))
    return blocks


def _split(section: Mapping[str, Any]) -> tuple[list[dict], list[dict]]:
    """Each block's random-network axes and RNN axes (``sweep``'s scalar settings left out)."""
    net, rnn = [], []
    for path, block in _blocks(section):
        net_axes, rnn_axes = {}, {}
        for key, values in block.items():
            if key.startswith("rnn."):
                if key not in RNN_AXIS_KEYS:
                    raise ParameterError(
                        f"{path}.{key}: unknown RNN axis; allowed: {', '.join(RNN_AXIS_KEYS)} "
                        "(arms, lambdas and seeds: add values to rnn.l2_lambdas, "
                        "rnn.balance_rates, rnn.seeds)", key=f"{path}.{key}")
                rnn_axes[key] = values
            elif path.endswith(".sweep") and key in config_keys(SweepPoint):
                continue  # the scalar setting every point uses unless an axis says otherwise
            elif SWEEP_AXES.aliases.get(key) == "rank" and isinstance(values, list):
                net_axes[key] = [str(v) for v in values]  # "10" beside "full": one type
            else:
                net_axes[key] = values
        net.append(net_axes)
        rnn.append(rnn_axes)
    return net, rnn


def _check_section(section: Mapping[str, Any], path: str, key: str, value: Any) -> None:
    """The section's schema with one axis value set: the check a single run gets."""
    from homeoplastic.config import ConfigError, validate

    bare = {k: v for k, v in section.items() if k != "extra_sweeps"}
    bare["sweep"] = {k: v for k, v in (section.get("sweep", {}) or {}).items() if "." not in k}
    try:
        validate(set_dotted(bare, key, value), _schema(), where=WHERE)
    except ConfigError as err:
        raise ParameterError(f"{path}.{key} = {value!r} is invalid: {err}",
                             key=f"{path}.{key}") from None


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    from homeoplastic.config import load_schema

    return load_schema(SCHEMA)


# ------------------------------------------------------------------ random-network sweep
def sweep_points(section: Mapping[str, Any]) -> list[Point]:
    """Every random-network point, each checked before any job (see the module)."""
    net, _ = _split(section)
    base = section.get("sweep", {}) or {}
    blocks = {"sweep": net[0], "extra_sweeps": net[1:]}
    defaults = {key: base.get(key.split(".", 1)[1], _default(key)) for key in SOLVER_KEYS}
    points = expand(blocks, SWEEP_AXES, WHERE, lambda named: defaults)
    paths = dict(_blocks(section))
    checked: set[tuple] = set()
    for point in points:
        for key, value in point.settings().items():
            if key in SOLVER_KEYS and (key, repr(value)) not in checked:
                checked.add((key, repr(value)))
                _check_section(section, _path_of(paths, key), key, value)
        sweep_settings(section, point)  # type, range, rank <= size
    return points


def _default(key: str) -> Any:
    group, name = key.split(".", 1)
    return _schema()["properties"][group]["properties"][name].get("default")


def _path_of(paths: Mapping[str, Mapping[str, Any]], key: str) -> str:
    for path, block in paths.items():
        if key in block:
            return path
    return f"{WHERE}.sweep"


def sweep_settings(section: Mapping[str, Any], point: Point) -> SweepPoint:
    """The checked settings of one random-network point (a bad value names its axis)."""
    values = point.settings()
    base = section.get("sweep", {}) or {}
    settings = {k: values.get(f"sweep.{k}", base.get(k, _default(f"sweep.{k}")))
                for k in config_keys(SweepPoint)}
    try:
        return from_mapping(SweepPoint, {"n": values["n"], "rank": str(values["rank"]),
                                         "p": float(values["p"]), "seed": values["seed"],
                                         **settings}, f"{WHERE}.sweep")
    except ParameterError as err:
        raise ParameterError(f"{err} (sweep point {point.run_id})", key=err.key) from None


def balance_params(section: Mapping[str, Any], point: Point) -> str:
    """The balance stage's params: the point (for the store's attrs) and every setting it reads."""
    pt = sweep_settings(section, point)
    settings = {"n": pt.n, "rank": pt.rank, "p": pt.p, "seed": pt.seed,
                **{k: getattr(pt, k) for k in config_keys(SweepPoint)}}
    return json.dumps({"point": point.visible(), "settings": settings}, sort_keys=True)


# ------------------------------------------------------------------------------ RNN runs
def rnn_points(section: Mapping[str, Any]) -> list[Point]:
    """Every RNN run: (arm, lambda) of the plain arm, each ``l2_lambdas`` and ``balance_rates``
    value, times ``rnn.seeds``, times the product of the ``rnn.*`` axes of each block."""
    rnn = section.get("rnn", {}) or {}
    if not rnn.get("enabled", True):
        return []
    _, axes = _split(section)
    arms = [("plain", [0.0]), ("l2", [float(v) for v in rnn.get("l2_lambdas", [])]),
            ("balance", [float(v) for v in rnn.get("balance_rates", [])])]
    blocks = [{"arm": [arm], "lambda": lams, "seed": list(rnn.get("seeds", [0])), **extra}
              for extra in axes for arm, lams in arms if lams]
    # each arm is its own product block; the extra blocks then add their own axes
    defaults = {key: rnn.get(key.split(".", 1)[1]) for key in RNN_AXIS_KEYS}
    points = expand({"sweep": blocks[0], "extra_sweeps": blocks[1:]}, RNN_AXES, WHERE,
                    lambda named: defaults)
    paths = dict(_blocks(section))
    checked: set[tuple] = set()
    for point in points:
        for key, value in point.settings().items():
            if key.startswith("rnn.") and (key, repr(value)) not in checked:
                checked.add((key, repr(value)))
                _check_section(section, _path_of(paths, key), key, value)
        rnn_settings(section, point)
    return points


def rnn_settings(section: Mapping[str, Any], point: Point) -> dict[str, Any]:
    """The ``rnn`` section as this run sees it (its axes set), its setup and arm checked."""
    rnn = dict(section.get("rnn", {}) or {})
    for key, value in point.settings().items():
        if key.startswith("rnn."):
            rnn[key.split(".", 1)[1]] = value
    arm, lam = point["arm"], float(point["lambda"])
    try:
        from_mapping(RNNSetup, {k: rnn[k] for k in RNN_SETUP_KEYS}, f"{WHERE}.rnn")
        from_mapping(TrainConfig, {"arm": arm, "l2_lambda": lam if arm == "l2" else 0.0,
                                   "balance_rate": lam if arm == "balance" else 0.0,
                                   **{k: rnn[k] for k in config_keys(TrainConfig)}},
                     f"{WHERE}.rnn")
    except ParameterError as err:
        raise ParameterError(f"{err} (RNN run {point.run_id})", key=err.key) from None
    return rnn


def rnn_label(point: Point) -> str:
    """The run's label in figures and the claims table: ``l2 λ=0.3`` and any off-default axis."""
    label = f"{point['arm']} λ={float(point['lambda']):g}"
    extra = {k: v for k, v in point.visible().items() if k not in RNN_AXES.named}
    return label + "".join(f", {k}={v}" for k, v in extra.items())


def _rnn_params(section: Mapping[str, Any], point: Point, keys: tuple[str, ...]) -> str:
    rnn = rnn_settings(section, point)
    visible = {**point.visible(), "run": rnn_label(point)}
    named = {"arm": point["arm"], "lam": float(point["lambda"]), "seed": int(point["seed"])}
    return json.dumps({"point": visible, "run": named,
                       "settings": {k: rnn[k] for k in keys}}, sort_keys=True)


def train_params(section: Mapping[str, Any], point: Point) -> str:
    """Training's params: the run and only the ``rnn`` keys training reads."""
    return _rnn_params(section, point, RNN_TRAIN_KEYS)


def robustness_params(section: Mapping[str, Any], point: Point) -> str:
    """Evaluation's params: the run and only the ``rnn`` keys evaluation reads."""
    return _rnn_params(section, point, RNN_EVAL_KEYS)


def run_ids(points: list[Point]) -> dict[str, Point]:
    """Run id -> point; refuses two points with one id (cannot happen but costs nothing)."""
    out: dict[str, Point] = {}
    for point in points:
        if point.run_id in out:
            raise ParameterError(f"two sweep points share the run id {point.run_id}")
        out[point.run_id] = point
    return out


def side_id(side: int) -> str:
    return run_id_of({"side": side})


# --------------------------------------------------------------------------- figure panels
DEFAULT_PANELS = (
    {"name": "cost_vs_rank", "y": "cost_ratio", "x": "rank", "hue": "n", "col": "p"},
    {"name": "cost_vs_size", "y": "cost_ratio", "x": "n", "hue": "rank", "col": "p"},
)
"""Today's two panels: cost ratio against rank (a line per size) and against size (per rank)."""


def figure_panels(section: Mapping[str, Any], points: list[Point]) -> list[dict[str, Any]]:
    """``balancing.figures.panels`` checked against the sweep: ``y`` a quantity of the balance
    store, ``x``/``hue``/``col`` axes of the sweep (``n``, ``rank``, ``p`` or their plural config
    names, or a dotted axis the sweep has); each gets a ``name`` (its file name)."""
    panels = (section.get("figures", {}) or {}).get("panels")
    panels = [dict(p) for p in (DEFAULT_PANELS if panels is None else panels)]
    axes = ["n", "rank", "p", *sorted({k for pt in points for k in pt.keys
                                        if k not in SWEEP_AXES.named})]
    names = {**{a: c for a, c in SWEEP_AXES.aliases.items() if c != "seed"},
             **{a: a for a in axes}}
    out, seen = [], set()
    for i, panel in enumerate(panels):
        where = f"{WHERE}.figures.panels[{i}]"
        if panel.get("y") not in BALANCE_QUANTITIES:
            raise ParameterError(f"{where}.y = {panel.get('y')!r} is not a quantity of the sweep; "
                                 f"allowed: {', '.join(BALANCE_QUANTITIES)}", key=f"{where}.y")
        for role in ("x", "hue", "col"):
            value = panel.get(role)
            if value is None and role != "x":
                continue
            if value not in names:
                raise ParameterError(
                    f"{where}.{role} = {value!r} is not an axis of the sweep; allowed: "
                    f"{', '.join(axes)} (or sizes, ranks, exponents)", key=f"{where}.{role}")
            panel[role] = names[value]
        used = [panel[r] for r in ("x", "hue", "col") if panel.get(r)]
        if len(set(used)) != len(used):
            raise ParameterError(f"{where}: x, hue and col must be different axes, got {used}",
                                 key=where)
        panel.setdefault("name", "_".join([f"{panel['y']}_vs_{panel['x']}"] + [
            f"by_{panel[r]}" for r in ("hue", "col") if panel.get(r)]).replace(".", "_"))
        if panel["name"] in seen or not str(panel["name"]).replace("_", "").isalnum():
            raise ParameterError(f"{where}.name = {panel['name']!r}: allowed: a distinct name of "
                                 "letters, digits and _", key=f"{where}.name")
        seen.add(panel["name"])
        out.append(panel)
    return out
