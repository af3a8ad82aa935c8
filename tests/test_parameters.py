"""One source for every parameter: the dataclass fields' metadata is enforced, and the schema's and
config/README.md's generated parts are exactly what that metadata generates.

Each test here fails on a plausible bug: a schema or README edited by hand (or a field changed and
the files not regenerated), a bound declared but not enforced by the library or the schema, an
unknown key accepted, a default of the schema drifting from the dataclass.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
import yaml

from homeoplastic import paramdocs
from homeoplastic.config import ConfigError, load_schema, validate
from homeoplastic.parameters import (
    ParameterError,
    check_fields,
    from_mapping,
    leaves,
    param,
    schema_of,
    spec_of,
)

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_schemas_and_readme_are_what_the_generator_writes():
    assert paramdocs.stale() == [], "run `python -m homeoplastic.paramdocs --write`"


@pytest.fixture
def copy_of_repo(tmp_path) -> Path:
    (tmp_path / "workflow").mkdir()
    shutil.copytree(ROOT / "workflow" / "schemas", tmp_path / "workflow" / "schemas")
    (tmp_path / "config").mkdir()
    shutil.copy(ROOT / "config" / "README.md", tmp_path / "config" / "README.md")
    return tmp_path


@pytest.mark.parametrize(("path", "old", "new"), [
    # a bound loosened by hand in a generated schema part
    ("workflow/schemas/assemblies.schema.yaml",
     "tau_m_ms: {type: number, exclusiveMinimum: 0,", "tau_m_ms: {type: number, minimum: 0,"),
    # a default changed by hand in the schema
    ("workflow/schemas/assemblies.schema.yaml", "default: 1000.0", "default: 100.0"),
    # a README default changed by hand
    ("config/README.md", "| `n_trials` | `50` |", "| `n_trials` | `40` |"),
    # a README row of a hand-written schema key edited by hand
    ("config/README.md", "| `enabled` | `true` |  | Run the assembly chain",
     "| `enabled` | `false` |  | Run the assembly chain"),
])
def test_a_hand_edit_of_a_generated_part_is_caught(copy_of_repo, path, old, new):
    target = copy_of_repo / path
    text = target.read_text()
    assert old in text, old
    target.write_text(text.replace(old, new, 1))
    assert paramdocs.stale(copy_of_repo) == [target]
    paramdocs.generated(copy_of_repo)  # and the generator would put it back
    assert paramdocs.generated(copy_of_repo)[target] == (ROOT / path).read_text()


def test_a_hand_edit_of_a_schema_key_reaches_its_readme_row(copy_of_repo):
    """Structural keys are written once, in the schema; their README row follows it."""
    schema = copy_of_repo / "workflow/schemas/assemblies.schema.yaml"
    schema.write_text(schema.read_text().replace(
        "Run the assembly chain and its figures as part of `rule all`.",
        "Run the assembly chain (edited)."))
    readme = paramdocs.generated(copy_of_repo)[copy_of_repo / "config/README.md"]
    assert "| `enabled` | `true` |  | Run the assembly chain (edited). |" in readme


def _classes():
    return [(block, block.cls()) for block in paramdocs.BLOCKS]


def _outside(spec):
    """A value just outside the field's bounds, or None when it has none below/above."""
    if spec.exclusive_minimum is not None:
        return spec.exclusive_minimum
    if spec.minimum is not None:
        return spec.minimum - 1
    if spec.exclusive_maximum is not None:
        return spec.exclusive_maximum
    if spec.maximum is not None:
        return spec.maximum + 1
    return None


REQUIRED = {"balancing.sweep": {"n": 10, "rank": "2", "p": 2.0, "seed": 0}}
"""Fields without a default (the sweep point from the wildcards), by block."""


def _in_file(block, section: dict) -> dict:
    """A config file's content with ``section`` at the block's place."""
    return {block.section: section} if block.section else section


def _nested(key: str, value):
    for part in reversed(key.split(".")):
        value = {part: value}
    return value


def _bad_value(spec, kind, default):
    """A value of the field's type with its first number just outside the bounds."""
    if str(kind).startswith("tuple"):
        inner = _bad_value(spec, kind.__args__[0], default[0])
        return [inner, *_lists(default[1:])]
    return "no-such-value" if spec.enum is not None else kind(_outside(spec))


BOUNDED = [(block, key, f, kind) for block, cls in _classes() for key, f, kind in leaves(cls)
           if spec_of(f).bounded or spec_of(f).enum]


@pytest.mark.parametrize(("block", "key", "field", "kind"), BOUNDED,
                         ids=[f"{b.name}.{k}" for b, k, _, _ in BOUNDED])
def test_every_declared_bound_is_enforced_by_the_library_and_by_the_schema(block, key, field, kind):
    spec = spec_of(field)
    bad = _bad_value(spec, kind, field.default)
    where = block.where
    with pytest.raises(ParameterError, match=rf"^{where}\.{key} = .* is invalid; allowed: ") as caught:
        from_mapping(block.cls(), {**REQUIRED.get(where, {}), **_nested(key, bad)}, where)
    assert caught.value.key == f"{where}.{key}"
    schema = load_schema(ROOT / "workflow/schemas" / block.schema)
    with pytest.raises(ConfigError, match=rf"{where}\.{key}"):
        validate(_in_file(block, _nested(key, bad)), schema, where=block.where.split(".")[0])


