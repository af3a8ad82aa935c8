"""Bytes per spiking run: per stage and in total, as stored, with this package's codecs, with and
without the network state; estimated at paper scale (N = 5000, 1000 s phases) and for a sweep.

    python benchmarks/storage.py --codecs \
        --run-dir results/assemblies/n_neurons~2000_rule~voltage_learning_speed~4_seed~1

The run folder is only read: each store is rewritten into a temporary folder with the current
codecs (:func:`homeoplastic.assemblies.storage.encode_spikes`), then its state is dropped
(:func:`~homeoplastic.assemblies.storage.drop_state`); bytes are the files' sizes (metadata
included). Paper scale: state bytes are the N = 5000 network's array sizes (built from the run's
own network settings at N = 5000) times each array's compression ratio in the run's store; spike
bytes are bytes per spike, measured on Poisson spikes of 5000 cells at the stage's measured E and
I rates (or ``--rate-exc-hz``/``--rate-inh-hz``), times those rates' spike count over
``--paper-phase-s`` (every spiking stage that long); the records' data scale with the phase's length
over the stage's. Stores without spikes or state (analyze, probes) are counted as they are.
Lines with ``part`` (``spikes``, ``state``) break a stage's paper-scale bytes down.
Prints JSON lines ``{"bytes_per_run": {...}}`` with ``scale``, ``stage`` (``total`` for the run,
``sweep`` with ``sweep_runs`` for a sweep), ``bytes``, ``state_kept`` and ``spikes`` (``as_stored``
or ``compressed``).
``--codecs`` also prints bytes per spike of the codecs considered for the spike arrays.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
import xarray as xr


def _bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _groups(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir() if (p / "zarr.json").is_file()
                  and json.loads((p / "zarr.json").read_text()).get("node_type") == "group")


def _rewrite(src: Path, dst: Path) -> None:
    """``src`` written again with today's codecs (spikes re-encoded, other groups as read)."""
    from homeoplastic.assemblies.storage import encode_spikes
    from homeoplastic.store import open_store, write_store

    root = open_store(src).load()
    groups = {}
    for name in _groups(src):
        ds = open_store(src, group=name).load()
        if name == "spikes":
            for var in ds.variables.values():
                var.encoding = {}
            ds = encode_spikes(ds, float(ds.attrs["dt_ms"]) * 1e-3)
        groups[name] = ds
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The data type .* does not have a Zarr V3")
        write_store(dst, root, groups=groups, attrs=root.attrs)


def _poisson_spikes(rates_hz: np.ndarray, seconds: float, dt_s: float, seed: int = 1):
    """Spike steps and cells of independent Poisson cells, in time order (cells ascending within
    a step), the engine's layout."""
    rng = np.random.default_rng(seed)
    n_steps = int(round(seconds / dt_s))
    counts = rng.poisson(rates_hz * seconds)
    cells = np.repeat(np.arange(rates_hz.size, dtype=np.int32), counts)
    steps = rng.integers(0, n_steps, cells.size).astype(np.int64)
    order = np.lexsort((cells, steps))
    return steps[order], cells[order]


def _spike_bytes_per_spike(n_exc: int, n_inh: int, rate_e: float, rate_i: float,
                           dt_s: float, seconds: float = 20.0) -> float:
    """Stored bytes per spike of a ``spikes`` group (all four arrays) for these cells and rates."""
    from homeoplastic.assemblies.storage import encode_spikes
    from homeoplastic.store import write_store

    rates = np.concatenate([np.full(n_exc, rate_e), np.full(n_inh, rate_i)])
    steps, cells = _poisson_spikes(rates, seconds, dt_s)
    ds = xr.Dataset({"spike_step": ("spike", steps), "spike_cell": ("spike", cells),
                     "t_s": ("spike", steps * dt_s), "i": ("spike", cells.copy())})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.zarr"
        write_store(path, xr.Dataset(), groups={"spikes": encode_spikes(ds, dt_s)})
        return _bytes(path / "spikes") / max(steps.size, 1)


def _big_state(state_store: Path, n_neurons: int) -> xr.Dataset:
    """The ``state`` group of the network the store's settings build at ``n_neurons``."""
    from homeoplastic.assemblies.engine import Simulation
    from homeoplastic.assemblies.params import NetworkParams
    from homeoplastic.assemblies.runs import state_group
    from homeoplastic.store import open_store

    state = open_store(state_store, group="state")
    params = NetworkParams.from_dict(json.loads(state.attrs["params_json"]))
    params = params.replace(**{"connectivity.n_neurons": n_neurons})
    return state_group(Simulation.build(params, int(state.attrs["seed"])))


