"""Fixed start-up cost of each kind of workflow job: prints one JSON line per job kind.

Every Snakemake job is a fresh ``python`` process running one of ``workflow/scripts/*.py``; before
any work it pays the interpreter, Snakemake's preamble (which unpickles the job's ``snakemake``
object) and the script's imports. This measures, in fresh subprocesses with ``src`` first on the
path:

- ``job_fixed_cost_s``: wall time of ``python -c "<the script's own import statements>"`` (read
  from the script with :mod:`ast`, so the benchmark follows the scripts as they change), the best
  of ``--repeat`` runs; ``top_imports`` the packages that took longest to import (their modules'
  own times from ``python -X importtime``, seconds), ``kernels`` whether numba or a simulation
  kernel module was imported;
- ``snakemake_preamble`` (one line): the same for the preamble of a ``script:`` job alone (a real
  pickled ``snakemake`` object is loaded), paid by every job on top of its imports;
- ``store_open`` (one line): opening and loading a tiny complete store after importing
  :mod:`homeoplastic.store` (zarr's and dask's imports are the bulk), paid by every job that reads
  a store;
- ``kernel_load`` (one line, with the ``stage`` job): the first engine call of a fresh process,
  timed inside it: numba loading the cached kernels, paid by every spiking stage job.

Usage: python benchmarks/startup.py [--repeat N] [--root CHECKOUT] [JOB ...]   (JOB: see JOBS)
Numbers are best-of-N wall times; on a shared machine compare checkouts in the same session.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
"""The checkout measured (its ``src`` and ``workflow/scripts``); ``--root`` measures another, e.g. a
``git worktree`` of an older commit for a before/after comparison on the same machine."""

JOBS = {
    "figure_run": "assemblies_figure_run.py",
    "figure_sweep": "assemblies_figure_sweep.py",
    "figure_probe": "assemblies_figure_probe.py",
    "figure_rate_dependence": "assemblies_figure_rate_dependence.py",
    "analyze": "assemblies_analyze.py",
    "stage": "assemblies_stage.py",
    "summary": "assemblies_summary.py",
    "balancing_balance": "balancing_balance.py",
    "balancing_figure_sweep": "balancing_figure_sweep.py",
    "balancing_figure_two_neuron": "balancing_figure_two_neuron.py",
    "balancing_summary": "balancing_summary.py",
    "reduced_stage": "reduced_stage.py",
    "reduced_figure": "reduced_figure.py",
    "reduced_figure_sweep": "reduced_figure_sweep.py",
}
"""Job kind -> the workflow script its rule runs."""

KERNEL_MODULES = ("numba", "homeoplastic.assemblies.kernels")
"""A job that imports one of these loads a simulation kernel (numba alone costs ~0.5 s)."""


def script_imports(script: Path) -> str:
    """The script's module-level import statements, as one block of code."""
    tree = ast.parse(script.read_text())
    lines = [ast.unparse(node) for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    return "\n".join(lines)


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(root / "src"), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep)
    env.setdefault("MPLBACKEND", "Agg")
    return env


def wall_time(code: str, repeat: int, root: Path) -> float:
    """Best wall time (s) of ``python -c code`` in a fresh process over ``repeat`` runs."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=_env(root), cwd=root)
        best = min(best, time.perf_counter() - start)
    return best


def _owner(module: str) -> str:
    """The package a module's import time is charged to: its top-level package, or its
    subpackage for this project's modules (``homeoplastic.assemblies``)."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "homeoplastic" else parts[0]


def import_profile(code: str, root: Path, top: int = 6) -> tuple[list[list[object]], bool]:
    """The ``top`` packages by import time (their modules' own times summed, s, from ``python -X
    importtime``; nested imports are charged to their own package) and whether a kernel loaded."""
    probe = f"{code}\nimport sys\nprint(any(m in sys.modules for m in {KERNEL_MODULES!r}))"
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", probe], check=True,
                          env=_env(root), cwd=root, capture_output=True, text=True)
    own: dict[str, int] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, _, name = line[len("import time:"):].split("|")
        owner = _owner(name.strip())
        own[owner] = own.get(owner, 0) + int(self_us)
    ranked = sorted(own.items(), key=lambda item: -item[1])[:top]
    return [[name, round(us / 1e6, 3)] for name, us in ranked], done.stdout.strip() == "True"


