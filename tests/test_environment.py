"""environment.yml installs what pyproject.toml declares, and no rule asks Snakemake for a conda
environment (``--use-conda`` copies the file elsewhere, where its ``pip: -e .`` names no project;
the jobs run in the environment Snakemake runs in)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_names_every_runtime_dependency_and_installs_this_checkout():
    declared = {_name(r) for r in
                tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)}
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert declared - conda == set()
    assert pip == ["-e ."]


def test_no_rule_declares_a_conda_environment():
    rules = [ROOT / "Snakefile", *sorted((ROOT / "workflow" / "rules").glob("*.smk"))]
    found = [f"{path.name}:{number}" for path in rules
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if re.match(r"\s+conda:", line)]
    assert found == []
