"""Every tutorial (docs/tutorials/*.py, jupytext percent scripts) runs on the micro sweep, so a
tutorial that no longer matches the code fails here rather than on a reader."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

TUTORIALS = sorted((ROOT / "docs" / "tutorials").glob("*.py"))


def test_every_tutorial_is_listed_on_the_tutorials_page():
    index = (ROOT / "docs" / "tutorials" / "index.md").read_text()
    assert TUTORIALS, "no tutorial found"
    assert [p.stem for p in TUTORIALS if p.stem not in index] == []


@pytest.mark.parametrize("script", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs_on_the_micro_sweep(script: Path, micro_run: Path):
    env = {**os.environ, "HOMEOPLASTIC_RESULTS": str(micro_run / "results"),
           "HOMEOPLASTIC_CONFIG": str(ROOT / ".test" / "config.yaml"), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
