"""The generated parts of the config schemas and of ``config/README.md``, from the parameter classes.

Each parameter is declared once, as a :func:`homeoplastic.parameters.param` field of a frozen
dataclass. This module knows which dataclass documents which config section and rewrites, between
``BEGIN GENERATED`` / ``END GENERATED`` markers:

* the ``properties`` of those sections in ``workflow/schemas/*.schema.yaml`` (types, bounds,
  defaults, descriptions, ``x-unit`` and ``x-paper`` annotations);
* the tables of ``config/README.md``: rows of a dataclass section from the dataclass, rows of the
  structural keys that are no dataclass field (sweep axes, ``enabled``, ...) from the schema, where
  they are written by hand.

``python -m homeoplastic.paramdocs --write`` rewrites the files; ``--check`` (and
``tests/test_parameters.py``) fails when a committed file differs from what it would write.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from homeoplastic.parameters import markdown_row, markdown_rows, schema_of, schema_rows

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "workflow" / "schemas"
README = ROOT / "config" / "README.md"
COMMAND = "python -m homeoplastic.paramdocs --write"


@dataclass(frozen=True)
class Block:
    """A config section whose keys are the fields of ``cls``.

    ``defaults`` false leaves the schema's ``default`` keywords out: an override section
    (``assemblies.network``) must stay as the user wrote it in the validated config, because the
    workflow's rule params are built from it.
    """

    schema: str
    section: str
    cls: Callable[[], type]
    defaults: bool = True
    part: str = ""
    """Tells apart two blocks of one section (``balancing.rnn.setup``, ``balancing.rnn.training``)."""

    @property
    def where(self) -> str:
        """The section's dotted key path (``assemblies.network``; ``reduced`` for a whole file)."""
        return ".".join(p for p in (self.schema.split(".")[0], self.section) if p)

    @property
    def name(self) -> str:
        """The block's marker name."""
        return self.where + (f".{self.part}" if self.part else "")


def _assemblies(name: str) -> Callable[[], type]:
    def load() -> type:
        from homeoplastic.assemblies.experiments.dt_check import DtCheckSettings
        from homeoplastic.assemblies.experiments.probe import ProbeSettings
        from homeoplastic.assemblies.experiments.rate_dependence import RateMapSettings
        from homeoplastic.assemblies.params import NetworkParams
        from homeoplastic.assemblies.settings import Protocol, RecordSettings

        return {"network": NetworkParams, "protocol": Protocol, "record": RecordSettings,
                "probe": ProbeSettings, "rate_dependence": RateMapSettings,
                "dt_check": DtCheckSettings}[name]
    return load


def _balancing(name: str) -> Callable[[], type]:
    def load() -> type:
        from homeoplastic.balancing.experiments import RNNSetup, SweepPoint
        from homeoplastic.balancing.rnn import TrainConfig

        return {"sweep": SweepPoint, "setup": RNNSetup, "training": TrainConfig}[name]
    return load


def _reduced() -> type:
    from homeoplastic.reduced.params import ReducedSettings

    return ReducedSettings


BLOCKS = [
    Block("assemblies.schema.yaml", "network", _assemblies("network"), defaults=False),
    Block("assemblies.schema.yaml", "protocol", _assemblies("protocol")),
    Block("assemblies.schema.yaml", "record", _assemblies("record")),
    Block("assemblies.schema.yaml", "probe", _assemblies("probe")),
    Block("assemblies.schema.yaml", "rate_dependence", _assemblies("rate_dependence")),
    Block("assemblies.schema.yaml", "dt_check", _assemblies("dt_check")),
    Block("balancing.schema.yaml", "sweep", _balancing("sweep")),
    Block("balancing.schema.yaml", "rnn", _balancing("setup"), part="setup"),
    Block("balancing.schema.yaml", "rnn", _balancing("training"), part="training"),
    Block("reduced.schema.yaml", "", _reduced),
]
"""Every generated schema section."""


@dataclass(frozen=True)
class Table:
    """A generated table of ``config/README.md``: rows of schema sections (``schema``, dotted path
    of a mapping of properties, row-key prefix, the keys shown or None for all), each key in
    schema order, or of a dataclass."""

    name: str
    parts: tuple[tuple[str, str, str, tuple[str, ...] | None], ...] = ()
    cls: Callable[[], type] | None = None


def _sections(schema: str, names: tuple[str, ...]) -> tuple[tuple[str, str, str, None], ...]:
    return tuple((schema, name, f"{name}.", None) for name in names)


TABLES = [
    Table("balancing", (("balancing.schema.yaml", "", "", ("enabled", "extra_sweeps")),
                        *_sections("balancing.schema.yaml", (
                            "sweep", "two_neuron", "perturbation", "rnn", "xor", "figures",
                            "summary", "bundle", "resources")))),
    Table("reduced", (("reduced.schema.yaml", "", "", None),)),
    Table("assemblies", (("assemblies.schema.yaml", "", "", (
        "enabled", "extra_sweeps", "short_chain_rules", "control_chain_rules",
        "maintenance_chain_rules",
        "rule_protocol", "rule_network")),)),
    Table("assemblies.sweep", (("assemblies.schema.yaml", "sweep", "", None),)),
    Table("assemblies.protocol", (("assemblies.schema.yaml", "protocol", "", None),)),
    Table("assemblies.rate_dependence", (("assemblies.schema.yaml", "rate_dependence", "", None),)),
    Table("assemblies.dt_check", (("assemblies.schema.yaml", "dt_check", "", None),)),
    Table("assemblies.probe", (("assemblies.schema.yaml", "probe", "", None),)),
    Table("assemblies.record", _sections("assemblies.schema.yaml",
                                         ("record", "analysis", "resources"))),
    Table("assemblies.network", cls=_assemblies("network")),
]
"""Every generated table of config/README.md, by marker name."""


