"""Probe stimuli for spike statistics (docs/models/assemblies.md, 6.6; paper Figs. 8 and 9).

Starting from a stage's saved state, the network is driven with weak stimuli to each of several
assemblies in shuffled trials, with plasticity frozen by default, and the trials are analysed with
:mod:`homeoplastic.stats.counts`: Fano factor over time (mean-matched), ROC discriminability of
stimulus against baseline, noise correlations of same- and different-assembly pairs before and
during the stimulus, gain curves and pattern completion.

Trial kinds, all interleaved in one shuffled sequence:

* ``probe``: ``n_trials`` per stimulus at ``rate_hz`` (Fano, AUC, correlations, gain point);
* ``gain``: ``gain_n_trials`` per stimulus and strength in ``gain_rates_hz`` (gain curves);
* ``completion``: ``completion_n_trials`` per stimulus, driving a fixed random half of the
  assembly's members (an extra engine group) at ``completion_rate_hz``.

Every trial is ``gap_s`` of unanalysed time, ``pre_s`` of baseline, ``on_s`` of stimulus and
``post_s`` after it. Entry points: :func:`run_probe` (from a stored state) and
:func:`probe_simulation` (from a live :class:`Simulation`);
:func:`homeoplastic.analysis.probe.probe_summary` reduces a before/after pair to numbers for a
results table.
"""

from __future__ import annotations

import dataclasses
import json
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from homeoplastic.assemblies.params import NetworkParams, ParameterError
from homeoplastic.assemblies.stimulus import StimulusSchedule
from homeoplastic.parameters import check_fields, from_mapping, param
from homeoplastic.stats.counts import (
    CorrelationResult,
    count_correlations,
    fano_factor_mean_matched,
    gain_curve,
    group_rate_hz,
    pair_kinds,
    pattern_completion,
    roc_auc,
    spike_counts,
)
from homeoplastic.store import variable as _var

if TYPE_CHECKING:  # the engine loads the kernels: imported where a probe runs, not for its settings
    from homeoplastic.assemblies.engine import Simulation

EPOCHS = ("before", "during")
COMPLETION_GROUPS = ("stimulated_half", "unstimulated_half", "nonmembers")


