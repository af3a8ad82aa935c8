"""Reductions at scale: ``open_sweep`` and the assemblies sweep figure over many analyze stores.

Writes N synthetic analyze stores (default 1000) with the library's own writer
(``homeoplastic.store.write_store``, so completion flags and checksums are real), each a copy of
a real spiking ``analyze.zarr`` (its variables, coordinates, units and provenance attrs) moved to
its own sweep point: n_neurons x learning_speed x seed, with its values jittered so that no two
stores hold the same numbers, and one run in seven cut short like a guard-stopped run (shorter
time axes, the later stages' variables missing). Then, in a fresh process (so imports and the
writer's memory are not counted), it times ``open_sweep(paths, scalars_only=True).load()`` and the
figure the workflow draws (``figures.assemblies.save_sweep_summary``, the default panels) and
prints one JSON line.

Usage::

    python benchmarks/open_sweep.py [--n-stores 1000] [--template PATH] [--keep DIR]
    (the template defaults to the default run's results/assemblies/n_neurons~2000_rule~voltage_
    learning_speed~4_seed~1/analyze.zarr)
    python benchmarks/open_sweep.py --stores DIR   # time stores written before (no writing)
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TEMPLATE = (Path(__file__).resolve().parents[1] / "results/assemblies"
            / "n_neurons~2000_rule~voltage_learning_speed~4_seed~1/analyze.zarr")
"""The default run's analyze store of one run (run ``snakemake --cores 2`` first)."""
SIZES = (1000, 1500, 2000, 2500, 3000)
SPEEDS = (1.0, 2.0, 4.0, 8.0)
SHORT_EVERY = 7
"""One run in seven is cut short like a run the rate guard stopped in training."""


def points(n_stores: int) -> list[dict]:
    """``n_stores`` sweep points: every size and speed, seeds 1, 2, ... until there are enough."""
    out = []
    seed = 1
    while len(out) < n_stores:
        for n in SIZES:
            for speed in SPEEDS:
                if len(out) < n_stores:
                    out.append({"learning_speed": speed, "n_neurons": n, "rule": "voltage",
                                "seed": seed})
        seed += 1
    return out


def write_stores(template: Path, folder: Path, n_stores: int) -> list[Path]:
    """Write the synthetic stores under ``folder`` (one run folder each, as the workflow does)."""
    from homeoplastic.store import is_complete, open_store, run_id_of, write_store

    real = open_store(template).load()
    attrs = {k: v for k, v in real.attrs.items() if k not in ("store_complete",
                                                               "array_sha256_json")}
    settings = json.loads(attrs["settings_json"])
    config = json.loads(attrs["config_json"])
    time_dims = [d for d in real.dims if str(d).startswith("time_")]
    paths = []
    for index, point in enumerate(points(n_stores)):
        path = folder / run_id_of(point) / "analyze.zarr"
        if is_complete(path):  # written by an earlier call with --keep
            paths.append(path)
            continue
        rng = np.random.default_rng(index)
        ds = real.copy(deep=True)
        for var in ds.data_vars.values():  # in place: assigning variables one by one is slow
            if var.dtype.kind == "f":
                var.values *= 1.0 + 0.05 * rng.standard_normal(var.shape)
        ds = ds.assign_coords({k: ((), v, real[k].attrs) for k, v in point.items()})
        stopped = index % SHORT_EVERY == SHORT_EVERY - 1
        if stopped:  # like a guard stop: training cut short, no later stage
            ds = ds.isel(time_train=slice(0, ds.sizes["time_train"] // 3))
            later = [n for n, v in ds.data_vars.items()
                     if any(d in v.dims for d in time_dims if d != "time_train")
                     or n.startswith(("ratio_end", "recovery", "remap"))]
            ds = ds.drop_vars(later).drop_dims([d for d in time_dims if d != "time_train"])
            ds["run_completed"] = ds["run_completed"] * 0
        run = run_id_of(point)
        sweep_config = {**config, "assemblies": {**config.get("assemblies", {}),
                                                 "sweep": point}}
        store_attrs = {
            **attrs,
            "sweep_json": json.dumps(point, sort_keys=True),
            "run_id": run,
            "seed": point["seed"],
            "run_status": "aborted" if stopped else "completed",
            "config_json": json.dumps(sweep_config, sort_keys=True),
            "settings_json": json.dumps({**settings,
                                         "network.connectivity.n_neurons": point["n_neurons"],
                                         "network.plasticity.learning_speed":
                                             point["learning_speed"]}, sort_keys=True),
        }
        write_store(path, ds, attrs=store_attrs)
        (path / ".snakemake_timestamp").touch()  # what Snakemake drops into directory() outputs
        paths.append(path)
    return paths


def default_panels() -> list[dict]:
    """The sweep figure's default panels, from the config schema."""
    import yaml

    schema = yaml.safe_load((Path(__file__).resolve().parents[1] / "workflow" / "schemas"
                             / "assemblies.schema.yaml").read_text())
    return schema["properties"]["figures"]["properties"]["panels"]["default"]


def measure(folder: Path) -> dict:
    """Time ``open_sweep`` (loaded) and the sweep figure over every analyze store in ``folder``."""
    import matplotlib

    matplotlib.use("Agg")
    from homeoplastic.figures.assemblies import save_sweep_summary
    from homeoplastic.store import open_sweep

    paths = sorted(folder.glob("*/analyze.zarr"))
    start = time.perf_counter()
    ds = open_sweep(paths, scalars_only=True).load()
    open_s = time.perf_counter() - start
    assert int(np.isfinite(ds["train_end_s"]).sum()) == len(paths), "a store went missing"
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        save_sweep_summary([str(p) for p in paths], str(Path(tmp) / "sweep.png"),
                           default_panels())
    figure_s = time.perf_counter() - start
    return {"benchmark": "open_sweep", "n_stores": len(paths),
            "open_sweep_s": round(open_s, 3),
            "open_sweep_s_per_1000_stores": round(open_s * 1000 / len(paths), 3),
            "figure_s": round(figure_s, 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n-stores", type=int, default=1000)
    parser.add_argument("--template", type=Path, default=TEMPLATE,
                        help="a real analyze.zarr to copy (read only)")
    parser.add_argument("--keep", type=Path, help="write the stores here and keep them")
    parser.add_argument("--stores", type=Path, help="time the stores in DIR, write none")
    args = parser.parse_args()
    if args.stores:
        print(json.dumps(measure(args.stores)))
        return
    if not (args.template / "zarr.json").is_file():
        raise SystemExit(f"{args.template}: no analyze store to copy; run the default workflow "
                         "(snakemake --cores 2) first or pass --template PATH")
    with tempfile.TemporaryDirectory(prefix="open_sweep_") as tmp:
        folder = args.keep or Path(tmp)
        start = time.perf_counter()
        write_stores(args.template, folder, args.n_stores)
        print(f"wrote {args.n_stores} stores in {time.perf_counter() - start:.1f} s",
              file=sys.stderr)
        # a fresh process: the writer's imports and memory are not the reader's
        subprocess.run([sys.executable, __file__, "--stores", str(folder)], check=True)


if __name__ == "__main__":
    main()