# ---------------------------------------------------------------------------------- rendering
def _yaml(properties: Mapping[str, Any], indent: int) -> list[str]:
    text = yaml.safe_dump(dict(properties), default_flow_style=None, sort_keys=False, width=100,
                          allow_unicode=True)
    return [(" " * indent + line) if line else line for line in text.splitlines()]


def _replace_between(lines: list[str], begin: str, end: str, body: Callable[[int], list[str]],
                     where: str) -> list[str]:
    """``lines`` with the lines between the marker lines containing ``begin``/``end`` replaced
    by ``body(indent of the begin marker)``."""
    starts = [i for i, line in enumerate(lines) if begin in line]
    if len(starts) != 1:
        raise ValueError(f"{where}: expected one marker line with {begin!r}, found {len(starts)}")
    start = starts[0]
    stop = next((i for i in range(start + 1, len(lines)) if end in lines[i]), None)
    if stop is None:
        raise ValueError(f"{where}: no {end!r} after {begin!r}")
    indent = len(lines[start]) - len(lines[start].lstrip())
    return [*lines[:start + 1], *body(indent), *lines[stop:]]


def render_schema(name: str, text: str) -> str:
    """The schema file ``name`` (text ``text``) with every generated block rewritten."""
    lines = text.splitlines()
    for block in (b for b in BLOCKS if b.schema == name):
        cls = block.cls()
        props = schema_of(cls, defaults=block.defaults)
        lines = _replace_between(lines, f"BEGIN GENERATED {block.name} ",
                                 f"END GENERATED {block.name}",
                                 lambda indent, props=props: _yaml(props, indent), name)
    return "\n".join(lines) + "\n"


def _schema_section(schema: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    node: Mapping[str, Any] = schema
    for part in [p for p in path.split(".") if p]:
        node = node["properties"][part]
    return node["properties"]


def table_rows(table: Table, schemas: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The rows of a README table (a header and one row per key)."""
    if table.cls is not None:
        rows = markdown_rows(table.cls())
    else:
        rows = []
        for schema, path, prefix, keys in table.parts:
            props = _schema_section(schemas[schema], path)
            if keys is not None:
                props = {key: props[key] for key in keys}
            rows += schema_rows(props, prefix)
    return rows


def render_table(rows: list[str]) -> list[str]:
    """A Markdown table of ``rows`` (``| key | default | unit | paper | meaning |``), without the
    paper column when no row has a paper value."""
    cells = [re.split(r"(?<!\\)\|", row.strip())[1:-1] for row in rows]
    keep_paper = any(c[3].strip() for c in cells)
    header = ["key", "default", "unit", *(["paper"] if keep_paper else []), "meaning"]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for c in cells:
        kept = [*c[:3], *([c[3]] if keep_paper else []), c[4]]
        out.append("|" + "|".join(kept) + "|")
    return out


def render_readme(text: str, schemas: Mapping[str, Mapping[str, Any]]) -> str:
    """``config/README.md`` with every generated table rewritten (from ``schemas``, as written)."""
    lines = text.splitlines()
    for table in TABLES:
        rows = render_table(table_rows(table, schemas))
        lines = _replace_between(
            lines, f"<!-- BEGIN GENERATED {table.name} ", f"<!-- END GENERATED {table.name} ",
            lambda indent, rows=rows: rows, "config/README.md")
    return "\n".join(lines) + "\n"


def generated(root: Path = ROOT) -> dict[Path, str]:
    """Every generated file's path and the text the generator would write."""
    schemas_dir = root / "workflow" / "schemas"
    out: dict[Path, str] = {}
    parsed: dict[str, Mapping[str, Any]] = {}
    for name in sorted({b.schema for b in BLOCKS} | {part[0] for t in TABLES for part in t.parts}):
        path = schemas_dir / name
        out[path] = render_schema(name, path.read_text())
        parsed[name] = yaml.safe_load(out[path])
    readme = root / "config" / "README.md"
    out[readme] = render_readme(readme.read_text(), parsed)
    return out


def stale(root: Path = ROOT) -> list[Path]:
    """The generated files whose committed text differs from what the generator would write."""
    return [path for path, text in generated(root).items() if path.read_text() != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m homeoplastic.paramdocs",
        description="Rewrite (--write) or check (--check) the generated parts of the config "
                    "schemas and config/README.md from the parameter dataclasses.")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite the generated parts")
    mode.add_argument("--check", action="store_true",
                      help="exit 1 and name the files whose generated parts are out of date")
    args = parser.parse_args(argv)
    if args.write:
        for path, text in generated().items():
            if path.read_text() != text:
                path.write_text(text)
                print(f"rewrote {path.relative_to(ROOT)}")
        return 0
    out_of_date = stale()
    for path in out_of_date:
        print(f"{path.relative_to(ROOT)} is out of date; run `{COMMAND}`", file=sys.stderr)
    return 1 if out_of_date else 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["BLOCKS", "TABLES", "generated", "main", "markdown_row", "render_readme",
           "render_schema", "stale"]
