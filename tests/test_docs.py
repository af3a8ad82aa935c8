"""Docs match code: config/README.md's tables, parsed, list every key of the schemas and of the
model's parameters, nothing else, and where a table states a default it is the code's default."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from homeoplastic.assemblies.params import NetworkParams

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "config" / "README.md").read_text()


def _schema(name: str) -> dict:
    return yaml.safe_load((ROOT / "workflow" / "schemas" / f"{name}.schema.yaml").read_text())


def parse_tables(text: str) -> dict[str, list[dict[str, str]]]:
    """Rows (column name -> cell) of every Markdown table, under the heading above it (the heading
    text up to its first parenthesis or comma-free words, e.g. ``assemblies.probe``)."""
    out: dict[str, list[dict[str, str]]] = {}
    heading, header = "", None
    for line in text.splitlines():
        if line.startswith("#"):
            heading, header = line.lstrip("#").strip().split(" (")[0], None
            continue
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if header is None:
            header = [c.lower().split(" (")[0] for c in cells]
        elif not all(set(c) <= set("-: ") for c in cells):
            out.setdefault(heading, []).append(dict(zip(header, cells, strict=True)))
    return out


def documented(section: str) -> dict[str, str]:
    """Key -> default cell of a section's table; a row naming several keys (```a`, `b```) with as
    many comma-separated defaults gives each key its own."""
    rows = TABLES[section]
    keys: dict[str, str] = {}
    for row in rows:
        names = re.findall(r"`([^`]+)`", row["key"])
        assert names, f"{section}: a row without a `key`: {row}"
        default = row.get("default", "").strip("`")
        parts = [d.strip() for d in default.split(",")] if len(names) > 1 else [default]
        for name, value in zip(names, parts if len(parts) == len(names) else [default] * len(names),
                               strict=True):
            assert name not in keys, f"{section}: `{name}` is documented twice"
            keys[name] = value
    return keys


TABLES = parse_tables(README)


def _leaves(obj, prefix=""):
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            yield from _leaves(value, prefix + f.name + ".")
        else:
            yield prefix + f.name, value


def _same(cell: str, value) -> bool:
    """A table cell states ``value`` (numbers compare as numbers; True/true; lists)."""
    try:
        parsed = float(cell) if re.fullmatch(r"[-+]?[0-9.]+e[-+]?[0-9]+", cell) else yaml.safe_load(cell)
    except yaml.YAMLError:
        return False
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(parsed, (int, float)) and not isinstance(parsed, bool) \
            and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(parsed) == pytest.approx(float(value), rel=1e-9, abs=0)
    return parsed == value


def test_the_parser_reads_the_tables_it_checks():
    assert {"Top level", "balancing", "reduced", "assemblies.sweep", "assemblies.protocol",
            "assemblies.network", "assemblies.probe"} <= set(TABLES)
    assert documented("assemblies.protocol")["stimulus_off_s"] == "3"  # from "1, 3"
    rows = parse_tables("# x\n\n| key | default |\n|---|---|\n| `a`, `b` | 1, 2 |\n")
    assert rows == {"x": [{"key": "`a`, `b`", "default": "1, 2"}]}


def test_every_network_parameter_is_in_the_network_table_with_its_default():
    table = documented("assemblies.network")
    params = dict(_leaves(NetworkParams()))
    assert sorted(set(params) - set(table)) == [], "parameters missing from the table"
    assert sorted(set(table) - set(params)) == [], "table rows naming no parameter"
    wrong = {k: (table[k], v) for k, v in params.items() if not _same(table[k], v)}
    assert wrong == {}, "table default differs from the dataclass default"


ASSEMBLY_SECTIONS = {"sweep": "assemblies.sweep", "protocol": "assemblies.protocol",
                     "probe": "assemblies.probe", "rate_dependence": "assemblies.rate_dependence",
                     "dt_check": "assemblies.dt_check"}
COMBINED = "assemblies.record, assemblies.analysis, assemblies.resources"


@pytest.mark.parametrize("block", [*ASSEMBLY_SECTIONS, "record", "analysis", "resources"])
def test_every_assembly_schema_key_has_exactly_one_row(block):
    schema = _schema("assemblies")["properties"][block]["properties"]
    if block in ASSEMBLY_SECTIONS:
        table = set(documented(ASSEMBLY_SECTIONS[block]))
    else:
        table = {k.split(".", 1)[1] for k in documented(COMBINED) if k.startswith(block + ".")}
    assert sorted(set(schema) - table) == [], f"{block}: schema keys missing from the table"
    assert sorted(table - set(schema)) == [], f"{block}: table rows naming no schema key"


def _flat_schema(props: dict, prefix: str = "") -> dict[str, dict]:
    out = {}
    for key, spec in props.items():
        if spec.get("type") == "object" and "properties" in spec:
            out.update(_flat_schema(spec["properties"], f"{prefix}{key}."))
        else:
            out[prefix + key] = spec
    return out


@pytest.mark.parametrize("section", ["reduced", "balancing"])
def test_every_schema_key_of_the_other_models_has_a_row_and_no_row_is_stale(section):
    schema = _flat_schema(_schema(section)["properties"])
    table = documented(section)
    assert sorted(set(schema) - set(table)) == [], f"{section}: schema keys missing"
    assert sorted(set(table) - set(schema)) == [], f"{section}: rows naming no schema key"


def test_reduced_and_top_level_defaults_are_the_schemas():
    for section, schema in (("reduced", _flat_schema(_schema("reduced")["properties"])),
                            ("Top level", _schema("config")["properties"])):
        table = documented(section)
        wrong = {k: (table[k], spec["default"]) for k, spec in schema.items()
                 if k in table and "default" in spec and not _same(table[k], spec["default"])}
        assert wrong == {}, f"{section}: table default differs from the schema's"


def test_every_numeric_parameter_has_a_unit_suffix_or_is_dimensionless():
    dimensionless = {"n_neurons", "exc_fraction", "p_connect", "reference_n_neurons", "n_assemblies",
                     "p_member", "learning_speed",
                     # Graupner-Brunel calcium rule: calcium, thresholds and rates are dimensionless
                     "c_pre", "c_post", "theta_d", "theta_p", "gamma_d", "gamma_p", "gamma_scale",
                     "sigma", "rho_star", "up_down_ratio"}
    units = ("_ms", "_mv", "_pf", "_ns", "_pa", "_hz", "_s", "_pf_per_mv", "_pf_per_mv2")
    for key, value in _leaves(NetworkParams()):
        name = key.rsplit(".", 1)[-1]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        assert name in dimensionless or name.endswith(units), key


# --- Citations of the model pages -------------------------------------------------------------
# Comments, docstrings and descriptions cite a model section as "docs/models/<page>.md, <sections>"
# (sections: "1.1", "2.1, 2.2", "9.2-9.5", "6.6 and 9"). Every cited page must exist and every cited
# section must be a numbered heading of that page ("## 1.1 Excitatory neurons ..."). The old form
# (the word spec followed by a section number, a section sign or "section N", or a path into
# shared/spec) pointed into notes a clone does not contain and is refused.

MODEL_PAGES = ROOT / "docs" / "models"
CITED_TREES = ("src", "workflow", "tests", "benchmarks", "config", "README.md", "Snakefile", "docs")
_SECTION = r"\d+(?:\.\d+)*"
CITATION = re.compile(r"docs/models/([\w-]+)\.md`?(?:,\s*(" + _SECTION
                      + r"(?:(?:\s*-\s*|,\s*|\s+and\s+)" + _SECTION + r")*))?")
BARE_SPEC = re.compile(r"\bspec(?:'s|s)?(?:\s|[\"'])+(?:§|sections?\s+\d|\d)|\bspec\s*§|shared/spe[c]/")
# Files the lead is rewriting; their replacements are listed in the hand-over of issue 25. Delete
# an entry once its file cites the model pages.


def model_sections(pages: Path = MODEL_PAGES) -> dict[str, set[str]]:
    """Numbered headings of each model page: ``{"assemblies": {"0", "1", "1.1", ...}, ...}``."""
    heading = re.compile(r"^#+\s+(" + _SECTION + r")\.?\s", re.MULTILINE)
    return {p.stem: set(heading.findall(p.read_text())) for p in sorted(pages.glob("*.md"))}


def _text_files(root: Path, trees=CITED_TREES):
    for name in trees:
        top = root / name
        for path in sorted([top] if top.is_file() else top.rglob("*")):
            if (not path.is_file() or "__pycache__" in path.parts or "_build" in path.parts
                    or any(part.endswith(".egg-info") for part in path.parts)):
                continue  # generated by the install, not the project's text
            try:
                yield path, path.read_text()
            except UnicodeDecodeError:
                continue


def _where(root: Path, path: Path, text: str, offset: int) -> str:
    return f"{path.relative_to(root)}:{text.count(chr(10), 0, offset) + 1}"


def unresolved_citations(root: Path = ROOT, sections: dict[str, set[str]] | None = None,
                         trees=CITED_TREES) -> list[str]:
    """``file:line: citation`` for every model-page citation whose page or section does not exist."""
    sections = model_sections(root / "docs" / "models") if sections is None else sections
    bad = []
    for path, text in _text_files(root, trees):
        for m in CITATION.finditer(text):
            page, cited = m.group(1), m.group(2)
            numbers = re.findall(_SECTION, cited) if cited else []
            if page not in sections or any(n not in sections[page] for n in numbers):
                bad.append(f"{_where(root, path, text, m.start())}: {m.group(0)!r}")
    return bad


def bare_spec_references(root: Path = ROOT, trees=CITED_TREES) -> list[str]:
    """``file:line: text`` for every reference in the old form (into the unshipped spec)."""
    return [f"{_where(root, path, text, m.start())}: {text[m.start():m.end() + 12]!r}"
            for path, text in _text_files(root, trees) for m in BARE_SPEC.finditer(text)]


def test_model_pages_number_their_sections():
    sections = model_sections()
    assert set(sections) == {"assemblies", "reduced", "balancing", "index"}  # index: the contents
    assert ({"0", "1.1", "1.4", "2.5", "3.1", "4", "5", "6.6", "7.2", "9.5", "10", "11"}
            <= sections["assemblies"])
    assert sections["reduced"] == {"8"} and "8" not in sections["assemblies"]
    assert {"0", "1.3", "2.7", "3", "4.2", "5", "6.2", "7.4", "8", "10", "11"} <= sections["balancing"]


def test_every_model_citation_resolves_to_a_numbered_heading():
    bad = unresolved_citations()
    assert not bad, "citations of missing model pages or sections:\n  " + "\n  ".join(bad)


def test_no_reference_in_the_old_spec_form():
    bad = bare_spec_references()
    assert not bad, ("cite docs/models/<page>.md, <section> instead of:\n  "
                     + "\n  ".join(bad))


def test_the_citation_checks_catch_bad_references(tmp_path):
    pages = tmp_path / "docs" / "models"
    pages.mkdir(parents=True)
    (pages / "assemblies.md").write_text("# Title\n\n## 1 Neurons\n\n## 1.1 E cells\n")
    src = tmp_path / "src"
    src.mkdir()
    cite = "docs/models/" + "assemblies.md, "
    (src / "good.py").write_text(f'"""E cell ({cite}1.1) and neurons ({cite}1, 1.1)."""\n')
    assert unresolved_citations(tmp_path, trees=("src",)) == []
    assert bare_spec_references(tmp_path, trees=("src",)) == []
    (src / "bad.py").write_text(
        f"# ({cite}1.2), ({cite}1.1-2.1), " + "(docs/models/" + "missing.md, 1)\n"
        + '"""(sp' + "ec 1.1), (sp" + "ec §2.5), (sp" + "ec section 8), sha" + "red/spec/x.md"
        + ', "sp' + 'ec "\n"9.2"."""\n')
    bad = unresolved_citations(tmp_path, trees=("src",))
    assert [b.split(": ")[0] for b in bad] == ["src/bad.py:1"] * 3, bad
    assert len(bare_spec_references(tmp_path, trees=("src",))) == 5


