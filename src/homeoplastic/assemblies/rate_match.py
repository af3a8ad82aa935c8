"""The non-recurrent control's settle, with iSTDP targets that make its rates the intact network's.

iSTDP does not settle a cell at its target r0 but at its fixed point r = 2 r0 / (kappa + rho)
(:mod:`.experiments.istdp_fixed_point`): in the control (E->I blocked) rho ~ 0.73, so targets set
to the intact rates leave the control ~15 % above them, and the paper compares the two networks
"despite the same rates". ``rate_matched`` therefore sets r0_i = r_intact_i (kappa + rho) / 2,
with (kappa + rho) / 2 measured in the settle itself: the settle runs in segments, and after each
segment that ends before the final quarter (the window :func:`.protocol.settle_summary` reads),
the targets are re-set from that segment's spikes. The factor is averaged within each quartile of
the intact rates: a cell's own kappa and rho rest on a few dozen spikes (a 5 s segment at ~1 Hz),
the quartile's on thousands, and the check is per quartile. Everything is computed from the
simulation's own spikes, so the same seed gives the same targets bit for bit.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from homeoplastic.assemblies.engine import RecordSpec, RunRecord, Simulation, spike_arrays
from homeoplastic.assemblies.experiments.istdp_fixed_point import istdp_fixed_point

N_QUARTILES = 4
SETTLE_BIN_MS = 1000.0
"""The settle's rate bins (1 s); its segments are whole bins."""


def quartile_of(intact_hz: np.ndarray) -> np.ndarray:
    """Each cell's quartile (0..3) of the intact rates, by rank (ties in cell order): four groups
    of equal size however many cells share a rate."""
    order = np.argsort(np.asarray(intact_hz), kind="stable")
    quartile = np.empty(order.size, dtype=np.int64)
    for k, idx in enumerate(np.array_split(order, N_QUARTILES)):
        quartile[idx] = k
    return quartile


