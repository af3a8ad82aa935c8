"""A sweep of any model: axes named by dotted settings keys, points, run ids and their projections.

One module for the three models. A model's config section has a ``sweep`` block and optional
``extra_sweeps`` blocks; each maps an axis to its list of values. An axis is any settings key of
the model, written as its dotted key (``network.istdp.target_rate_hz``, ``protocol.spontaneous_s``)
or as one of the model's short aliases (``n_neurons``, ``rule``, ``seed``...). The runs are the
union of the product of ``sweep`` and of each extra block (an axis a block leaves out takes
``sweep``'s values); a point named twice is one run.

Run ids follow Snakemake's Paramspace convention, ``key~value`` parts joined by ``_``, with
stable value formatting (:func:`format_value`). The model's *named* axes (its aliases) always
appear, in the model's order; any other axis appears, in key order, only where its value differs
from what the config would run without the axis (the point's ``defaults``), so adding an axis
whose values include today's setting keeps every finished run where it is. An id longer than
:data:`MAX_ID_LENGTH` becomes a readable prefix plus a short stable hash of the whole id.

A stage that does not read an axis shares its store between the points that differ only there:
:meth:`Point.restrict` gives the point a stage sees and :meth:`Point.run_id` its folder.
"""

from __future__ import annotations

import copy
import hashlib
import math
import numbers
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from homeoplastic.parameters import ParameterError

MAX_ID_LENGTH = 150
"""Longer run ids are shortened to a prefix plus a hash (file systems allow 255 bytes a name)."""
HASH_LENGTH = 12
AXIS_KEY = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)+$")
"""A dotted settings key (``group.name`` or deeper)."""
_UNSAFE = re.compile(r"[/\s~]|^\.|\.\.")


def format_value(value: Any) -> str:
    """A value as run ids spell it: integral numbers without ``.0`` (``learning_speed~4``),
    other floats as Python's shortest round-trip repr (``eta~0.001``), booleans ``true``/``false``,
    lists joined by ``,``; text as it is. Refuses text that would break a path."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, (list, tuple)):
        return ",".join(format_value(v) for v in value)
    text = str(value)
    if not text or _UNSAFE.search(text):
        raise ParameterError(f"sweep value {value!r} cannot name a run folder; allowed: text "
                             "without '/', '~', spaces or '..'")
    return text


def same_value(a: Any, b: Any) -> bool:
    """Equal as settings: numbers by value (``3 == 3.0``; NaN never equal), lists item by item."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (isinstance(a, bool) and isinstance(b, bool) and a == b)
    if isinstance(a, numbers.Real) and isinstance(b, numbers.Real):
        return float(a) == float(b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@dataclass(frozen=True)
class Point:
    """One run of a sweep: every axis's value, and what the config would run without each axis.

    ``values`` is (axis key, value) in axis order: the model's named axes first (``named``), the
    others by key. ``defaults`` holds, for the other axes, the value the run would have without
    the axis (the config's setting for this point); an axis at its default stays out of the id.
    """

    values: tuple[tuple[str, Any], ...]
    named: tuple[str, ...]
    defaults: tuple[tuple[str, Any], ...] = ()
    aliases: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def __getattr__(self, name: str) -> Any:
        """An axis's value by its alias or last key part: ``point.seed``, ``point.rule``."""
        if name.startswith("_") or name in ("values", "named", "defaults", "aliases"):
            raise AttributeError(name)
        aliases = dict(object.__getattribute__(self, "aliases"))
        for key, value in object.__getattribute__(self, "values"):
            if aliases.get(key, key) == name:
                return value
        raise AttributeError(f"the sweep point has no axis {name!r}")

    def __getitem__(self, key: str) -> Any:
        for name, value in self.values:
            if name == key:
                return value
        raise KeyError(key)

    def __contains__(self, key: str) -> bool:
        return any(name == key for name, _ in self.values)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.values)

    def at_default(self, key: str) -> bool:
        """True when a non-named axis holds the value the config would run anyway."""
        defaults = dict(self.defaults)
        return key in defaults and same_value(self[key], defaults[key])

    def name(self, key: str) -> str:
        """The name an axis goes by in ids, params and attrs: its alias, else its dotted key."""
        return dict(self.aliases).get(key, key)

    def visible(self) -> dict[str, Any]:
        """The values that name the run (by :meth:`name`): named axes, and the others where not
        at their default."""
        return {self.name(key): value for key, value in self.values
                if key in self.named or not self.at_default(key)}

    def as_dict(self) -> dict[str, Any]:
        """Every axis's value by :meth:`name` (named and other), in axis order."""
        return {self.name(key): value for key, value in self.values}

    def settings(self) -> dict[str, Any]:
        """Every axis's value by its dotted key (the keys to set in the settings)."""
        return dict(self.values)

    def restrict(self, keep: Callable[[str], bool]) -> Point:
        """The point a stage sees: only the axes ``keep`` accepts (named axes always stay)."""
        kept = tuple((k, v) for k, v in self.values if k in self.named or keep(k))
        names = {k for k, _ in kept}
        return Point(kept, self.named, tuple((k, v) for k, v in self.defaults if k in names),
                     self.aliases)

    @property
    def run_id(self) -> str:
        """Paramspace-style folder name of the point: ``n_neurons~2000_rule~voltage_..._seed~1``
        then ``network.istdp.target_rate_hz~5`` for each axis off its default."""
        return run_id_of(self.visible())


