"""One source for every model parameter: frozen dataclass fields that carry their own metadata.

A field declared with :func:`param` holds its default, unit, bounds or allowed values and a
description. From that one declaration this module derives everything that used to be written
three times:

* :func:`check_fields` (called from each dataclass's ``__post_init__``) enforces the field's type
  and bounds and raises :class:`ParameterError` naming the full key path and what is allowed;
* :func:`from_mapping` builds a (nested) dataclass from a config mapping, refusing unknown keys
  by name and listing the allowed ones;
* :func:`schema_of` gives the JSON-schema fragment of a dataclass's fields (the generated parts of
  ``workflow/schemas/*.schema.yaml``), and :func:`markdown_rows` the rows of ``config/README.md``.

Cross-field rules that metadata cannot state (a time step dividing an interval, theta_p >= theta_d)
stay short explicit checks in the dataclasses. This module uses only the standard library; the
models import it, it never imports them (``homeoplastic.paramdocs`` knows which class documents
which config section and rewrites the generated files).
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import math
import numbers
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["ParameterError", "Spec", "check_fields", "check_type", "config_keys", "from_mapping",
           "markdown_rows",
           "param", "require", "schema_of", "where_am_i"]


class ParameterError(ValueError):
    """A model parameter has the wrong type or is out of its allowed range.

    ``key`` is the offending parameter's full dotted path when known (e.g.
    ``"assemblies.network.exc.tau_m_ms"``).
    """

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


@dataclasses.dataclass(frozen=True)
class Spec:
    """What a parameter means and allows; stored in its field's ``metadata["param"]``.

    ``unit`` is ``"1"`` for a dimensionless number and ``""`` for flags and names. ``paper`` is the
    paper's value where the config documentation quotes one. ``config`` false keeps a library-only
    field out of the config schema and tables (it is fixed by an experiment's design).
    """

    description: str
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    enum: tuple[Any, ...] | None = None
    paper: Any = None
    min_items: int | None = None
    unique_items: bool = False
    item_length: int | None = None
    config: bool = True

    @property
    def bounded(self) -> bool:
        return any(b is not None for b in (self.minimum, self.maximum, self.exclusive_minimum,
                                           self.exclusive_maximum))

    def allowed(self) -> str:
        """The bounds in words: ``'> 0'``, ``'>= 0 and <= 1'``."""
        parts = [f"{op} {_num(bound)}" for op, bound in
                 ((">=", self.minimum), (">", self.exclusive_minimum), ("<=", self.maximum),
                  ("<", self.exclusive_maximum)) if bound is not None]
        return " and ".join(parts)

    def admits(self, value: float) -> bool:
        """``value`` lies within the bounds (and is finite when there are any)."""
        if not self.bounded:
            return True
        return (math.isfinite(value)
                and (self.minimum is None or value >= self.minimum)
                and (self.exclusive_minimum is None or value > self.exclusive_minimum)
                and (self.maximum is None or value <= self.maximum)
                and (self.exclusive_maximum is None or value < self.exclusive_maximum))


def param(default: Any = dataclasses.MISSING, *, description: str, unit: str = "",
          minimum: float | None = None, maximum: float | None = None,
          exclusive_minimum: float | None = None, exclusive_maximum: float | None = None,
          enum: tuple[Any, ...] | None = None, paper: Any = None, min_items: int | None = None,
          unique_items: bool = False, item_length: int | None = None, config: bool = True) -> Any:
    """A dataclass field with its default and :class:`Spec` (unit, bounds, description)."""
    spec = Spec(description=" ".join(description.split()), unit=unit, minimum=minimum,
                maximum=maximum, exclusive_minimum=exclusive_minimum,
                exclusive_maximum=exclusive_maximum, enum=tuple(enum) if enum else None,
                paper=paper, min_items=min_items, unique_items=unique_items,
                item_length=item_length, config=config)
    return dataclasses.field(default=default, metadata={"param": spec})


def spec_of(field: dataclasses.Field) -> Spec | None:
    """The field's :class:`Spec`, or None for a group (a nested dataclass) or a plain field."""
    return field.metadata.get("param")


# Where the keys of the parameters being built live in the config ("network" for the library,
# "assemblies.network" for the workflow); set by from_mapping while it builds a dataclass.
_WHERE: contextvars.ContextVar[str | None] = contextvars.ContextVar("param_where", default=None)


def where_am_i(default: str) -> str:
    """The key path of the dataclass being built: from :func:`from_mapping`, else ``default``."""
    return _WHERE.get() or default


_field_types = functools.cache(typing.get_type_hints)  # annotations are strings here

_TYPE_NAMES = {
    bool: "true or false (a YAML boolean, not a string or a number)",
    int: "an integer",
    float: "a number (integer or decimal, not a string or a list)",
    str: "a string",
}


def _is(value: Any, kind: Any) -> bool:
    item = _item_type(kind)
    if item is not None:
        return isinstance(value, tuple) and all(_is(v, item) for v in value)
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    if kind is str:
        return isinstance(value, str)
    raise TypeError(f"no type check for annotation {kind!r}")


def _item_type(kind: Any) -> type | None:
    """The item type of ``tuple[X, ...]``, else None."""
    if typing.get_origin(kind) is tuple:
        args = typing.get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0]
    return None