def rate_matched_targets(intact_hz: np.ndarray, kappa: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """iSTDP targets whose fixed point 2 r0 / (kappa + rho) is the intact rate.

    r0_i = r_intact_i * mean over the cell's quartile (of the intact rates) of (kappa + rho) / 2,
    over cells where both are finite; a quartile without any such cell takes the mean of all
    cells, and 1 (no correction) when there is none at all.
    """
    intact = np.asarray(intact_hz, dtype=float)
    half_sum = 0.5 * (np.asarray(kappa, float) + np.asarray(rho, float))
    ok = np.isfinite(half_sum)
    overall = float(half_sum[ok].mean()) if ok.any() else 1.0
    quartile = quartile_of(intact)
    factor = np.array([half_sum[ok & (quartile == k)].mean() if (ok & (quartile == k)).any()
                       else overall for k in range(N_QUARTILES)])
    return intact * factor[quartile]


def rate_over_intact(cell_hz: np.ndarray, intact_hz: np.ndarray,
                     members: np.ndarray | None = None) -> dict[str, float]:
    """The control's E rate over the intact one, over all cells and per quartile of the intact
    rates (``settle_rate_over_intact``, ``..._q1`` the lowest to ``..._q4``): sums over cells, so
    the ratio of the mean rates. Given a mask of the assembly members, also over the members and
    over the other E cells (``..._members``, ``..._others``): the members carry the weights the
    comparison is about, and training left them more inhibition than the control needs."""
    cell = np.asarray(cell_hz, float)
    intact = np.asarray(intact_hz, float)
    groups = {"": np.ones(cell.size, bool)}
    quartile = quartile_of(intact)
    groups.update({f"_q{k + 1}": quartile == k for k in range(N_QUARTILES)})
    if members is not None:
        groups.update({"_members": np.asarray(members, bool), "_others": ~np.asarray(members, bool)})
    return {f"settle_rate_over_intact{name}": float(cell[sel].sum() / max(intact[sel].sum(), 1e-12))
            for name, sel in groups.items()}


def settle_segments(n_bins: int, interval_bins: int) -> list[int]:
    """Segment lengths (bins) of a settle of ``n_bins``: ``interval_bins`` each as long as a segment
    ends before the final quarter (at least one bin, the window the summary reads); the rest is one
    segment with the last targets, so the targets do not change within that window."""
    window = max(1, n_bins // 4)
    head = n_bins - window
    cuts = range(interval_bins, head + 1, interval_bins) if interval_bins > 0 else range(0)
    edges = [0, *cuts, n_bins]
    return [int(b - a) for a, b in pairwise(edges)]


def run_settle(sim: Simulation, intact_hz: np.ndarray, settle_s: float, *, mode: str,
               interval_s: float, tau_y_ms: float, label: str) -> tuple[RunRecord, np.ndarray, int]:
    """Settle the control for ``settle_s`` (a whole number of 1 s bins, or one shorter bin).

    ``mode`` ``intact_rates``: the targets are the intact rates throughout (one run).
    ``rate_matched``: the targets start at the intact rates and are re-set by
    :func:`rate_matched_targets` after every segment of ``interval_s`` (rounded to whole seconds,
    at least 1) before the final quarter. Returns the settle's record (segments joined), the
    targets in effect at its end, and how often they were re-set. A guard stop ends the settle.
    """
    spec = RecordSpec(spikes=True, rate_bin_ms=SETTLE_BIN_MS, weight_interval_s=0.0)
    targets = np.asarray(intact_hz, float).copy()
    sim.set_istdp_target_rates(targets)
    bin_steps = round(SETTLE_BIN_MS / sim.params.dt_ms)
    n_steps = round(settle_s * 1e3 / sim.params.dt_ms)
    n_bins = -(-n_steps // bin_steps)
    if mode == "intact_rates" or n_bins < 2:
        segments = [n_bins]
    elif mode == "rate_matched":
        segments = settle_segments(n_bins, max(1, round(interval_s * 1e3 / SETTLE_BIN_MS)))
    else:
        raise ValueError(f"nonrecurrent_targets = {mode!r}; allowed: rate_matched, intact_rates")
    records: list[RunRecord] = []
    resets, done = 0, 0
    n_exc = targets.size
    for k, bins in enumerate(segments):
        steps = min(bins * bin_steps, n_steps - done)
        rec = sim.run(steps * sim.params.dt_ms * 1e-3, None, spec, progress=None, label=label)
        records.append(rec)
        done += steps
        if rec.status != "completed":
            break
        if k < len(segments) - 1:
            spk_steps, spk_cells = spike_arrays(rec)
            fp = istdp_fixed_point(spk_steps, spk_cells, n_exc, sim.pathways["i_to_e"], targets,
                                   dt_ms=rec.dt_ms, tau_y_ms=tau_y_ms, start_step=rec.start_step,
                                   end_step=rec.start_step + rec.n_steps)
            targets = rate_matched_targets(intact_hz, fp["kappa"], fp["rho"])
            sim.set_istdp_target_rates(targets)
            resets += 1
    return join_records(records), targets, resets


def join_records(records: list[RunRecord]) -> RunRecord:
    """Consecutive runs as one record: counts and spikes concatenated (every run but the last a
    whole number of rate bins), steps done summed; the status is the last run's."""
    first, last = records[0], records[-1]
    done = sum(r.n_steps for r in records[:-1]) + (last.steps_done or last.n_steps)
    return RunRecord(
        start_step=first.start_step, n_steps=sum(r.n_steps for r in records), dt_ms=first.dt_ms,
        rate_bin_steps=first.rate_bin_steps, n_assemblies=first.n_assemblies,
        counts_exc=np.concatenate([r.counts_exc for r in records]),
        counts_inh=np.concatenate([r.counts_inh for r in records]),
        counts_groups=np.concatenate([r.counts_groups for r in records]),
        spike_steps=[s for r in records for s in r.spike_steps],
        spike_cells=[c for r in records for c in r.spike_cells],
        steps_done=done, status=last.status, abort_reason=last.abort_reason,
        wall_seconds=sum(r.wall_seconds for r in records),
    )
