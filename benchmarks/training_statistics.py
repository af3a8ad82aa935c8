"""Network statistics after a short accelerated training, to compare two versions of the engine.

A change that is not bit-exact (an inlined exp, a new summation order) must leave the statistics
within the seed-to-seed spread. Run this script in both checkouts with the same arguments and
compare the lines (and, with ``--save-spikes DIR``, the spike trains themselves)::

    python benchmarks/training_statistics.py --seeds 1 2 3                # N = 2000, ~25 s per seed
    python benchmarks/training_statistics.py --seeds 1 2 3 --save-spikes /tmp/new

Protocol per seed: the network with plasticity on from t = 0 and ``learning_speed`` 10 (so that
a short training moves the weights), every assembly stimulated once for 0.5 s with 0.5 s off
(shuffled order), then 3 s of spontaneous activity. Prints one JSON line per seed: the E rate
during training, E and I rates and the E cells' ISI CV2 over the last 3 s, and the within/between
ratio of E->E weights at the end of the training.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from homeoplastic.assemblies import NetworkParams, RecordSpec, Simulation
from homeoplastic.assemblies.stimulus import training_schedule
from homeoplastic.stats.spikes import isi_cv2


def statistics(n_neurons: int, seed: int, spikes_dir: Path | None) -> dict:
    """Train, then record spontaneous activity; the line printed for ``seed``."""
    params = NetworkParams.from_dict({
        "connectivity": {"n_neurons": n_neurons},
        "plasticity": {"start_s": 0.0, "learning_speed": 10.0},
        "guard": {"enabled": False},
    })
    sim = Simulation.build(params, seed)
    n_exc, n_inh = params.connectivity.n_exc, params.connectivity.n_inh
    n_asm = params.assemblies.n_assemblies
    schedule = training_schedule(n_asm, 1, on_s=0.5, off_s=0.5,
                                 rng=np.random.default_rng([seed, 1]))
    train_s = n_asm * 1.0
    record = RecordSpec(rate_bin_ms=10.0, weight_interval_s=0.0)
    rec = sim.run(train_s, schedule, record, progress=False)
    train_cells = np.concatenate(rec.spike_cells)
    _, within, between, _ = sim.assembly_weights(sim.current_ee_weights())
    rec2 = sim.run(3.0, None, record, progress=False)
    steps = np.concatenate(rec2.spike_steps)
    cells = np.concatenate(rec2.spike_cells)
    if spikes_dir is not None:
        spikes_dir.mkdir(parents=True, exist_ok=True)
        np.savez(spikes_dir / f"seed{seed}.npz", train_steps=np.concatenate(rec.spike_steps),
                 train_cells=train_cells, steps=steps, cells=cells)
    return {
        "benchmark": "training_statistics", "n_neurons": n_neurons, "seed": seed,
        "train_rate_e_hz": float(np.sum(train_cells < n_exc) / (n_exc * train_s)),
        "rate_e_hz": float(np.sum(cells < n_exc) / (n_exc * 3.0)),
        "rate_i_hz": float(np.sum(cells >= n_exc) / (n_inh * 3.0)),
        "cv2_e": float(isi_cv2(steps, cells, n_cells=n_exc)),
        "within_over_between": within / between,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-neurons", type=int, default=2000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--save-spikes", type=Path, default=None, metavar="DIR",
                        help="also write each seed's spike trains to DIR/seed<k>.npz")
    args = parser.parse_args()
    for seed in args.seeds:
        print(json.dumps(statistics(args.n_neurons, seed, args.save_spikes)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