def _optional(kind: Any) -> Any:
    """``X`` of ``X | None``, else None."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(kind)) == 2:
            return args[0]
    return None


def check_type(value: Any, kind: Any, key: str) -> None:
    """Raise :class:`ParameterError` unless ``value`` is a ``kind`` (a field's annotation).

    Strict where Python is lax: a ``bool`` field takes only ``True``/``False`` (not ``"no"`` or
    ``0``), an ``int`` field only integers (not ``True`` or ``2.0``), a ``float`` field any real
    number but no boolean, string or list, and no NaN or infinity; ``tuple[float, ...]`` a tuple
    of such numbers.
    """
    inner = _optional(kind)
    if inner is not None:
        if value is not None:
            check_type(value, inner, key)
        return
    if not _is(value, kind):
        raise ParameterError(f"{key} = {value!r} is invalid; allowed: {_type_words(kind)}", key=key)
    if _float_valued(kind) and not all(math.isfinite(v) for v in _numbers(value)):
        # no parameter means anything by NaN or an infinity; a bound is false for NaN, so an
        # unbounded or bounded float field alike refuses them here
        raise ParameterError(f"{key} = {value!r} is invalid; allowed: "
                             f"{_type_words(kind)}, {'each ' if _item_type(kind) else ''}"
                             "a finite number (not NaN or an infinity)", key=key)


def _float_valued(kind: Any) -> bool:
    """``float`` or ``tuple[float, ...]`` (nested): a field whose numbers must be finite."""
    item = _item_type(kind)
    return _float_valued(item) if item is not None else kind is float


def _type_words(kind: Any) -> str:
    item = _item_type(kind)
    if item is not None:
        return f"a list, each item {_type_words(item)}"
    return _TYPE_NAMES[kind]


def _numbers(value: Any) -> list[Any]:
    """The scalars of a value, nested tuples flattened."""
    if isinstance(value, tuple):
        return [x for v in value for x in _numbers(v)]
    return [value]


def _as_tuples(value: Any, kind: Any) -> Any:
    """Lists (a config's YAML) as tuples for ``tuple[...]`` fields, nested; float items as floats."""
    item = _item_type(kind)
    if item is not None and isinstance(value, (list, tuple)):
        return tuple(_as_tuples(v, item) for v in value)
    if kind is float and _is(value, float):
        return float(value)
    return value


def require(condition: bool, key: str, value: Any, allowed: str) -> None:
    """Raise :class:`ParameterError` ``key = value is invalid; allowed: ...`` unless ``condition``."""
    if not condition:
        raise ParameterError(f"{key} = {value!r} is invalid; allowed: {allowed}", key=key)


def check_fields(obj: Any, default_where: str) -> str:
    """Check every :func:`param` field of ``obj`` and of its nested groups (type, bounds, allowed
    values, list length).

    Keys are named from :func:`where_am_i` (``default_where`` outside :func:`from_mapping`);
    returns that root so a ``__post_init__`` can name its own cross-field checks the same way.
    """
    where = where_am_i(default_where)
    _check(obj, where)
    return where


def _check(obj: Any, where: str) -> None:
    hints = _field_types(type(obj))
    for f in dataclasses.fields(obj):
        key, value = f"{where}.{f.name}", getattr(obj, f.name)
        if dataclasses.is_dataclass(hints[f.name]):
            if not isinstance(value, hints[f.name]):
                raise ParameterError(f"{key} = {value!r} is invalid; allowed: a mapping of "
                                     f"{sorted(_groups(hints[f.name]))}", key=key)
            _check(value, key)
            continue
        spec = spec_of(f)
        if spec is None:
            continue
        kind = hints[f.name]
        items = _numbers(value)
        plain = _optional(kind) or kind
        if (spec.bounded and value is not None and _float_valued(plain) and _is(value, plain)
                and not all(math.isfinite(v) for v in items if v is not None)):
            require(False, key, value, ("each item " if isinstance(value, tuple) else "")
                    + "a finite number " + spec.allowed())
        check_type(value, kind, key)
        if spec.enum is not None:
            bad = [v for v in items if v not in spec.enum]
            require(not bad, key, value, f"one of {list(spec.enum)}")
        if spec.bounded and not all(spec.admits(v) for v in items if v is not None):
            require(False, key, value, ("each item " if isinstance(value, tuple) else "")
                    + spec.allowed())
        if isinstance(value, tuple):
            if spec.min_items is not None:
                require(len(value) >= spec.min_items, key, value,
                        f"at least {spec.min_items} items")
            if spec.unique_items:
                require(len(set(value)) == len(value), key, value, "no item repeated")
            if spec.item_length is not None:
                require(all(len(v) == spec.item_length for v in value), key, value,
                        f"each item a list of {spec.item_length}")


def _groups(cls: type) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls) if f.init}