def run_id_of(values: Mapping[str, Any]) -> str:
    """The run id of an ordered mapping of visible axis values (see :class:`Point`)."""
    text = "_".join(f"{key}~{format_value(value)}" for key, value in values.items())
    if len(text) <= MAX_ID_LENGTH:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:HASH_LENGTH]
    prefix = text[: MAX_ID_LENGTH - HASH_LENGTH - 3]
    prefix = prefix[: prefix.rfind("_")] if "_" in prefix else prefix  # whole parts only
    return f"{prefix}_h~{digest}"


def id_regex(run_ids: Iterable[str]) -> str:
    """A wildcard constraint matching exactly these run ids (regex characters escaped)."""
    ids = sorted(set(run_ids))
    return "|".join(re.escape(run) for run in ids) if ids else "no-such-run"


# ------------------------------------------------------------------------------- the blocks
@dataclass(frozen=True)
class Axes:
    """How a model names its axes: short aliases for dotted keys, and which axes always name
    a run (in id order). An alias may map to itself when the axis is not a settings key
    (``rule``, ``seed``)."""

    aliases: Mapping[str, str]
    named: tuple[str, ...]

    def canonical(self, key: str, where: str) -> str:
        """The dotted key an axis name stands for; refuses names that are neither."""
        if key in self.aliases:
            return self.aliases[key]
        if AXIS_KEY.match(key):
            return key
        raise ParameterError(
            f"{where}.{key}: unknown sweep axis; allowed: {', '.join(self.aliases)} or a dotted "
            "settings key such as network.istdp.target_rate_hz", key=f"{where}.{key}")

    def order(self, keys: Iterable[str]) -> list[str]:
        """Named axes first in their order, then the others by key."""
        keys = set(keys)
        named = [self.aliases.get(n, n) for n in self.named]
        return [k for k in named if k in keys] + sorted(keys - set(named))

    def short_names(self) -> dict[str, str]:
        """Dotted key -> alias for the aliased axes."""
        return {key: alias for alias, key in self.aliases.items()}


def sweep_blocks(section: Mapping[str, Any], axes: Axes, where: str
                 ) -> list[tuple[str, dict[str, list[Any]]]]:
    """The product blocks of a section: (config path, canonical key -> values), ``sweep`` first,
    each extra block laid over ``sweep``. Refuses an axis named twice in one block (alias and key)
    and an axis with no values."""
    base = _canonical_block(section.get("sweep", {}) or {}, axes, f"{where}.sweep")
    blocks = [(f"{where}.sweep", base)]
    for index, block in enumerate(section.get("extra_sweeps", ()) or ()):
        path = f"{where}.extra_sweeps[{index}]"
        blocks.append((path, {**base, **_canonical_block(block, axes, path)}))
    return blocks


def _canonical_block(block: Mapping[str, Any], axes: Axes, where: str) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    named_by: dict[str, str] = {}
    for name, values in block.items():
        key = axes.canonical(name, where)
        if key in out:
            raise ParameterError(f"{where}: axis {key!r} is given twice ({named_by[key]!r} and "
                                 f"{name!r}); allowed: once", key=f"{where}.{name}")
        if not isinstance(values, (list, tuple)) or not values:
            raise ParameterError(f"{where}.{name} = {values!r} is invalid; allowed: a non-empty "
                                 "list of values", key=f"{where}.{name}")
        for value in values:
            if isinstance(value, float) and not math.isfinite(value):
                raise ParameterError(f"{where}.{name} = {value!r} is invalid; allowed: finite "
                                     "numbers", key=f"{where}.{name}")
        out[key], named_by[key] = list(values), name
    return out


