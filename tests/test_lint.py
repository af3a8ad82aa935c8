"""The code base stays lint-clean (ruff, configured in pyproject.toml).

ruff is part of the ``test`` extra, so a test environment without it is broken: the test fails
(it does not skip) and says how to fix the environment.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_in_the_test_extra():
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["test"]
    assert any(re.match(r"ruff\b", requirement) for requirement in extra), extra


def test_ruff_is_clean():
    if importlib.util.find_spec("ruff") is None:
        pytest.fail("ruff is missing from the test environment; install the test extra: "
                    "pip install -e '.[test]'")
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise",
                             "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
