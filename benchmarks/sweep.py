"""What a sweep of thousands of points costs besides simulating: planning, job start-up, storage,
reductions, and a finished run's wall time split into computing and overhead.

    python benchmarks/sweep.py                       # planning, start-up, open_sweep
    python benchmarks/sweep.py --run-dir \
        results/assemblies/n_neurons~2000_rule~voltage_learning_speed~4_seed~1
    python benchmarks/sweep.py --finished . --only split   # the default run in this folder

Prints JSON lines, one per figure:

- ``plan_s_per_1000_points``: CPU seconds (user + system, the snakemake process and its
  children) of ``snakemake -n`` on a synthetic spiking sweep of ``--points`` points (7 sizes x 3
  rules x 4 learning speeds x seeds) over the default config, per 1000 points; with ``points``,
  ``jobs`` planned and ``plan_cpu_s``.
- ``job_fixed_cost_s``: a job's fixed cost by kind (``benchmarks/startup.py``).
- ``bytes_per_run``: by stage and in total, default and paper scale (``benchmarks/storage.py``;
  needs ``--run-dir``, a finished default run's folder).
- ``open_sweep_s_per_1000_stores``: :func:`homeoplastic.store.open_sweep` over synthetic analyze
  stores copied from the default run's (``benchmarks/open_sweep.py``; writing 1000 takes minutes,
  ``--stores-dir`` reuses stores it kept).
- ``default_run_split``: with ``--finished DIR`` (the folder a finished ``snakemake`` ran in), the
  jobs' wall time (Snakemake's metadata: start and end of each job) against the computing its
  stores record (``wall_seconds``), in total and by rule.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
SIZES = [1000, 1500, 2000, 2500, 3000, 4000, 5000]
RULES = ["voltage", "triplet", "calcium"]
SPEEDS = [1.0, 2.0, 4.0, 8.0]


def _emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def synthetic_sweep(points: int) -> dict:
    """A spiking sweep of about ``points`` points (whole seeds per size, rule and speed)."""
    per_seed = len(SIZES) * len(RULES) * len(SPEEDS)
    seeds = max(1, round(points / per_seed))
    return {"assemblies": {"sweep": {"n_neurons": SIZES, "rule": RULES,
                                     "learning_speed": SPEEDS,
                                     "seed": list(range(1, seeds + 1))},
                           "extra_sweeps": []}}


def plan_cost(points: int, extra: list[str]) -> dict:
    """CPU seconds of a dry run of the synthetic sweep (default config otherwise)."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "sweep.yaml"
        sweep = synthetic_sweep(points)
        config.write_text(json.dumps(sweep))
        n_points = (len(SIZES) * len(RULES) * len(SPEEDS)
                    * len(sweep["assemblies"]["sweep"]["seed"]))
        cmd = [sys.executable, "-m", "snakemake", "-n", "--cores", "2", "--quiet", "rules",
               "--configfile", str(ROOT / "config/config.yaml"), str(config), *extra,
               "--config", f"results_dir={tmp}/results", f"logs_dir={tmp}/logs"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if result.returncode != 0:
            raise SystemExit(result.stderr[-3000:])
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        jobs = _planned_jobs(result.stdout + result.stderr)
        bundled = [line for line in (result.stdout + result.stderr).splitlines()
                   if "bundled" in line]
        return {"benchmark": "plan", "points": n_points, "jobs": jobs,
                "plan_cpu_s": round(cpu, 2), "plan_wall_s": round(wall, 2),
                "plan_s_per_1000_points": round(1000 * cpu / n_points, 3),
                "peak_rss_mb": round(after.ru_maxrss / 1024, 1),
                "bundling": bundled[0].strip() if bundled else "none"}


def _planned_jobs(text: str) -> int | None:
    """The ``total`` of a dry run's job table."""
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "total" and parts[1].isdigit():
            return int(parts[1])
    return None


def _sibling(script: str, *args: str) -> list[dict]:
    """JSON lines of another benchmark script."""
    result = subprocess.run([sys.executable, str(HERE / script), *args], cwd=ROOT,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{script}: {result.stderr[-2000:]}")
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def default_run_split(workdir: Path) -> dict:
    """Job wall time (Snakemake's metadata: start and end of each job) against the computing its
    output stores record (``wall_seconds``; a bundle's manifest counts its members' stores)."""
    import base64

    jobs: dict[str, dict] = {}
    for meta in (workdir / ".snakemake" / "metadata").iterdir():
        try:
            record = json.loads(meta.read_text())
            output = base64.urlsafe_b64decode(meta.name + "=" * (-len(meta.name) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            continue
        if record.get("starttime") is None or record.get("endtime") is None:
            continue
        job = jobs.setdefault(str(record.get("job_hash") or meta.name), {
            "rule": record.get("rule", "?"), "wall": record["endtime"] - record["starttime"],
            "start": record["starttime"], "end": record["endtime"], "computing": 0.0})
        job["computing"] += _computing(workdir / output, workdir)
    if not jobs:
        raise SystemExit(f"no finished jobs in {workdir}/.snakemake/metadata")
    by_rule: dict[str, dict] = defaultdict(lambda: {"jobs": 0, "wall_s": 0.0, "computing_s": 0.0})
    for job in jobs.values():
        row = by_rule[job["rule"]]
        row["jobs"] += 1
        row["wall_s"] += job["wall"]
        row["computing_s"] += job["computing"]
    job_s = sum(job["wall"] for job in jobs.values())
    computing = sum(job["computing"] for job in jobs.values())
    wall = max(j["end"] for j in jobs.values()) - min(j["start"] for j in jobs.values())
    return {"benchmark": "default_run_split", "jobs": len(jobs), "wall_s": round(wall, 1),
            "job_wall_s": round(job_s, 1), "computing_s": round(computing, 1),
            "overhead_s": round(job_s - computing, 1),
            "by_rule": {rule: {k: round(v, 1) if isinstance(v, float) else v
                               for k, v in row.items()} for rule, row in sorted(by_rule.items())}}


def _computing(output: Path, workdir: Path) -> float:
    """Seconds of computing a job's output records: a store's ``wall_seconds``, a manifest's
    members' (kept members count nothing: they were not computed by this job)."""
    from homeoplastic.store import store_attrs_on_disk

    if output.suffix == ".zarr":
        return float((store_attrs_on_disk(output) or {}).get("wall_seconds", 0.0) or 0.0)
    if output.suffix == ".json" and output.is_file():
        try:
            members = json.loads(output.read_text()).get("members", [])
        except (ValueError, AttributeError):
            return 0.0
        return sum(_computing(workdir / m["store"], workdir) for m in members
                   if not str(m.get("reason", "")).startswith("kept")
                   and m["store"].endswith(".zarr"))
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_080,
                        help="points of the synthetic spiking sweep to plan")
    parser.add_argument("--run-dir", type=Path, help="a finished default run's folder (bytes)")
    parser.add_argument("--finished", type=Path,
                        help="the folder a finished snakemake ran in (wall time split)")
    parser.add_argument("--stores", type=int, default=1000,
                        help="synthetic analyze stores to write (minutes) and open")
    parser.add_argument("--stores-dir", type=Path,
                        help="open these stores (open_sweep.py --keep DIR wrote them) instead")
    parser.add_argument("--only", nargs="*", default=None,
                        choices=["plan", "startup", "bytes", "open_sweep", "split"])
    args = parser.parse_args()
    wanted = set(args.only or ["plan", "startup", "bytes", "open_sweep", "split"])
    if "plan" in wanted:
        _emit(plan_cost(args.points, []))
    if "startup" in wanted and (HERE / "startup.py").exists():
        for record in _sibling("startup.py"):
            _emit(record)
    if "bytes" in wanted and args.run_dir is not None:
        for record in _sibling("storage.py", "--run-dir", str(args.run_dir)):
            _emit(record)
    if "open_sweep" in wanted and (HERE / "open_sweep.py").exists():
        how = (["--stores", str(args.stores_dir)] if args.stores_dir
               else ["--n-stores", str(args.stores)])
        for record in _sibling("open_sweep.py", *how):
            _emit(record)
    if "split" in wanted and args.finished is not None:
        _emit(default_run_split(args.finished))


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    main()