@dataclass(frozen=True)
class ProbeSettings:
    """Probe protocol and analysis windows (seconds, Hz). Defaults: docs/models/assemblies.md, 6.6 and 9.

    Paper scale is 10 stimuli x 50 trials at +2 kHz for 0.5 s (docs/models/assemblies.md, 6.6). ``n_stimuli``
    is capped at the network's number of assemblies. Plasticity is frozen as in the paper's
    Methods ("We disabled STDP for these short protocols"). Not from the paper [GUESS]: the baseline and gap
    lengths, the gain strengths and trial counts, the completion strength, the
    100 ms Fano window (docs/models/assemblies.md, 9.2) and the 25 ms step. ``max_record_cells`` bounds the E
    cells whose sliding-window counts are kept and analysed (Fano, AUC, correlations); gain curves and pattern
    completion use every E cell.
    """

    n_stimuli: int = param(10, unit="1", minimum=1, paper=10,
                           description="Assemblies probed (capped at n_assemblies).")
    n_trials: int = param(50, unit="1", minimum=2, paper=50,
                          description="Probe trials per stimulus.")
    rate_hz: float = param(2000.0, unit="Hz", exclusive_minimum=0, paper=2000,
                           description="Added external rate to the members during a probe.")
    on_s: float = param(0.5, unit="s", exclusive_minimum=0, paper=0.5,
                        description="Probe duration.")
    pre_s: float = param(0.5, unit="s", exclusive_minimum=0,
                         description="Baseline before onset [unverified].")
    post_s: float = param(0.5, unit="s", minimum=0, description="Time after offset [unverified].")
    gap_s: float = param(0.5, unit="s", minimum=0,
                         description="Extra gap between trials, so that every baseline window starts "
                                     "post_s + gap_s after the previous stimulus ended (measured at "
                                     "N = 2000: members are back at their pre-stimulus rate 0.25-0.5 s "
                                     "after offset) [unverified].")
    gain_rates_hz: tuple[float, ...] = param((500.0, 1000.0, 4000.0, 8000.0), unit="Hz",
                                             exclusive_minimum=0, min_items=1,
                                             description="Stimulus strengths of the gain curves (rate "
                                                         "added) [unverified].")
    gain_n_trials: int = param(5, unit="1", minimum=0,
                               description="Trials per stimulus and gain strength [unverified].")
    completion_n_trials: int = param(10, unit="1", minimum=0,
                                     description="Pattern-completion trials per stimulus (half the members "
                                                 "stimulated) [unverified].")
    completion_rate_hz: float = param(2000.0, unit="Hz", exclusive_minimum=0,
                                      description="Added rate to the stimulated half [unverified].")
    completion_fraction: float = param(0.5, unit="1", exclusive_minimum=0, exclusive_maximum=1,
                                       description="Fraction of members stimulated in completion trials.")
    freeze_plasticity: bool = param(True,
                                    description="Plasticity off during probes (paper Methods: \"We disabled "
                                                "STDP for these short protocols\").")
    window_s: float = param(0.1, unit="s", exclusive_minimum=0,
                            description="Count window of Fano factor and correlations [unverified; "
                                        "docs/models/assemblies.md, 9.2-9.3].")
    step_s: float = param(0.025, unit="s", exclusive_minimum=0,
                          description="Step of the sliding count window.")
    auc_window_s: float = param(0.2, unit="s", exclusive_minimum=0, paper=0.2,
                                description="Count window of the ROC analysis.")
    max_record_cells: int = param(1000, unit="cells", minimum=2,
                                  description="E cells whose sliding counts are kept (Fano, ROC, "
                                              "correlations).")
    fano_repeats: int = param(10, unit="1", minimum=1,
                              description="Random mean-matching repeats averaged (Churchland et al. 2010).")
    fano_bin_width: float = param(0.25, unit="spikes", exclusive_minimum=0,
                                  description="Width of the mean-count histogram bins used for mean "
                                              "matching.")
    chunk_s: float = param(1.0, unit="s", exclusive_minimum=0, description="Simulated time per kernel call.")

    @property
    def period_s(self) -> float:
        return self.gap_s + self.pre_s + self.on_s + self.post_s

    def __post_init__(self) -> None:
        check_fields(self, "probe")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None, *, where: str = "probe") -> ProbeSettings:
        """Build from a config mapping; unknown keys and bad values raise :class:`ParameterError`."""
        return from_mapping(cls, values, where)

    def validate(self, dt_ms: float) -> None:
        """Check the rules between settings and the time grid; raise :class:`ParameterError`
        naming the first bad setting (each setting's own range is checked when it is built)."""
        def need(ok: bool, name: str, allowed: str) -> None:
            if not ok:
                raise ParameterError(f"probe.{name} = {getattr(self, name)!r} is invalid; "
                                     f"allowed: {allowed}")

        need(self.on_s >= self.window_s, "on_s", f">= window_s = {self.window_s}")
        need(self.pre_s >= max(self.window_s, self.auc_window_s), "pre_s",
             ">= window_s and >= auc_window_s (the baseline windows lie before onset)")
        dt_s = dt_ms * 1e-3
        for name in ("on_s", "pre_s", "post_s", "gap_s", "chunk_s"):
            value = getattr(self, name) / dt_s
            need(abs(value - round(value)) < 1e-6, name, f"a multiple of dt = {dt_ms} ms")


def frozen_params(params: NetworkParams) -> NetworkParams:
    """The same network with every plasticity mechanism off (E->E rule, iSTDP, normalisation)."""
    return params.replace(**{"plasticity.ee_rule": "none", "plasticity.istdp": False,
                             "plasticity.normalisation": False})


def run_probe(
    state: xr.Dataset,
    params: NetworkParams | None,
    settings: ProbeSettings,
    seed: int,
    *,
    checkpoint_path: str | Path | None = None,
    checkpoint_every_s: float | None = None,
    assemblies: Sequence[np.ndarray] | None = None,
) -> xr.Dataset:
    """Probe the network stored in ``state`` (a stage's ``state`` group); see the module doc.

    ``params`` are the run's network parameters (None: those saved with the state); plasticity is
    switched off on top of them when ``settings.freeze_plasticity``. ``seed`` fixes the trial order,
    the completion halves, the recorded cells and the mean matching; the network's own noise
    continues from the state's generator, so equal inputs give identical outputs. With
    ``checkpoint_path`` the probe run saves itself every ``checkpoint_every_s`` simulated seconds
    and a rerun resumes from there, with the result of an uninterrupted probe. ``assemblies``:
    the E-cell sets to stimulate instead of the network's own assemblies (the remap stage's new
    set, probed before and after its training as in the paper's Figs. 8 and 9).
    """
    from homeoplastic.assemblies.engine import Simulation

    sim = Simulation.from_state_dataset(state, params)
    return probe_simulation(sim, settings, seed, checkpoint_path=checkpoint_path,
                            checkpoint_every_s=checkpoint_every_s, assemblies=assemblies)