@pytest.mark.parametrize(("block", "cls"), _classes(), ids=[b.name for b in paramdocs.BLOCKS])
def test_an_unknown_key_is_refused_by_name_and_the_allowed_keys_listed(block, cls):
    where = block.where
    first = next(iter(leaves(cls)))[0]
    with pytest.raises(ParameterError) as caught:
        from_mapping(cls, {"no_such_key": 1}, where)
    message = str(caught.value)
    assert message.startswith(f"{where}.no_such_key: unknown parameter; allowed in {where}: ")
    assert first.split(".")[0] in message and caught.value.key == f"{where}.no_such_key"


@pytest.mark.parametrize(("block", "cls"), _classes(), ids=[b.name for b in paramdocs.BLOCKS])
def test_an_empty_section_validates_to_the_dataclass_defaults(block, cls):
    schema = load_schema(ROOT / "workflow/schemas" / block.schema)
    filled = validate({}, schema, where=block.where.split(".")[0])
    section = filled[block.section] if block.section else filled
    if not block.defaults:
        assert section == {}  # overrides stay as the user wrote them
        return
    for key, f, _ in leaves(cls):
        value, got = f.default, section
        for part in key.split("."):
            got = got[part]
        assert got == _lists(value) and type(got) is type(_lists(value)), key


def _lists(value):
    return [_lists(v) for v in value] if isinstance(value, tuple) else value


@dataclasses.dataclass(frozen=True)
class _Toy:
    rate_hz: float = param(1.0, unit="Hz", exclusive_minimum=0, description="A rate.")
    count: int = param(2, unit="1", minimum=1, maximum=5, description="A count.")
    mode: str = param("a", enum=("a", "b"), description="A mode.")
    seeds: tuple[int, ...] = param((1, 2), unit="1", minimum=0, min_items=2, unique_items=True,
                                   description="Seeds.")
    flag: bool = param(True, description="A flag.")
    points: tuple[tuple[float, ...], ...] = param(((0.1, 0.2),), unit="1", minimum=0, maximum=1,
                                                  item_length=2, description="Points.")
    internal: float = param(0.5, unit="s", config=False, description="Not a config key.")

    def __post_init__(self) -> None:
        check_fields(self, "toy")


@pytest.mark.parametrize(("changes", "allowed"), [
    ({"rate_hz": 0.0}, "> 0"), ({"rate_hz": float("inf")}, "> 0"), ({"rate_hz": "1"}, "a number"),
    ({"count": 0}, ">= 1 and <= 5"), ({"count": 6}, ">= 1 and <= 5"), ({"count": 2.0}, "an integer"),
    ({"mode": "c"}, "one of ['a', 'b']"), ({"seeds": [1]}, "at least 2 items"),
    ({"seeds": [1, 1]}, "no item repeated"), ({"seeds": [1, -1]}, "each item >= 0"),
    ({"flag": "yes"}, "true or false"), ({"points": [[0.1]]}, "each item a list of 2"),
    ({"points": [[0.1, 2.0]]}, "<= 1"), ({"points": [0.1, 0.2]}, "a list, each item a list"),
])
def test_the_generic_checker_refuses_each_kind_of_bad_value(changes, allowed):
    (key, value), = changes.items()
    with pytest.raises(ParameterError, match=rf"^cfg\.{key} = ") as caught:
        from_mapping(_Toy, changes, "cfg")
    assert allowed in str(caught.value)
    with pytest.raises(ParameterError, match=rf"^toy\.{key} = "):  # built directly: its own root
        _Toy(**{key: _tuples(value)})


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def test_the_schema_of_a_class_states_its_metadata():
    props = schema_of(_Toy)
    assert "internal" not in props
    assert props["rate_hz"] == {"type": "number", "exclusiveMinimum": 0, "default": 1.0,
                                "x-unit": "Hz", "description": "A rate."}
    assert props["count"]["minimum"] == 1 and props["count"]["maximum"] == 5
    assert props["mode"] == {"enum": ["a", "b"], "default": "a", "description": "A mode."}
    assert props["seeds"] == {"type": "array", "minItems": 2, "uniqueItems": True,
                              "items": {"type": "integer", "minimum": 0}, "default": [1, 2],
                              "x-unit": "1", "description": "Seeds."}
    assert "default" not in schema_of(_Toy, defaults=False)["rate_hz"]


def test_every_network_parameter_has_a_unit_and_a_description():
    from homeoplastic.assemblies.params import NetworkParams

    for key, f, kind in leaves(NetworkParams):
        spec = spec_of(f)
        assert spec.description, key
        assert (spec.unit == "") == (kind in (bool, str)), key


def test_the_readme_says_how_to_regenerate():
    text = (ROOT / "config" / "README.md").read_text()
    assert paramdocs.COMMAND in text
    assert yaml.safe_load((ROOT / "workflow/schemas/assemblies.schema.yaml").read_text())


def test_a_reduced_run_refuses_an_unknown_setting_and_keeps_the_given_values():
    from homeoplastic.reduced.experiments import reduced_settings

    with pytest.raises(ParameterError, match=r"^reduced\.w_maxx: unknown parameter"):
        reduced_settings({"w_maxx": 1.0})
    cfg = validate({}, load_schema(ROOT / "workflow/schemas/reduced.schema.yaml"), where="reduced")
    settings = reduced_settings(cfg)  # the sweep keys (models, eta, ...) are not run settings
    assert settings.train_starts_2pop[0] == (0.95, 0.9) and settings.rates_duration == 3000
    assert settings.activation.f_max == cfg["activation"]["f_max"]
