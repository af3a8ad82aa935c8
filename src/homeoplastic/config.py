"""Config validation against JSON schemas (draft 2020-12), with defaults filled in.

The workflow validates each top-level section of ``config/config.yaml`` against its own schema in
``workflow/schemas/`` before any job starts; the CLI and the library use the same function. Each
error names the offending key by its full dotted path (an unknown key by its own path) and says
what is allowed: the type, the allowed values, the range, or every alternative of a ``oneOf``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from jsonschema import Draft202012Validator, validators


class ConfigError(ValueError):
    """A config value is missing, unknown, of the wrong type or out of range."""


def table_value(value: Any) -> str:
    """A measured value as the results tables (``summary.csv``, ``balancing_summary.csv``) print
    it: text as it is, integers in full, other numbers to 4 significant digits, NaN as ``nan``."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _extend_with_defaults(validator_class):
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


_DefaultFillingValidator = _extend_with_defaults(Draft202012Validator)


def load_schema(path: str | Path) -> dict[str, Any]:
    """Read a YAML or JSON schema file."""
    with open(path) as handle:
        return yaml.safe_load(handle)


def validate(
    instance: Mapping[str, Any] | None, schema: Mapping[str, Any], *, where: str = "config"
) -> dict[str, Any]:
    """Return a validated deep copy of ``instance`` with schema defaults filled in.

    Raises :class:`ConfigError` listing every problem, each as ``where.key.subkey: message``.
    Every number anywhere in the instance must be finite: a JSON-schema bound is false for NaN, so
    never fails, and no setting means anything by NaN or an infinity (YAML ``.nan``, ``.inf``).
    This is the one place that refuses them, for every section and every key, before any job.
    """
    filled = copy.deepcopy(dict(instance or {}))
    validator = _DefaultFillingValidator(schema)
    errors = sorted(validator.iter_errors(filled), key=lambda e: list(e.absolute_path))
    lines = [_line(where, err) for err in errors]
    lines += [f"{_dotted(where, path)}: {value!r} is not allowed; allowed: a finite number"
              for path, value in nonfinite_numbers(filled)]
    if lines:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(dict.fromkeys(lines)))
    return filled


def validate_sweep(section: Mapping[str, Any], schema: Mapping[str, Any], where: str,
                   axes: Any) -> None:
    """Check every value of every dotted-key axis of a section's sweep blocks against the section's
    schema, as if it were set in the config: a bad value fails before any job, naming the axis.

    ``axes`` is the model's :class:`homeoplastic.sweep.Axes` (its named axes are checked by the
    schema of the sweep block itself)."""
    from homeoplastic.sweep import set_dotted, sweep_blocks

    checked: set[tuple[str, str]] = set()
    named = set(axes.aliases.values())
    for path, block in sweep_blocks(section, axes, where):
        for key, values in block.items():
            if key in named:
                continue
            for value in values:
                token = (key, repr(value))
                if token in checked:
                    continue
                checked.add(token)
                try:
                    validate(set_dotted(section, key, value), schema, where=where)
                except ConfigError as err:
                    lines = [line.strip() for line in str(err).splitlines()[1:]
                             if key in line.replace("[", ".").replace("]", "")]
                    detail = "; ".join(lines) or str(err)
                    raise ConfigError(f"{path}.{key} = {value!r} is invalid: {detail}") from None


def nonfinite_numbers(value: Any, path: tuple = ()) -> list[tuple[tuple, float]]:
    """(key path, value) of every NaN or infinite number in a nested mapping/list, in order."""
    if isinstance(value, Mapping):
        return [hit for key, item in value.items() for hit in nonfinite_numbers(item, (*path, key))]
    if isinstance(value, (list, tuple)):
        return [hit for i, item in enumerate(value) for hit in nonfinite_numbers(item, (*path, i))]
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return [(path, float(value))]
    return []


def _dotted(where: str, path) -> str:
    parts = [where]
    for item in path:
        parts.append(f"[{item}]" if isinstance(item, int) else str(item))
    return ".".join(parts).replace(".[", "[")


def _line(where: str, error) -> str:
    """One problem as ``where.key.subkey: what is wrong; allowed: ...``."""
    path = list(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = schema.get("properties", {})
        extra = [key for key in error.instance if key not in known]
        keys = ", ".join(_dotted(where, [*path, key]) for key in extra)
        return (f"{keys}: unknown key; allowed keys in {_dotted(where, path)}: "
                f"{', '.join(sorted(known))}")
    return f"{_dotted(where, path)}: {_explain(error)}"


def _explain(error) -> str:
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "enum":
        return f"{error.instance!r} is not one of the allowed values {error.validator_value}"
    if error.validator in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        return f"{error.instance!r} is out of range; allowed: {_describe(schema)}"
    if error.validator in ("oneOf", "anyOf"):
        alternatives = " or ".join(_describe(alt) for alt in error.validator_value)
        return f"{error.instance!r} is invalid; allowed: {alternatives}"
    if error.validator in ("type", "not", "const"):
        return f"{error.instance!r} is invalid; allowed: {_describe(schema)}"
    return f"{error.message}; allowed: {_describe(schema)}"


_TYPE_WORDS = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}


def _describe(schema: Mapping[str, Any]) -> str:
    """What a (sub)schema allows, in words: 'an integer >= 1 and <= 100000', "one of ['full']"."""
    if not isinstance(schema, Mapping):
        return repr(schema)
    if "$ref" in schema:
        return f"a value as defined in {schema['$ref']}"
    if "enum" in schema:
        words = f"one of {schema['enum']}"
    elif "const" in schema:
        words = f"exactly {schema['const']!r}"
    elif "oneOf" in schema or "anyOf" in schema:
        words = " or ".join(_describe(alt) for alt in schema.get("oneOf", schema.get("anyOf")))
    else:
        kinds = schema.get("type", [])
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        words = " or ".join(_TYPE_WORDS.get(kind, kind) for kind in kinds) or "any value"
        if "array" in kinds and isinstance(schema.get("items"), Mapping):
            words += f", each item {_describe(schema['items'])}"
        if "object" in kinds and schema.get("properties"):
            words += f" with keys {', '.join(sorted(schema['properties']))}"
    bounds = [
        f"{op} {schema[key]}"
        for key, op in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="),
                        ("exclusiveMaximum", "<"))
        if key in schema
    ]
    if bounds:
        words += " " + " and ".join(bounds)
    if isinstance(schema.get("not"), Mapping) and "const" in schema["not"]:
        words += f", not {schema['not']['const']!r}"
    if "minItems" in schema:
        words += f" (at least {schema['minItems']} item{'s' if schema['minItems'] != 1 else ''})"
    if schema.get("uniqueItems"):
        words += ", no item repeated"
    return words