def probe_simulation(sim: Simulation, settings: ProbeSettings, seed: int, *,
                     checkpoint_path: str | Path | None = None,
                     checkpoint_every_s: float | None = None,
                     assemblies: Sequence[np.ndarray] | None = None) -> xr.Dataset:
    """Run the probe protocol on ``sim`` (advancing it) and return the analysed dataset
    (checkpointed and with ``assemblies`` as in :func:`run_probe`)."""
    from homeoplastic.assemblies.engine import RecordSpec
    from homeoplastic.assemblies.output import spike_arrays

    p = sim.params
    settings.validate(p.dt_ms)
    if settings.freeze_plasticity:
        sim.set_params(frozen_params(p))
    n_exc = p.connectivity.n_exc
    if assemblies is None:
        sets = [sim.assembly_members(a) for a in range(sim.n_assemblies)]
        targets = None  # the network's assemblies are its first groups
    else:
        sets = [np.asarray(cells, dtype=np.int64) for cells in assemblies]
        if any(cells.size == 0 for cells in sets):
            raise ParameterError("probe: an assembly to stimulate has no cells")
        targets = np.array([sim.add_group(cells) for cells in sets], dtype=np.int64)
    n_asm = len(sets)
    if n_asm < 1:
        raise ParameterError("probe: the network has no assemblies to stimulate")
    rng = np.random.default_rng([int(seed), 7])
    stimuli = np.arange(min(settings.n_stimuli, n_asm))
    membership = np.zeros((n_exc, n_asm), dtype=bool)
    for a, cells in enumerate(sets):
        membership[cells, a] = True
    halves = np.zeros((n_exc, stimuli.size), dtype=bool)
    half_group = np.zeros(stimuli.size, dtype=np.int64)
    for k, a in enumerate(stimuli):
        members = np.flatnonzero(membership[:, a])
        if settings.completion_n_trials:
            n_half = int(round(settings.completion_fraction * members.size))
            chosen = np.sort(rng.choice(members, size=n_half, replace=False))
            halves[chosen, k] = True
            half_group[k] = sim.add_group(chosen)
    table = trial_table(settings, stimuli, half_group, rng, p.dt_ms,
                        groups=None if targets is None else targets[stimuli])
    schedule = StimulusSchedule(table["group"], table["onset_s"], table["onset_s"] + settings.on_s,
                                table["strength_hz"])
    duration_s = table["onset_s"].size * settings.period_s
    duration_s = round(duration_s / (p.dt_ms * 1e-3)) * p.dt_ms * 1e-3
    if n_exc > settings.max_record_cells:
        recorded = np.sort(rng.choice(n_exc, size=settings.max_record_cells, replace=False))
    else:
        recorded = np.arange(n_exc)
    ee_before = sim.pathways["e_to_e"].weight_pf.copy()
    ie_before = sim.pathways["i_to_e"].weight_pf.copy()
    wall0 = time.perf_counter()
    rec = sim.run(duration_s, schedule,
                  RecordSpec(spikes=True, rate_bin_ms=10.0, weight_interval_s=0.0,
                             chunk_s=settings.chunk_s),
                  progress=None, label="probe", checkpoint_path=checkpoint_path,
                  checkpoint_every_s=checkpoint_every_s, stale_checkpoint="restart")
    wall = time.perf_counter() - wall0
    dt_s = p.dt_ms * 1e-3
    steps, cells = spike_arrays(rec)
    is_exc = cells < n_exc
    times_s = (steps[is_exc] - rec.start_step) * dt_s
    done_s = rec.steps_done * dt_s
    table["complete"] = table["onset_s"] + settings.on_s + settings.post_s <= done_s + 1e-9
    ds = probe_dataset(times_s, cells[is_exc], table=table, membership=membership, halves=halves,
                       stimuli=stimuli, recorded=recorded, settings=settings,
                       rng=np.random.default_rng([int(seed), 8]))
    ds["trial_onset_s"] = ds["trial_onset_s"] + rec.start_step * dt_s
    ds["trial_onset_s"].attrs.update(units="s", long_name="stimulus onset (simulation clock)")
    change = max(float(np.abs(sim.pathways["e_to_e"].weight_pf - ee_before).max(initial=0.0)),
                 float(np.abs(sim.pathways["i_to_e"].weight_pf - ie_before).max(initial=0.0)))
    ds.attrs.update(
        status=rec.status,
        abort_reason_json=json.dumps(rec.abort_reason),
        run_start_s=rec.start_step * dt_s,
        run_end_s=(rec.start_step + rec.steps_done) * dt_s,
        sim_seconds=done_s,
        wall_seconds=wall,
        dt_ms=p.dt_ms,
        n_exc=n_exc,
        n_neurons=p.connectivity.n_neurons,
        seed=int(seed),
        freeze_plasticity=bool(settings.freeze_plasticity),
        max_weight_change_pf=change,
        settings_json=json.dumps(dataclasses.asdict(settings), sort_keys=True),
    )
    return ds