def preamble_code() -> str:
    """What Snakemake puts before a ``script:`` job's source, with a real pickled job object."""
    from snakemake.iocontainers import (
        InputFiles,
        Log,
        OutputFiles,
        Params,
        ResourceList,
        Snakemake,
        Wildcards,
    )

    job = Snakemake(InputFiles(["in.zarr"]), OutputFiles(["out.png"]), Params(), Wildcards(), 1,
                    ResourceList(), Log(["job.log"]), {"assemblies": {}}, "rule", None, "scripts")
    blob = pickle.dumps(job, protocol=4)
    return (f"import sys; import pickle; snakemake = pickle.loads({blob!r}); "
            "from snakemake.logging import logger; from snakemake.iocontainers import Snakemake")


def store_open_code(folder: Path, root: Path) -> str:
    """Code that opens and loads a tiny complete store written into ``folder``."""
    path = folder / "tiny.zarr"
    write = ("import numpy as np, xarray as xr\nfrom homeoplastic.store import write_store\n"
             f"write_store({str(path)!r}, xr.Dataset({{'x': ('t', np.arange(10.0))}}))")
    subprocess.run([sys.executable, "-c", write], check=True, env=_env(root), cwd=root)
    return f"from homeoplastic.store import open_store\nopen_store({str(path)!r}).load()"


KERNEL_LOAD = """
import time
from homeoplastic.assemblies.engine import RecordSpec, Simulation
from homeoplastic.assemblies.params import NetworkParams
params = NetworkParams.from_dict({"connectivity": {"n_neurons": 200}, "guard": {"enabled": False}})
sim = Simulation.build(params, 0)
start = time.perf_counter()
sim.run(0.001, record=RecordSpec(chunk_s=0.001), progress=False)
print(time.perf_counter() - start)
"""
"""A stage's first kernel call (1 ms of a 200-cell network): numba loading its cached kernels."""


def kernel_load(repeat: int, root: Path) -> None:
    """Print the ``kernel_load`` line: the first engine call's time in a fresh process (best of
    ``repeat``; the first run in a fresh clone compiles instead, so it is run once unmeasured)."""
    times = []
    for _ in range(repeat + 1):
        done = subprocess.run([sys.executable, "-c", KERNEL_LOAD], check=True, env=_env(root),
                              cwd=root, capture_output=True, text=True)
        times.append(float(done.stdout.strip().splitlines()[-1]))
    print(json.dumps({"benchmark": "job_fixed_cost", "job": "kernel_load",
                      "job_fixed_cost_s": round(min(times[1:]), 3), "repeat": repeat}), flush=True)


def report(job: str, code: str, repeat: int, root: Path, **extra: object) -> None:
    """Measure ``code`` and print its JSON line."""
    top, kernels = import_profile(code, root)
    print(json.dumps({"benchmark": "job_fixed_cost", "job": job,
                      "job_fixed_cost_s": round(wall_time(code, repeat, root), 3),
                      "kernels": kernels, "top_imports": top, "repeat": repeat, **extra}),
          flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("jobs", nargs="*", help=f"job kinds (default all): {', '.join(JOBS)}")
    parser.add_argument("--repeat", type=int, default=3, help="runs per job; the best is kept")
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout to measure")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    report("python", "pass", args.repeat, root)
    report("snakemake_preamble", preamble_code(), args.repeat, root)
    with tempfile.TemporaryDirectory() as folder:
        report("store_open", store_open_code(Path(folder), root), args.repeat, root)
    if not args.jobs or "stage" in args.jobs:
        kernel_load(args.repeat, root)
    for job in args.jobs or JOBS:
        script = JOBS[job]
        report(job, script_imports(root / "workflow" / "scripts" / script), args.repeat, root,
               script=script, checkout=str(root))


if __name__ == "__main__":
    main()