def _paper_state_bytes(state_store: Path, big: xr.Dataset) -> tuple[int, int]:
    """(raw, estimated stored) bytes of the ``state`` group ``big``, each array compressed as
    in ``state_store`` (initial weights compress far better than trained ones)."""
    from homeoplastic.store import open_store

    state = open_store(state_store, group="state")
    raw = stored = 0
    for name, var in big.data_vars.items():
        folder = state_store / "state" / name
        here = state[name]
        ratio = (_bytes(folder) / max(here.size * here.dtype.itemsize, 1)
                 if folder.is_dir() and here.size else 1.0)
        raw += var.size * var.dtype.itemsize
        stored += int(var.size * var.dtype.itemsize * min(ratio, 1.0))
    return raw, stored


def _emit(**fields) -> None:
    print(json.dumps({"bytes_per_run": fields}), flush=True)


def _codec_table(spikes_store: Path) -> None:
    """Bytes per spike of the spike arrays under each codec considered."""
    import zarr
    from zarr.codecs import BloscCodec, ZstdCodec

    ds = xr.open_zarr(spikes_store, group="spikes").load()
    steps, cells = ds.spike_step.values, ds.spike_cell.values

    def size(a, compressors, filters=()):
        z = zarr.create_array(store={}, shape=a.shape, dtype=a.dtype, chunks=a.shape,
                              compressors=compressors, filters=filters)
        z[:] = a
        return sum(len(v) for k, v in z.store._store_dict.items() if not k.endswith("zarr.json"))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numcodecs.delta is not a Zarr 3 codec: zarr warns
        from zarr.codecs.numcodecs import Delta

        options = {
            "zstd (zarr default)": ([ZstdCodec(level=0)], ()),
            "blosc zstd bitshuffle (chosen)": ([BloscCodec(cname="zstd", clevel=5,
                                                           shuffle="bitshuffle")], ()),
            "numcodecs.delta + blosc zstd bitshuffle": (
                [BloscCodec(cname="zstd", clevel=5, shuffle="bitshuffle")], (Delta(dtype="int64"),)),
        }
        for label, (comp, filt) in options.items():
            print(json.dumps({"spike_codec": label, "n_spikes": int(steps.size),
                              "step_bytes_per_spike": size(steps, comp, filt) / steps.size,
                              "cell_bytes_per_spike": size(cells, comp) / steps.size}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, required=True, help="a finished run's folder")
    parser.add_argument("--paper-neurons", type=int, default=5000)
    parser.add_argument("--paper-phase-s", type=float, default=1000.0)
    parser.add_argument("--sweep-runs", type=int, default=1000)
    parser.add_argument("--rate-exc-hz", type=float, default=None,
                        help="paper scale: E rate (default: each stage's measured mean)")
    parser.add_argument("--rate-inh-hz", type=float, default=None,
                        help="paper scale: I rate (default: each stage's measured mean)")
    parser.add_argument("--codecs", action="store_true", help="also compare spike codecs")
    parser.add_argument("--config", type=Path, default=Path("config/config.yaml"),
                        help="the config whose chains decide which stores keep their state")
    args = parser.parse_args()

    from homeoplastic.assemblies.storage import drop_state
    from homeoplastic.store import open_store

    stores = sorted(args.run_dir.glob("*.zarr"))
    section = _section(args.config)
    policy = {"default": 0, "paper": 0}  # the workflow's policy: state kept where a stage reads it
    totals: dict[tuple[str, str, bool], int] = {}
    paper: dict[bool, int] = {True: 0, False: 0}
    state_cache: dict[str, tuple[int, int]] = {}
    big = None
    with tempfile.TemporaryDirectory() as tmp:
        for store in stores:
            stage = store.name.removesuffix(".zarr")
            copy = Path(tmp) / store.name
            _rewrite(store, copy)
            groups = _groups(store)
            measured = {("default", "as_stored", True): _bytes(store),
                        ("default", "compressed", True): _bytes(copy)}
            spikes_now = _bytes(copy / "spikes") if "spikes" in groups else 0
            drop_state(copy)
            measured[("default", "compressed", False)] = _bytes(copy)
            for (scale, spikes, kept), value in measured.items():
                _emit(scale=scale, stage=stage, bytes=value, state_kept=kept, spikes=spikes)
                totals[(scale, spikes, kept)] = totals.get((scale, spikes, kept), 0) + value
            keeps = _keeps(section, store)
            policy["default"] += measured[("default", "compressed", keeps)]
            # paper scale: state from the N = 5000 network, spikes from rates over the phase,
            # the records (rate bins, weight snapshots) by the phase's length
            other_meta = sum(f.stat().st_size for f in copy.rglob("zarr.json")
                             if "spikes" not in f.relative_to(copy).parts)
            other = measured[("default", "compressed", False)] - spikes_now - other_meta
            state_paper = 0
            if "state" in groups:
                if big is None:
                    big = _big_state(store, args.paper_neurons)
                state_cache[stage] = _paper_state_bytes(store, big)
                state_paper = state_cache[stage][1]
            spikes_paper = 0
            if "spikes" in groups and spikes_now:
                root = open_store(store)
                n_exc, n_inh = int(root.attrs["n_exc"]), int(root.attrs["n_inh"])
                scale_n = args.paper_neurons / (n_exc + n_inh)
                pe, pi = round(n_exc * scale_n), round(n_inh * scale_n)
                rate_e = args.rate_exc_hz if args.rate_exc_hz is not None else \
                    float(root.rate_exc_hz.mean()) if root.time.size else 0.0
                rate_i = args.rate_inh_hz if args.rate_inh_hz is not None else \
                    float(root.rate_inh_hz.mean()) if root.time.size else 0.0
                per_spike = _spike_bytes_per_spike(pe, pi, rate_e, rate_i,
                                                   float(root.attrs["dt_ms"]) * 1e-3)
                spikes_paper = int(per_spike * (pe * rate_e + pi * rate_i) * args.paper_phase_s)
                other = int(other * args.paper_phase_s / float(root.attrs["sim_seconds"]))
                _emit(scale="paper", stage=stage, bytes=spikes_paper, state_kept=False,
                      spikes="compressed", part="spikes", bytes_per_spike=round(per_spike, 3),
                      rate_exc_hz=round(rate_e, 3), rate_inh_hz=round(rate_i, 3))
            other += other_meta
            for kept in (True, False):
                value = other + spikes_paper + (state_paper if kept else 0)
                _emit(scale="paper", stage=stage, bytes=value, state_kept=kept,
                      spikes="compressed")
                paper[kept] += value
                if kept == keeps:
                    policy["paper"] += value
    for (scale, spikes, kept), value in totals.items():
        _emit(scale=scale, stage="total", bytes=value, state_kept=kept, spikes=spikes)
    for kept, value in paper.items():
        _emit(scale="paper", stage="total", bytes=value, state_kept=kept, spikes="compressed")
        _emit(scale="paper", stage="sweep", sweep_runs=args.sweep_runs,
              bytes=value * args.sweep_runs, state_kept=kept, spikes="compressed")
    # what the workflow keeps: each store's state only where a later stage of the run reads it
    for scale, value in policy.items():
        _emit(scale=scale, stage="total", bytes=value, state_kept="where_read",
              spikes="compressed")
    _emit(scale="paper", stage="sweep", sweep_runs=args.sweep_runs,
          bytes=policy["paper"] * args.sweep_runs, state_kept="where_read", spikes="compressed")

    for stage, (raw, stored) in state_cache.items():
        _emit(scale="paper", stage=stage, part="state", bytes=stored, raw_bytes=raw,
              state_kept=True, spikes="none", n_neurons=args.paper_neurons)
    if args.codecs:
        spiky = [s for s in stores if (s / "spikes").is_dir()]
        if spiky:
            _codec_table(max(spiky, key=lambda s: _bytes(s / "spikes")))


def _section(config: Path) -> dict:
    """The config's ``assemblies`` section, validated (its chain lists decide what keeps state)."""
    import yaml

    from homeoplastic.config import load_schema, validate

    schema = load_schema(Path(__file__).resolve().parents[1]
                         / "workflow/schemas/assemblies.schema.yaml")
    return validate(yaml.safe_load(config.read_text()).get("assemblies", {}), schema,
                    where="assemblies")


def _keeps(section: dict, store: Path) -> bool:
    """Whether the workflow keeps this store's state (a later stage of its run reads it)."""
    from homeoplastic.assemblies.stages import STAGES, keeps_state
    from homeoplastic.store import store_attrs_on_disk

    attrs = store_attrs_on_disk(store) or {}
    stage = store.name.removesuffix(".zarr")
    rule = json.loads(attrs.get("sweep_json", "{}")).get("rule", "voltage")
    return stage in STAGES and keeps_state(section, stage, rule)


if __name__ == "__main__":
    main()