def from_mapping(cls: type, values: Mapping[str, Any] | None, where: str) -> Any:
    """Build ``cls`` (a frozen dataclass, nested groups included) from a config mapping.

    Keys the mapping leaves out keep their defaults. An unknown key, a group given as a non-mapping
    or a wrong value raises :class:`ParameterError` naming the key as ``where.group.name`` and
    what is allowed. Lists become tuples for ``tuple[...]`` fields (float items as floats).
    """
    if values is None:
        values = {}
    known = _groups(cls)
    if not isinstance(values, Mapping):
        raise ParameterError(f"{where} = {values!r} is invalid; allowed: a mapping of "
                             f"{sorted(known)}", key=where)
    unknown = sorted(set(values) - set(known))
    if unknown:
        names = ", ".join(f"{where}.{name}" for name in unknown)
        raise ParameterError(
            f"{names}: unknown parameter; allowed in {where}: {', '.join(sorted(known))}",
            key=f"{where}.{unknown[0]}")
    hints = _field_types(cls)
    kwargs = {}
    for name, value in values.items():
        kind = hints[name]
        if dataclasses.is_dataclass(kind):
            if not isinstance(value, Mapping):
                raise ParameterError(
                    f"{where}.{name} = {value!r} is invalid; allowed: a mapping of "
                    f"{sorted(_groups(kind))}", key=f"{where}.{name}")
            kwargs[name] = from_mapping(kind, value, f"{where}.{name}")
            continue
        if _item_type(kind) is not None and isinstance(value, list):
            value = _as_tuples(value, kind)
        kwargs[name] = value
    token = _WHERE.set(where)
    try:
        return cls(**kwargs)
    finally:
        _WHERE.reset(token)


# ---------------------------------------------------------------------------------- schema, docs
_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string"}


def _field_default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return dataclasses.MISSING
    return _as_lists(value)


def _as_lists(value: Any) -> Any:
    return [_as_lists(v) for v in value] if isinstance(value, tuple) else value