def trial_table(
    settings: ProbeSettings,
    stimuli: np.ndarray,
    half_group: np.ndarray,
    rng: np.random.Generator,
    dt_ms: float,
    groups: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """All trials in shuffled order: kind, stimulus, engine group, strength, onset (run time, s).

    ``groups``: the engine group that stimulates each stimulus (default: the stimulus index,
    the network's own assemblies being its first groups)."""
    kind, stim, group, strength = [], [], [], []
    for k, a in enumerate(stimuli):
        g_a = int(a) if groups is None else int(groups[k])
        rows = [("probe", g_a, settings.rate_hz)] * settings.n_trials
        for r in settings.gain_rates_hz:
            rows += [("gain", g_a, float(r))] * settings.gain_n_trials
        rows += [("completion", int(half_group[k]), settings.completion_rate_hz)] \
            * settings.completion_n_trials
        for kd, g, s in rows:
            kind.append(kd)
            stim.append(int(a))
            group.append(g)
            strength.append(s)
    order = rng.permutation(len(kind))
    dt_s = dt_ms * 1e-3
    onset = np.arange(len(kind)) * settings.period_s + settings.gap_s + settings.pre_s
    onset = np.round(onset / dt_s) * dt_s
    return {
        "kind": np.array(kind)[order],
        "stimulus": np.array(stim, dtype=np.int64)[order],
        "group": np.array(group, dtype=np.int64)[order],
        "strength_hz": np.array(strength, dtype=float)[order],
        "onset_s": onset,
    }


def probe_dataset(
    times_s: np.ndarray,
    cells: np.ndarray,
    *,
    table: dict[str, np.ndarray],
    membership: np.ndarray,
    halves: np.ndarray,
    stimuli: np.ndarray,
    recorded: np.ndarray,
    settings: ProbeSettings,
    rng: np.random.Generator,
) -> xr.Dataset:
    """Counts and statistics of a probe run from its E spikes (times in run time, seconds).

    Raises ValueError when a trial's baseline (``pre_s`` before its onset) overlaps the previous
    trial's stimulus: its "spontaneous" windows would hold evoked spikes.
    """
    s = settings
    n_exc = membership.shape[0]
    ok = table["complete"] if "complete" in table else np.ones(table["onset_s"].size, bool)
    onset = table["onset_s"]
    clear_s = baseline_clearance(onset, s.pre_s, s.on_s)
    if clear_s < -1e-9:
        raise ValueError(f"probe: a baseline window starts {-clear_s:.3f} s before the previous "
                         "stimulus ends; the baselines must lie clear of the stimuli")
    kind = table["kind"]
    stim = table["stimulus"]
    pos = {int(a): k for k, a in enumerate(stimuli)}
    span = s.pre_s + s.on_s + s.post_s
    counts = spike_counts(times_s, cells, n_exc, onset - s.pre_s, s.window_s, s.step_s,
                          duration_s=span, cells=recorded, dtype=np.int16)
    n_win = counts.shape[2]
    centre = -s.pre_s + s.window_s / 2 + s.step_s * np.arange(n_win)
    rec_member = membership[recorded]
    probe = [np.flatnonzero((kind == "probe") & (stim == a) & ok) for a in stimuli]
    n_per = min(len(t) for t in probe)

    # Fano factor: units are (recorded cell, stimulus) pairs over the probe trials; all cells,
    # and only members of the stimulated assembly (where a weakly coupled network still responds)
    def fano_of(select) -> tuple:
        parts = [counts[t[:n_per]][:, select(k)] for k, t in enumerate(probe)]
        stacked = np.concatenate(parts, axis=1) if n_per >= 2 else np.zeros((0, 0, n_win))
        if stacked.shape[0] < 2 or stacked.shape[1] < 2:
            nan = np.full(n_win, np.nan)
            return nan, np.full((n_win, 2), np.nan), nan, np.full((n_win, 2), np.nan), nan, \
                float("nan")
        f = fano_factor_mean_matched(stacked, bin_width=s.fano_bin_width,
                                     n_repeats=s.fano_repeats, rng=rng,
                                     weight_floor=1.0 * s.window_s)
        return (f.mean_matched, f.mean_matched_ci95, f.raw, f.raw_ci95, f.mean_count,
                f.fraction_kept)

    fano_vals = fano_of(lambda k: slice(None))
    fano_mem = fano_of(lambda k: rec_member[:, stimuli[k]])

    # rates of the stimulated assembly's recorded members and of the rest, per window
    rate_in = np.full((stimuli.size, n_win), np.nan)
    rate_out = np.full((stimuli.size, n_win), np.nan)
    for k, a in enumerate(stimuli):
        if probe[k].size:
            mean_counts = counts[probe[k]].mean(axis=0)  # (cell, window)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                rate_in[k] = mean_counts[rec_member[:, a]].mean(axis=0) / s.window_s
                rate_out[k] = mean_counts[~rec_member[:, a]].mean(axis=0) / s.window_s

    # ROC: counts in auc windows against the window just before onset, same trials
    auc_counts = spike_counts(times_s, cells, n_exc, onset - s.pre_s, s.auc_window_s, s.step_s,
                              duration_s=span, cells=recorded, dtype=np.int16)
    n_auc = auc_counts.shape[2]
    auc_centre = -s.pre_s + s.auc_window_s / 2 + s.step_s * np.arange(n_auc)
    base = spike_counts(times_s, cells, n_exc, onset - s.auc_window_s, s.auc_window_s,
                        s.auc_window_s, duration_s=s.auc_window_s, cells=recorded)
    auc_mem = np.full((stimuli.size, n_auc), np.nan)
    auc_non = np.full((stimuli.size, n_auc), np.nan)
    auc_pop = np.full((stimuli.size, n_auc), np.nan)
    for k, a in enumerate(stimuli):
        t = probe[k]
        if t.size == 0:
            continue
        a_counts = auc_counts[t]
        b_counts = np.broadcast_to(base[t], a_counts.shape)
        per_cell = roc_auc(a_counts, b_counts)  # (cell, time)
        mem = rec_member[:, a]
        if mem.any():
            auc_mem[k] = per_cell[mem].mean(axis=0)
            auc_pop[k] = roc_auc(a_counts[:, mem].sum(axis=1), b_counts[:, mem].sum(axis=1))
        if (~mem).any():
            auc_non[k] = per_cell[~mem].mean(axis=0)

    # noise correlations before and during the stimulus (probe trials, recorded cells)
    all_probe = np.concatenate(probe)
    before = spike_counts(times_s, cells, n_exc, onset[all_probe] - s.window_s, s.window_s,
                          s.window_s, duration_s=s.window_s, cells=recorded)
    mid = s.on_s / 2 - s.window_s / 2
    during = spike_counts(times_s, cells, n_exc, onset[all_probe] + mid, s.window_s, s.window_s,
                          duration_s=s.window_s, cells=recorded)
    if all_probe.size >= 2:
        corr = count_correlations(np.concatenate([before, during], axis=2), rec_member,
                                  stimulus=stim[all_probe])
    else:
        nan = np.full(len(EPOCHS), np.nan)
        corr = CorrelationResult(nan, nan, nan, np.zeros(len(EPOCHS), np.int64),
                                 np.zeros(len(EPOCHS), np.int64))

    # pairs within the stimulated assembly only (Fig. 9c: "suppressed when the assembly was
    # stimulated"), per stimulus from its probe trials, averaged over the non-overlapping windows
    # of the baseline and of the stimulus after its first window (the onset transient)
    corr_stim, n_stim_pairs = stimulated_pair_correlations(
        times_s, cells, n_exc, onset, probe, stimuli, rec_member, recorded, s)

    # gain curves and pattern completion use every E cell: one window per trial
    resp = spike_counts(times_s, cells, n_exc, onset, s.on_s, s.on_s, duration_s=s.on_s)[:, :, 0]
    pre = spike_counts(times_s, cells, n_exc, onset - s.pre_s, s.pre_s, s.pre_s,
                       duration_s=s.pre_s)[:, :, 0]
    member_of_trial = membership[:, stim].T  # (trial, cell)
    g_trials = np.flatnonzero(((kind == "probe") | (kind == "gain")) & ok)
    levels, g_in, g_out = gain_curve(resp[g_trials], s.on_s, table["strength_hz"][g_trials],
                                     member_of_trial[g_trials])
    levels = np.concatenate([[0.0], levels])
    g_in = np.concatenate([[group_rate_hz(pre[g_trials], member_of_trial[g_trials], s.pre_s)],
                           g_in])
    g_out = np.concatenate([[group_rate_hz(pre[g_trials], ~member_of_trial[g_trials], s.pre_s)],
                            g_out])
    comp_rates = np.full((stimuli.size, len(COMPLETION_GROUPS), len(EPOCHS)), np.nan)
    comp_index = np.full(stimuli.size, np.nan)
    comp_evoked = np.full(stimuli.size, np.nan)
    c_all = np.flatnonzero((kind == "completion") & ok)
    half_of_trial = halves[:, [pos[int(a)] for a in stim]].T if stim.size else \
        np.zeros((0, n_exc), bool)
    masks_all = (half_of_trial, member_of_trial & ~half_of_trial, ~member_of_trial)
    for k, a in enumerate(stimuli):
        t = c_all[stim[c_all] == a]
        if t.size == 0:
            continue
        res = pattern_completion(resp[t], s.on_s, *[m[t] for m in masks_all],
                                 baseline_counts=pre[t], baseline_window_s=s.pre_s)
        comp_index[k], comp_evoked[k] = res.index, res.evoked_index
        comp_rates[k, :, 1] = (res.rate_stimulated_hz, res.rate_unstimulated_hz,
                               res.rate_nonmember_hz)
        comp_rates[k, :, 0] = (res.baseline_stimulated_hz, res.baseline_unstimulated_hz,
                               res.baseline_nonmember_hz)
    if c_all.size:
        pooled = pattern_completion(resp[c_all], s.on_s, *[m[c_all] for m in masks_all],
                                    baseline_counts=pre[c_all], baseline_window_s=s.pre_s)
        pooled_index, pooled_evoked = pooled.index, pooled.evoked_index
    else:
        pooled_index = pooled_evoked = float("nan")

    n_trials = onset.size
    ds = xr.Dataset(
        data_vars={
            "counts": _var(("trial", "cell", "window_time"), counts, "spikes",
                           f"spike count in a {s.window_s * 1000:g} ms window"),
            "trial_kind": _var("trial", kind.astype(str), "1",
                               "trial kind (probe, gain, completion)"),
            "trial_stimulus": _var("trial", stim, "1", "assembly stimulated in the trial"),
            "trial_strength_hz": _var("trial", table["strength_hz"], "Hz",
                                      "external rate added to the stimulated cells"),
            "trial_onset_s": _var("trial", onset, "s", "stimulus onset (run time)"),
            "trial_group": _var("trial", table["group"], "1", "engine group driven in the trial"),
            "trial_complete": _var("trial", ok, "1", "trial ran to its end (run not aborted)"),
            "membership": _var(("exc_cell", "assembly"), membership, "1",
                               "E cell belongs to the assembly"),
            "stimulated_half": _var(("exc_cell", "stimulus"), halves, "1",
                                    "E cell is in the half driven in completion trials"),
            "fano_mean_matched": _var("window_time", fano_vals[0], "1",
                                      "mean-matched Fano factor"),
            "fano_mean_matched_ci95": _var(("window_time", "bound"), fano_vals[1], "1",
                                           "95% interval of the mean-matched Fano factor"),
            "fano_raw": _var("window_time", fano_vals[2], "1", "Fano factor, all points"),
            "fano_raw_ci95": _var(("window_time", "bound"), fano_vals[3], "1",
                                  "95% interval of the raw Fano factor"),
            "fano_mean_count": _var("window_time", fano_vals[4], "spikes",
                                    "mean count of all cell-stimulus points"),
            "fano_fraction_kept": _var((), fano_vals[5], "1",
                                       "share of cell-stimulus points kept by mean matching"),
            "fano_members_mean_matched": _var("window_time", fano_mem[0], "1",
                                              "mean-matched Fano factor, stimulated members"),
            "fano_members_raw": _var("window_time", fano_mem[2], "1",
                                     "Fano factor, stimulated members, all points"),
            "fano_members_mean_count": _var("window_time", fano_mem[4], "spikes",
                                            "mean count of stimulated members"),
            "rate_members_hz": _var(("stimulus", "window_time"), rate_in, "Hz",
                                    "rate of recorded members of the stimulated assembly"),
            "rate_nonmembers_hz": _var(("stimulus", "window_time"), rate_out, "Hz",
                                       "rate of recorded cells outside the stimulated assembly"),
            "auc_members": _var(("stimulus", "auc_time"), auc_mem, "1",
                                "ROC area, stimulus vs baseline, mean over member cells"),
            "auc_nonmembers": _var(("stimulus", "auc_time"), auc_non, "1",
                                   "ROC area, stimulus vs baseline, mean over non-member cells"),
            "auc_population": _var(("stimulus", "auc_time"), auc_pop, "1",
                                   "ROC area, stimulus vs baseline, summed member counts"),
            "corr_same": _var("epoch", corr.same, "1",
                              "noise correlation, pairs sharing an assembly"),
            "corr_different": _var("epoch", corr.different, "1",
                                   "noise correlation, member pairs sharing no assembly"),
            "corr_all": _var("epoch", corr.all_pairs, "1", "noise correlation, all pairs"),
            "corr_n_same_pairs": _var("epoch", corr.n_same, "pairs",
                                      "same-assembly pairs in the mean"),
            "corr_n_different_pairs": _var("epoch", corr.n_different, "pairs",
                                           "different-assembly pairs in the mean"),
            "corr_stimulated": _var(("stimulus", "epoch"), corr_stim, "1",
                                    "noise correlation, pairs within the stimulated assembly "
                                    "(baseline / stimulus after its first window, "
                                    "non-overlapping windows pooled)"),
            "corr_n_stimulated_pairs": _var(("stimulus", "epoch"), n_stim_pairs, "pairs",
                                            "pairs x windows within the stimulated assembly in "
                                            "the mean"),
            "gain_rate_members_hz": _var("strength", g_in, "Hz",
                                         "rate of stimulated-assembly members during stimulus"),
            "gain_rate_nonmembers_hz": _var("strength", g_out, "Hz",
                                            "rate of other E cells during stimulus"),
            "completion_rate_hz": _var(("stimulus", "completion_group", "epoch"), comp_rates, "Hz",
                                       "rate in completion trials"),
            "completion_index": _var("stimulus", comp_index, "1",
                                     "(r_unstimulated - r_nonmembers) / (r_stimulated - "
                                     "r_nonmembers)"),
            "completion_index_pooled": _var((), pooled_index, "1",
                                            "completion index pooled over stimuli"),
            "completion_evoked_index": _var("stimulus", comp_evoked, "1",
                                            "completion index of rate changes from baseline"),
            "completion_evoked_index_pooled": _var((), pooled_evoked, "1",
                                                   "evoked completion index pooled over stimuli"),
        },
        coords={
            "trial": _var("trial", np.arange(n_trials), "1", "trial in presentation order"),
            "cell": _var("cell", recorded, "1", "recorded E cell index"),
            "window_time": _var("window_time", centre, "s",
                                f"centre of the {s.window_s * 1000:g} ms window from onset",
                                time_reference="relative", comment="seconds from stimulus onset"),
            "auc_time": _var("auc_time", auc_centre, "s",
                             f"centre of the {s.auc_window_s * 1000:g} ms window from onset",
                             time_reference="relative", comment="seconds from stimulus onset"),
            "stimulus": _var("stimulus", stimuli, "1", "stimulated assembly"),
            "exc_cell": _var("exc_cell", np.arange(n_exc), "1", "E cell index"),
            "assembly": _var("assembly", np.arange(membership.shape[1]), "1", "assembly index"),
            "strength": _var("strength", levels, "Hz",
                             "stimulus strength (0: pre-stimulus baseline)"),
            "epoch": _var("epoch", np.array(EPOCHS), "1",
                          "before: window ending at onset; during: window centred in stimulus"),
            "completion_group": _var("completion_group", np.array(COMPLETION_GROUPS), "1",
                                     "cells in completion trials"),
            "bound": _var("bound", np.array(["low", "high"]), "1", "interval bound"),
        },
    )
    same_pairs, different_pairs = (int(np.triu(m, k=1).sum()) for m in pair_kinds(rec_member))
    ds.attrs.update(window_s=s.window_s, step_s=s.step_s, auc_window_s=s.auc_window_s,
                    on_s=s.on_s, pre_s=s.pre_s, post_s=s.post_s, gap_s=s.gap_s, rate_hz=s.rate_hz,
                    n_recorded_cells=int(recorded.size), n_stimuli=int(stimuli.size),
                    n_probe_trials=int(all_probe.size), n_probe_trials_per_stimulus=int(n_per),
                    n_same_pairs_possible=same_pairs, n_different_pairs_possible=different_pairs)
    if np.isfinite(clear_s):  # one trial: no stimulus before its baseline
        ds.attrs["baseline_clear_s"] = clear_s
    return ds


def stimulated_pair_correlations(
    times_s: np.ndarray,
    cells: np.ndarray,
    n_exc: int,
    onset: np.ndarray,
    probe: list[np.ndarray],
    stimuli: np.ndarray,
    rec_member: np.ndarray,
    recorded: np.ndarray,
    s: ProbeSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """(stimulus, epoch) mean noise correlation of pairs within the stimulated assembly, and the
    pairs in it (summed over windows).

    Epoch ``before``: the ``window_s`` windows tiling the baseline [-pre_s, 0); ``during``: those
    tiling [window_s, on_s) (the onset window's transient left out). Each window's correlation is
    taken across that stimulus's probe trials; windows are pooled weighted by their pairs (a pair
    with a silent cell enters no mean). Several windows per trial give the estimate several
    times the samples of one window at no extra simulated time.
    """
    n_before = int(round(s.pre_s / s.window_s + 1e-9))
    n_during = int(round((s.on_s - s.window_s) / s.window_s + 1e-9))
    corr = np.full((stimuli.size, len(EPOCHS)), np.nan)
    n_pairs = np.zeros((stimuli.size, len(EPOCHS)), np.int64)
    for k, a in enumerate(stimuli):
        t = probe[k]
        if t.size < 2:
            continue
        for e, (start, n_win) in enumerate(((-n_before * s.window_s, n_before),
                                            (s.window_s, n_during))):
            if n_win < 1:
                continue
            x = spike_counts(times_s, cells, n_exc, onset[t] + start, s.window_s, s.window_s,
                             duration_s=n_win * s.window_s, cells=recorded)
            res = count_correlations(x, rec_member[:, a])
            n = res.n_same.astype(float)
            if n.sum() > 0:
                corr[k, e] = float(np.nansum(res.same * n) / n.sum())
            n_pairs[k, e] = int(n.sum())
    return corr, n_pairs


def baseline_clearance(onset_s: np.ndarray, pre_s: float, on_s: float) -> float:
    """Shortest time (s) from a stimulus's end to the start of the next trial's baseline
    (``pre_s`` before its onset); negative when a baseline overlaps a stimulus, inf for one trial.

    The correlation and ROC baselines end at onset; the Fano baseline is the whole ``pre_s``.
    """
    t = np.sort(np.asarray(onset_s, dtype=float))
    if t.size < 2:
        return float("inf")
    return float(np.min((t[1:] - pre_s) - (t[:-1] + on_s)))
