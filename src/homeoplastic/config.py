"""Config validation against JSON schemas (draft 2020-12), with defaults filled in.

The workflow validates each top-level section of ``config/config.yaml`` against its own schema in
``workflow/schemas/`` before any job starts; the CLI and the library use the same function. Errors
name the offending key (as a dotted path) and, where the schema says, the allowed values or range.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, validators


class ConfigError(ValueError):
    """A config value is missing, unknown, of the wrong type or out of range."""


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
    """
    filled = copy.deepcopy(dict(instance or {}))
    validator = _DefaultFillingValidator(schema)
    errors = sorted(validator.iter_errors(filled), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{_dotted(where, err.absolute_path)}: {_explain(err)}" for err in errors]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    return filled


def validate_file(config_path: str | Path, schema_path: str | Path) -> dict[str, Any]:
    """Load a YAML config file and validate it against a schema file."""
    with open(config_path) as handle:
        instance = yaml.safe_load(handle) or {}
    return validate(instance, load_schema(schema_path), where=Path(config_path).name)


def _dotted(where: str, path) -> str:
    parts = [where]
    for item in path:
        parts.append(f"[{item}]" if isinstance(item, int) else str(item))
    return ".".join(parts).replace(".[", "[")


def _explain(error) -> str:
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        return f"{error.message}; allowed keys: {', '.join(allowed)}"
    if error.validator == "enum":
        return f"{error.instance!r} is not one of the allowed values {error.validator_value}"
    if error.validator in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        bounds = {
            k: schema[k]
            for k in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum")
            if k in schema
        }
        return f"{error.instance!r} is out of range {bounds}"
    return error.message