def expand(section: Mapping[str, Any], axes: Axes, where: str,
           defaults_of: Callable[[dict[str, Any]], Mapping[str, Any]] | None = None
           ) -> list[Point]:
    """Every point of the section's sweep, in table order, each once.

    ``defaults_of(named values)`` gives, for a point's named axes, the value every other axis
    would have without the sweep (a flat mapping of dotted keys); it is called once per distinct
    set of named values. A block missing a named axis is an error naming it.
    """
    points: list[Point] = []
    seen: set[tuple] = set()
    cache: dict[tuple, Mapping[str, Any]] = {}
    named_keys = [axes.aliases.get(n, n) for n in axes.named]
    alias_pairs = tuple((k, a) for a, k in axes.aliases.items())
    for path, block in sweep_blocks(section, axes, where):
        missing = [n for n, k in zip(axes.named, named_keys, strict=True) if k not in block]
        if missing:
            raise ParameterError(f"{path}.{missing[0]} is missing; every run needs a value of "
                                 f"{', '.join(axes.named)}", key=f"{path}.{missing[0]}")
        order = axes.order(block)
        rows: list[list[tuple[str, Any]]] = [[]]
        for key in order:
            rows = [[*row, (key, value)] for row in rows for value in block[key]]
        for row in rows:
            values = tuple(row)
            named = tuple((k, v) for k, v in values if k in named_keys)
            other = [k for k, _ in values if k not in named_keys]
            defaults: tuple[tuple[str, Any], ...] = ()
            if other:
                if defaults_of is None:
                    raise ParameterError(f"{path}: this model sweeps only {', '.join(axes.named)}")
                cache_key = tuple((k, _hashable(v)) for k, v in named)
                if cache_key not in cache:
                    cache[cache_key] = defaults_of(dict(named))
                base = cache[cache_key]
                unknown = [k for k in other if k not in base]
                if unknown:
                    raise ParameterError(
                        f"{path}.{unknown[0]}: unknown settings key; allowed: a dotted key of the "
                        f"model's settings, e.g. {_examples(base)}", key=f"{path}.{unknown[0]}")
                defaults = tuple((k, base[k]) for k in other)
            point = Point(values, tuple(named_keys), defaults, alias_pairs)
            ident = tuple((k, _hashable(v)) for k, v in point.visible().items())
            if ident not in seen:
                seen.add(ident)
                points.append(point)
    return points


def _hashable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    return value


def _examples(base: Mapping[str, Any]) -> str:
    keys = sorted(base)
    return ", ".join(keys[:: max(1, len(keys) // 4)][:4])


# ----------------------------------------------------------------------- settings plumbing
def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested mapping as dotted keys (``{"a": {"b": 1}}`` -> ``{"a.b": 1}``); lists stay."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def set_dotted(values: Mapping[str, Any], key: str, value: Any) -> dict[str, Any]:
    """A deep copy of a nested mapping with the dotted ``key`` set (groups created as needed)."""
    out = copy.deepcopy(dict(values))
    target = out
    parts = key.split(".")
    for part in parts[:-1]:
        child = target.get(part)
        target[part] = copy.deepcopy(dict(child)) if isinstance(child, Mapping) else {}
        target = target[part]
    target[parts[-1]] = copy.deepcopy(value)
    return out


def axis_names(points: Iterable[Point]) -> set[str]:
    """Every name an axis of these points may go by: alias, dotted key and its last part."""
    names: set[str] = set()
    for point in points:
        for key in point.keys:
            names.update({point.name(key), key, key.rsplit(".", 1)[-1]})
    return names


def dim_names(keys: Sequence[str]) -> dict[str, str]:
    """A short dimension name for each axis key: its last part, or as many trailing parts as
    keep the names distinct among ``keys`` (``exc.tau_m_ms`` beside ``inh.tau_m_ms``)."""
    out: dict[str, str] = {}
    for key in keys:
        parts = key.split(".")
        for n in range(1, len(parts) + 1):
            name = ".".join(parts[-n:])
            clashes = [k for k in keys if k != key and (k == name or k.endswith("." + name))]
            if not clashes:
                break
        out[key] = name
    return out