# --- The README is a front page; what it held lives in the docs pages ----------------------------

FRONT_PAGE = (ROOT / "README.md").read_text()


def test_readme_is_a_front_page_with_the_two_commands():
    assert len(FRONT_PAGE.splitlines()) <= 150
    assert "pip install -e . && snakemake --cores 2" in FRONT_PAGE
    assert 'pip install -e ".[test]" && python -m pytest' in FRONT_PAGE
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", FRONT_PAGE)
    assert len(figures) == 1 and (ROOT / figures[0]).is_file()


def test_readme_links_resolve():
    links = [link for link in re.findall(r"\]\(([^)#]+)\)", FRONT_PAGE) if "://" not in link]
    assert links and [link for link in links if not (ROOT / link).exists()] == []


# Sections the README used to hold, by the docs page that holds them now (a move must not lose them)
MOVED = {
    "getting-started.md": ["## Quick start", "`assemblies/<run>_probe.png`", "What the default run measures",
                           "## Running the tests"],
    "workflow.md": ["**Sweep any parameter.**", "**On a SLURM cluster:**", "**Configuration:**",
                    "**Large sweeps: bundles.**"],
    "data.md": ["## Opening the results", "## Using the library without Snakemake",
                "homeoplastic simulate --n-neurons 1000"],
    "engine.md": ["## The spiking engine", "python benchmarks/engine.py --n-neurons 5000",
                  "python benchmarks/compare_brian2.py", "## Design: layout and layers",
                  "Layers point one way"],
    "comparison/index.md": ["## What the default run shows", "**At the paper's scale**",
                         "<!-- BEGIN GENERATED claims"],
}


@pytest.mark.parametrize("page", sorted(MOVED))
def test_moved_sections_are_in_their_docs_page(page):
    text = (ROOT / "docs" / page).read_text()
    assert [m for m in MOVED[page] if m not in text] == []