def _bounds(spec: Spec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in (("exclusiveMinimum", spec.exclusive_minimum), ("minimum", spec.minimum),
                        ("exclusiveMaximum", spec.exclusive_maximum), ("maximum", spec.maximum)):
        if value is not None:
            out[name] = value
    if spec.enum is not None:
        out["enum"] = list(spec.enum)
    return out


def _json_type(kind: Any) -> dict[str, Any]:
    inner = _optional(kind)
    if inner is not None:
        return {"type": [_JSON_TYPES[inner], "null"]}
    return {"type": _JSON_TYPES[kind]}


def field_schema(f: dataclasses.Field, kind: Any, *, defaults: bool = True) -> dict[str, Any]:
    """The JSON schema of one :func:`param` field."""
    spec = spec_of(f)
    assert spec is not None
    item = _item_type(kind)
    if item is not None:
        out: dict[str, Any] = {"type": "array"}
        if spec.min_items is not None:
            out["minItems"] = spec.min_items
        if spec.unique_items:
            out["uniqueItems"] = True
        inner = _item_type(item)
        if inner is not None:
            out["items"] = {"type": "array", "items": {**_json_type(inner), **_bounds(spec)}}
            if spec.item_length is not None:
                out["items"].update(minItems=spec.item_length, maxItems=spec.item_length)
        else:
            out["items"] = {**_json_type(item), **_bounds(spec)}
    else:
        out = {**({} if spec.enum is not None else _json_type(kind)), **_bounds(spec)}
    if defaults:
        default = _field_default(f)
        if default is not dataclasses.MISSING:
            out["default"] = default
    if spec.unit:
        out["x-unit"] = spec.unit
    if spec.paper is not None:
        out["x-paper"] = spec.paper
    out["description"] = spec.description
    return out


def schema_of(cls: type, *, defaults: bool = True) -> dict[str, dict[str, Any]]:
    """The ``properties`` of ``cls``'s config keys (nested groups as objects), in field order.

    ``defaults`` false leaves the ``default`` keywords out (for override sections such as
    ``assemblies.network``, whose omitted keys must stay omitted in the validated config).
    """
    hints = _field_types(cls)
    out: dict[str, dict[str, Any]] = {}
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        if dataclasses.is_dataclass(kind):
            doc = " ".join((kind.__doc__ or "").split("\n\n")[0].split())
            out[f.name] = {"type": "object", "additionalProperties": False,
                           **({"default": {}} if defaults else {}), "description": doc,
                           "properties": schema_of(kind, defaults=defaults)}
        elif (spec := spec_of(f)) is not None and spec.config:
            out[f.name] = field_schema(f, kind, defaults=defaults)
    return out


def leaves(cls: type, prefix: str = "") -> Iterator[tuple[str, dataclasses.Field, Any]]:
    """(dotted key, field, annotation) of every :func:`param` config field, groups flattened."""
    hints = _field_types(cls)
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        if dataclasses.is_dataclass(kind):
            yield from leaves(kind, f"{prefix}{f.name}.")
        elif (spec := spec_of(f)) is not None and spec.config:
            yield prefix + f.name, f, kind


def config_keys(cls: type) -> tuple[str, ...]:
    """The names of ``cls``'s config fields (not groups, not ``config=False``), in field order."""
    return tuple(f.name for f in dataclasses.fields(cls)
                 if (spec := spec_of(f)) is not None and spec.config)


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def cell(value: Any) -> str:
    """A default as the config docs print it: YAML-like (``true``, ``[1, 2]``, ``2.86``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(cell(v) for v in value) + "]"
    if isinstance(value, float):
        return _num(value)
    return str(value)


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_row(key: str, default: Any, unit: str, paper: Any, description: str) -> str:
    """One row ``| `key` | default | unit | paper | meaning |`` of a config table."""
    paper_cell = "" if paper is None else cell(paper)
    default_cell = "" if default is dataclasses.MISSING else f"`{cell(default)}`"
    return (f"| `{key}` | {default_cell} | {_md(unit)} | {paper_cell} | "
            f"{_md(' '.join(description.split()))} |")


def markdown_rows(cls: type, prefix: str = "") -> list[str]:
    """The config-table rows of ``cls``'s :func:`param` fields, groups flattened (``exc.c_pf``)."""
    return [markdown_row(prefix + key, _field_default(f), spec_of(f).unit, spec_of(f).paper,
                         spec_of(f).description)
            for key, f, _ in leaves(cls)]


def schema_rows(properties: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Config-table rows of schema keys, groups flattened (``activation.f_max``): the default and
    description from the schema, ``x-unit`` as the unit and ``x-paper`` as the paper's value."""
    rows = []
    for key, spec in properties.items():
        if spec.get("type") == "object" and "properties" in spec:  # a group: its keys
            rows += schema_rows(spec["properties"], f"{prefix}{key}.")
            continue
        rows.append(markdown_row(prefix + key, spec.get("default", dataclasses.MISSING),
                                 spec.get("x-unit", ""), spec.get("x-paper"),
                                 spec.get("description", "")))
    return rows
