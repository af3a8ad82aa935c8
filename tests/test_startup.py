"""Start-up cost (issue 27): jobs that only read stores load no simulation kernel.

Every workflow job is a fresh process, and numba alone costs ~0.5 s to import (scipy.stats ~1 s);
``benchmarks/startup.py`` measures each job kind. These tests import in a fresh interpreter, so an
eager import added back anywhere on the path (a package face, a figure module, a script) turns
them red and names the culprit.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "workflow" / "scripts"

HEAVY = ("numba", "homeoplastic.assemblies.kernels", "homeoplastic.assemblies.engine",
         "homeoplastic.balancing.solvers", "homeoplastic.reduced.gillespie", "scipy.stats")
"""Modules a job that draws or tabulates stored results never needs (kernels and their
dependencies, and scipy.stats, whose import alone costs about a second)."""

LIGHT_SCRIPTS = sorted(p.name for p in SCRIPTS.glob("*.py")
                       if "figure" in p.name or p.name.endswith("_summary.py")
                       or p.name == "assemblies_analyze.py")
"""Figure and table jobs: they read stores and must start without the heavy modules."""

FACES = ("homeoplastic", "homeoplastic.assemblies", "homeoplastic.balancing",
         "homeoplastic.reduced", "homeoplastic.analysis", "homeoplastic.stats")


def _fresh(code: str) -> dict:
    """Run ``code`` in a fresh interpreter with this checkout's ``src`` first; its JSON result."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"),
                                                       os.environ.get("PYTHONPATH", "")]),
           "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=ROOT, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _script_imports(path: Path) -> str:
    tree = ast.parse(path.read_text())
    return "\n".join(ast.unparse(n) for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom))


def test_figure_and_table_jobs_import_no_kernel():
    """Each light script's imports run in turn in one interpreter; the first after which a heavy
    module is loaded is the one that brought it."""
    steps = [(name, _script_imports(SCRIPTS / name)) for name in LIGHT_SCRIPTS]
    code = (f"import json, sys\nheavy = {HEAVY!r}\nfound = {{}}\n"
            f"for name, block in {steps!r}:\n"
            "    exec(block, {})\n"
            "    new = [m for m in heavy if m in sys.modules]\n"
            "    if new:\n"
            "        found = {'script': name, 'modules': new}\n"
            "        break\n"
            "print(json.dumps(found))")
    assert len(LIGHT_SCRIPTS) >= 10  # the glob still finds the figure and summary scripts
    assert _fresh(code) == {}


@pytest.mark.parametrize("module", ["homeoplastic.figures.assemblies",
                                   "homeoplastic.figures.balancing",
                                   "homeoplastic.figures.panels", "homeoplastic.figures.probe",
                                   "homeoplastic.figures.reduced", "homeoplastic.figures.rules",
                                   "homeoplastic.assemblies.runs",
                                   "homeoplastic.assemblies.context",
                                   "homeoplastic.balancing.sweep_data"])
def test_store_readers_import_no_kernel(module):
    """Figures, and the settings the analysis reads (a stage's context: network, protocol, probe
    settings), import without the engine; it loads where a simulation runs."""
    code = (f"import json, sys\nimport {module}\n"
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    assert _fresh(code) == []


def test_package_faces_import_no_numerics():
    """Importing a package (as ``from homeoplastic.balancing import x`` does first) loads none of
    numba, scipy, xarray or matplotlib: the names load on first use."""
    heavy = ("numba", "scipy", "xarray", "matplotlib", "dask")
    code = (f"import json, sys\nimport {', '.join(FACES)}\n"
            f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))")
    assert _fresh(code) == []


@pytest.mark.parametrize("package", ["homeoplastic.assemblies", "homeoplastic.balancing"])
def test_lazy_names_are_the_modules_objects(package):
    face = importlib.import_module(package)
    assert face.__all__ and set(face.__all__) <= set(dir(face))
    for name in face.__all__:
        value = getattr(face, name)
        home = importlib.import_module(value.__module__)
        assert getattr(home, name) is value, f"{package}.{name}"
    with pytest.raises(AttributeError, match="no_such_name"):
        face.no_such_name  # noqa: B018
    assert importlib.import_module(f"{package}.params" if package.endswith("assemblies")
                                   else f"{package}.costs")  # submodules import as before


def test_the_t_quantile_without_scipy_stats_is_the_same_number():
    """The seed-replicate intervals take t quantiles from scipy.special (a light import) instead
    of scipy.stats: bit for bit the same numbers, NaN degrees of freedom giving NaN."""
    from scipy import stats
    from scipy.special import stdtrit

    dof = np.array([np.nan, *range(1, 200), 1e3, 1e6])
    for q in (0.975, 0.95, 0.5 + 0.9 / 2):
        np.testing.assert_array_equal(stdtrit(dof, q), stats.t.ppf(q, dof))
