"""Command line: run one network simulation or inspect a store, without Snakemake.

    homeoplastic simulate --n-neurons 1000 --sim-seconds 2
    homeoplastic inspect results/assemblies/.../train.zarr
    homeoplastic export results/assemblies/.../train.zarr --to nwb --out run.nwb
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

from homeoplastic import __version__

WORKFLOW_SIZE_SCALING = "fixed_indegree"
"""The default config's ``assemblies.network.connectivity.size_scaling`` (a test keeps them equal):
the CLI runs the network the workflow runs."""


def kernels_need_compiling() -> bool:
    """True when the engine's step kernel (compiled on every run's first step, most of the
    first-run wait) has no on-disk Numba cache yet: the first run after an install or an edit of
    the kernels. Only the index file is looked at; nothing is compiled or loaded here."""
    from homeoplastic.assemblies.kernels import step
    from homeoplastic.assemblies.kernels.cache import index_path

    index = index_path(step._advance)
    return index is not None and not os.path.exists(index)


def option_bounds() -> dict[str, tuple[float | None, float | None, bool, str]]:
    """``simulate``'s numeric options and their bounds, the workflow's: ``dest: (low, high,
    low_exclusive, why)``; every value must also be finite."""
    from homeoplastic.assemblies.params import MAX_LEARNING_SPEED, MAX_NEURONS
    from homeoplastic.assemblies.sweep import MIN_NEURONS

    return {
        "n_neurons": (MIN_NEURONS, MAX_NEURONS, False,
                      "smaller networks leave the balanced regime; the workflow has the same bounds"),
        "sim_seconds": (0, None, True, "a simulated time"),
        "seed": (0, None, False, "the workflow's seeds"),
        "learning_speed": (0, MAX_LEARNING_SPEED, True, "the workflow's sweep has the same bounds"),
        "plasticity_start_s": (0, None, False, "a time into the run"),
        "rate_max_hz": (0, None, True, "a rate"),
    }


def check_options(args: argparse.Namespace) -> None:
    """Raise ``ValueError`` naming the first option outside its :func:`option_bounds`."""
    for dest, (low, high, exclusive, why) in option_bounds().items():
        value = getattr(args, dest)
        ok = (math.isfinite(value) and (low is None or (value > low if exclusive else value >= low))
              and (high is None or value <= high))
        if not ok:
            parts = []
            if low is not None:
                parts.append(f"{'>' if exclusive else '>='} {low:g}")
            if high is not None:
                parts.append(f"<= {high:g}")
            allowed = " and ".join(parts)
            raise ValueError(f"--{dest.replace('_', '-')} = {value!r} is invalid; allowed: a "
                             f"finite number {allowed} ({why})")


CLI_STAGE = "cli-simulate"
"""The ``stage`` attr of the stores ``simulate --out`` writes: the only stores ``--force`` may
replace."""


def check_out(path: Path, *, force: bool) -> None:
    """Refuse (``ValueError``) to write ``--out`` over anything the CLI did not write: a file, a
    folder that is not a complete homeoplastic store, or a workflow's store; a store of
    ``simulate --out`` only with ``--force``. Nothing is touched here."""
    from homeoplastic.store import is_complete, store_attrs_on_disk

    if not os.path.lexists(path):
        return
    if path.is_symlink() or not path.is_dir():
        raise ValueError(f"--out {path} exists and is a file, not a store; refusing to replace it "
                         "(move it or choose another path)")
    attrs = store_attrs_on_disk(path) or {}
    if not is_complete(path):
        raise ValueError(f"--out {path} exists and is not a complete homeoplastic store; refusing "
                         "to replace it (move it or choose another path)")
    if attrs.get("stage") != CLI_STAGE:
        raise ValueError(f"--out {path} is a store of the workflow (stage {attrs.get('stage')!r}), "
                         "not one simulate wrote; refusing to replace it (delete it yourself)")
    if not force:
        raise ValueError(f"--out {path} exists (a store simulate wrote); pass --force to replace "
                         "it")


def json_safe(value):
    """``value`` with NaN and infinities as None (JSON null) and NumPy scalars as Python's."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _simulate(args: argparse.Namespace) -> int:
    from homeoplastic.assemblies.engine import RecordSpec, Simulation
    from homeoplastic.assemblies.output import summarise
    from homeoplastic.assemblies.params import network_with
    from homeoplastic.assemblies.runs import write_run_store
    from homeoplastic.assemblies.stimulus import training_schedule

    check_options(args)
    if args.out:
        check_out(args.out, force=args.force)
    plasticity = {"start_s": args.plasticity_start_s, "learning_speed": args.learning_speed}
    if args.static:
        plasticity.update(ee_rule="none", istdp=False, normalisation=False)
    params = network_with({"connectivity": {"size_scaling": args.size_scaling},
                           "guard": {"rate_max_hz": args.rate_max_hz}},
                          n_neurons=args.n_neurons, plasticity=plasticity)
    if kernels_need_compiling():
        print("homeoplastic: compiling the engine's kernels (first run only, about 10 s; cached "
              "afterwards)", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    sim = Simulation.build(params, args.seed)
    build_s = time.perf_counter() - t0
    schedule = None
    if args.stimulate:
        import numpy as np

        period = 4.0
        reps = int(args.sim_seconds // (period * params.assemblies.n_assemblies)) or 1
        schedule = training_schedule(params.assemblies.n_assemblies, reps,
                                     rng=np.random.default_rng(args.seed))
        keep = schedule.t_off_s <= args.sim_seconds
        from homeoplastic.assemblies.stimulus import StimulusSchedule

        schedule = StimulusSchedule(schedule.target[keep], schedule.t_on_s[keep],
                                    schedule.t_off_s[keep], schedule.rate_hz[keep])
    rec = sim.run(args.sim_seconds, schedule, RecordSpec(weight_interval_s=1.0),
                  progress=None if not args.quiet else False, label="simulate")
    summary = {"n_neurons": args.n_neurons, "seed": args.seed, "build_s": build_s,
               **summarise(sim, rec)}
    if args.out:
        check_out(args.out, force=args.force)  # again: the run took a while
        write_run_store(args.out, sim, rec, stage=CLI_STAGE,
                        sweep={"n_neurons": args.n_neurons, "seed": args.seed})
        summary["store"] = str(Path(args.out))
    if args.json:
        print(json.dumps(json_safe(summary), allow_nan=False))
    else:
        for key, value in summary.items():
            print(f"{key:>26}: {value:.4g}" if isinstance(value, float) else f"{key:>26}: {value}")
    if params.guard.enabled and args.sim_seconds <= params.guard.start_s:
        print(f"homeoplastic: note: the rate guard starts at {params.guard.start_s:g} s; it did not "
              "watch this run", file=sys.stderr)
    if rec.status != "completed":
        reason = rec.abort_reason
        print(f"homeoplastic: run stopped early ({rec.status}) at t = "
              f"{reason.get('sim_time_s', float('nan')):.3f} s: {reason.get('checker')} "
              f"{reason.get('metric')} = {reason.get('value', float('nan')):.3g}, allowed "
              f"{reason.get('bounds_hz')} Hz", file=sys.stderr)
        return 3
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from homeoplastic.store import open_store

    ds = open_store(args.store, group=args.group)
    print(ds)
    if args.config:
        print(json.dumps(json.loads(ds.attrs.get("config_json", "{}")), indent=2))
    return 0


def _export(args: argparse.Namespace) -> int:
    try:
        from homeoplastic.export import to_nwb, write_neo
    except ImportError as err:  # pragma: no cover - the extras are missing
        raise ValueError(f"export needs the optional extras: pip install 'homeoplastic[neo,nwb]' "
                         f"({err})") from err
    write = to_nwb if args.to == "nwb" else write_neo
    try:
        out = write(args.store, args.out, force=args.force)
    except ImportError as err:
        raise ValueError(f"export --to {args.to} needs: pip install 'homeoplastic[{args.to}]' "
                         f"({err})") from err
    except FileExistsError as err:
        raise ValueError(f"--out {args.out} exists; pass --force to replace it") from err
    print(out)
    return 0


class _DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: X)`` after every option's help, except flags and options whose help
    already says what their absence means."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or action.default is False or "default:" in (action.help or ""):
            return action.help or ""
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    from homeoplastic.assemblies.params import SIZE_SCALINGS

    parser = argparse.ArgumentParser(prog="homeoplastic", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"homeoplastic {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    defaults = _DefaultsFormatter
    sim = sub.add_parser("simulate", help="run the spiking network and print a summary",
                         description="Run the spiking network (paper parameters otherwise) and "
                         "print a summary: rates, irregularity, synchrony, weight ratio.",
                         formatter_class=defaults)
    sim.add_argument("--n-neurons", type=int, default=1000, help="network size (E:I = 4:1)")
    sim.add_argument("--sim-seconds", type=float, default=2.0, help="simulated time, s")
    sim.add_argument("--size-scaling", default=WORKFLOW_SIZE_SCALING, choices=SIZE_SCALINGS,
                     help="how sizes other than 5000 stay balanced; the default is the "
                     "workflow's (config/README.md)")
    sim.add_argument("--seed", type=int, default=1,
                     help="seed of the connectivity, the assemblies and the noise")
    sim.add_argument("--static", action="store_true", help="all plasticity off")
    sim.add_argument("--stimulate", action="store_true",
                     help="present the assemblies' training stimuli (1 s on, 3 s off)")
    sim.add_argument("--learning-speed", type=float, default=1.0,
                     help="factor on every plasticity amplitude (1: the paper's)")
    sim.add_argument("--plasticity-start-s", type=float, default=0.0,
                     help="plasticity switches on at this time, s (paper: 10)")
    sim.add_argument("--rate-max-hz", type=float, default=60.0,
                     help="rate guard: stop when the smoothed E rate passes this, Hz (exit status 3)")
    sim.add_argument("--out", type=Path, default=None,
                     help="write a Zarr store here (default: write nothing)")
    sim.add_argument("--force", action="store_true",
                     help="replace the store at --out if simulate wrote it (never anything else)")
    sim.add_argument("--json", action="store_true",
                     help="print the summary as one JSON line (null for NaN)")
    sim.add_argument("--quiet", action="store_true", help="no progress bar")
    sim.set_defaults(func=_simulate)
    ins = sub.add_parser("inspect", help="print a store's dataset (and config)",
                         description="Print a store written by the workflow or the CLI.",
                         formatter_class=defaults)
    ins.add_argument("store", type=Path, help="path of a .zarr store")
    ins.add_argument("--group", default=None,
                     help="spikes, state, ... (default: the root dataset)")
    ins.add_argument("--config", action="store_true", help="also print the resolved config")
    ins.set_defaults(func=_inspect)
    exp = sub.add_parser("export", help="write a store's spike trains as Neo or NWB",
                         description="Write the spike trains of an assemblies store (or of a run "
                         "folder's train.zarr) as a pickled neo.Block (--to neo, read with "
                         "neo.io.PickleIO) or an NWB file (--to nwb, HDF5, read with pynwb). Needs "
                         "pip install 'homeoplastic[neo,nwb]'.", formatter_class=defaults)
    exp.add_argument("store", type=Path, help="a .zarr store or a run folder with train.zarr")
    exp.add_argument("--to", required=True, choices=("neo", "nwb"), help="output format")
    exp.add_argument("--out", type=Path, required=True, help="file to write (atomically)")
    exp.add_argument("--force", action="store_true", help="replace an existing --out")
    exp.set_defaults(func=_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, KeyError) as err:
        # parameter and config errors, missing stores or groups: one clear line, no traceback
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"homeoplastic: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
