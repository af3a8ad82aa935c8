"""The chunked engine: a compiled kernel advances the network; Python records, reports, saves.

``Simulation.build(params, seed)`` draws the network; ``Simulation.run(duration_s, ...)`` advances it
in chunks (one kernel call each), fills a :class:`RunRecord` between chunks (binned rates, assembly
weight matrices, spikes), shows progress on a terminal, and writes checkpoints from which an
interrupted run resumes bit-identically. A run guard stops a run whose smoothed E rate leaves its
band; the record then says why, and the run still ends normally.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from homeoplastic import __version__
from homeoplastic.assemblies import kernels
from homeoplastic.assemblies.connectivity import Pathway, build_pathway, groups_to_csr
from homeoplastic.assemblies.kernels import KernelConstants, LazyLtp, NeuronState, RuleState
from homeoplastic.assemblies.network import (
    PATHWAYS,
    build_assemblies,
    build_pathways,
    calcium_weight_range,
    cell_groups,
    initial_state,
    membership_patterns,
    poisson_tables,
    scaled_weights,
    seed_streams,
)
from homeoplastic.assemblies.params import NetworkParams, ParameterError, steps_of, steps_of_seconds
from homeoplastic.assemblies.stimulus import StimulusSchedule

PROGRESS_LOG_WALL_S = 60.0
"""Without a terminal (a Snakemake log, a batch job), a run with ``progress=None`` prints a
progress line at most this often (wall seconds), besides one per checkpoint."""

STATUS_NAMES = {
    kernels.STATUS_DONE: "completed",
    kernels.STATUS_GUARD: "aborted",
    kernels.STATUS_NONFINITE: "nonfinite",
}


@dataclass(frozen=True)
class RecordSpec:
    """What a run records. Intervals must be multiples of dt."""

    spikes: bool = True
    rate_bin_ms: float = 10.0
    weight_interval_s: float = 1.0
    chunk_s: float = 1.0

    def validate(self, dt_ms: float) -> None:
        steps_of(self.rate_bin_ms, dt_ms, "record.rate_bin_ms")
        if self.rate_bin_ms <= 0:
            raise ParameterError(f"record.rate_bin_ms = {self.rate_bin_ms} is invalid; allowed: > 0")
        if self.weight_interval_s < 0:
            raise ParameterError(
                f"record.weight_interval_s = {self.weight_interval_s} is invalid; allowed: >= 0 "
                "(0 records only the start and the end)"
            )
        steps_of_seconds(self.weight_interval_s, dt_ms, "record.weight_interval_s")
        if self.chunk_s <= 0:
            raise ParameterError(f"record.chunk_s = {self.chunk_s} is invalid; allowed: > 0")
        steps_of_seconds(self.chunk_s, dt_ms, "record.chunk_s")


@dataclass
class RunRecord:
    """Everything recorded during one call of :meth:`Simulation.run` (absolute steps)."""

    start_step: int
    n_steps: int
    dt_ms: float
    rate_bin_steps: int
    n_assemblies: int
    counts_exc: np.ndarray
    counts_inh: np.ndarray
    counts_groups: np.ndarray  # (bin, assembly + outside)
    spike_steps: list[np.ndarray] = field(default_factory=list)
    spike_cells: list[np.ndarray] = field(default_factory=list)
    snap_steps: list[int] = field(default_factory=list)
    snap_w_groups: list[np.ndarray] = field(default_factory=list)
    snap_w_within: list[float] = field(default_factory=list)
    snap_w_between: list[float] = field(default_factory=list)
    snap_w_ie_groups: list[np.ndarray] = field(default_factory=list)
    steps_done: int = 0
    status: str = "running"
    abort_reason: dict[str, Any] = field(default_factory=dict)
    wall_seconds: float = 0.0


class Simulation:
    """The network's structure and complete dynamic state."""

    def __init__(
        self,
        params: NetworkParams,
        seed: int,
        pathways: dict[str, Pathway],
        group_ptr: np.ndarray,
        group_members: np.ndarray,
        neurons: NeuronState,
        rng_state: np.ndarray,
        clock: np.ndarray,
        guard: np.ndarray,
        rule_state: RuleState | None = None,
        lazy_ltp: LazyLtp | None = None,
    ) -> None:
        self.params = params
        self.seed = int(seed)
        self.pathways = pathways
        self.group_ptr = np.ascontiguousarray(group_ptr, dtype=np.int64)
        self.group_members = np.ascontiguousarray(group_members, dtype=np.int32)
        self.neurons = neurons
        self.rng_state = rng_state
        self.clock = clock
        self.guard = guard
        self.n_assemblies = params.assemblies.n_assemblies
        n_ee = pathways["e_to_e"].weight_pf.size
        if rule_state is None or not kernels.rule_state_fits(rule_state, params, n_ee):
            rule_state = kernels.new_rule_state(params, n_ee, int(clock[0]))
        self.rule_state = rule_state
        self.profile_cycles = np.zeros(0, dtype=np.uint64)
        """Cycles per kernel phase (kernels.PHASES), accumulated when sized len(PHASES)."""
        self.kernel_seconds = 0.0
        """Wall seconds spent inside kernel calls (the rest of a run is recording)."""
        self.lazy_ltp = lazy_ltp if lazy_ltp is not None and self._lazy_fits(lazy_ltp) else \
            self._new_lazy_ltp()
        self._derive()

    # ------------------------------------------------------------------ construction
    @classmethod
    def build(cls, params: NetworkParams, seed: int) -> Simulation:
        """Draw connectivity, assemblies and initial state from ``seed``."""
        streams = seed_streams(seed)
        pathways = build_pathways(params, seed)
        group_ptr, members = build_assemblies(params, seed)
        neurons = initial_state(params, seed, pathways["e_to_e"])
        rng_state = streams["engine"].generate_state(1, dtype=np.uint64)
        clock = np.zeros(2, dtype=np.int64)
        g = params.guard
        guard = np.array([0.5 * (g.rate_min_hz + g.rate_max_hz)])
        return cls(params, seed, pathways, group_ptr, members, neurons, rng_state, clock, guard)

    def _derive(self) -> None:
        """Indices derived from the structure (rebuilt, never stored)."""
        n_exc = self.params.connectivity.n_exc
        n_asm = self.n_assemblies
        self.cell_group_ptr, self.cell_group_ids = cell_groups(
            n_exc, self.group_ptr[: n_asm + 1], self.group_members[: self.group_ptr[n_asm]], n_asm
        )
        # the snapshot's sums by (post pattern, pre pattern) of assembly membership, and the
        # structural counts of its means (weights of 1: exact integers)
        self.cell_pattern, self.pattern_membership, self.pattern_disjoint = membership_patterns(
            self.cell_group_ptr, self.cell_group_ids, n_asm + 1, n_asm)
        n_pat = self.pattern_membership.shape[0]
        self._pattern_sums = np.zeros((n_pat, n_pat))
        self._snapshot_counts = None  # (group-pair counts, count sharing no assembly), on first use
        self._ltp_scratch = np.zeros(max(n_exc, 1), dtype=np.int32)
        self._kicks = np.zeros(self.params.connectivity.n_neurons, dtype=np.int64)

    def _norm_steps(self) -> int:
        p = self.params
        return steps_of(p.plasticity.normalisation_interval_ms, p.dt_ms,
                        "plasticity.normalisation_interval_ms")

    def _new_lazy_ltp(self) -> LazyLtp:
        return kernels.new_lazy_ltp(self.params.connectivity.n_exc, self._norm_steps(),
                                    int(self.clock[0]))

    def _lazy_fits(self, lz: LazyLtp) -> bool:
        return lz.hist.shape == (self.params.connectivity.n_exc, self._norm_steps() + 1)

    def _flush_ltp(self) -> None:
        """Apply the deferred voltage LTP to the E->E weights and start a new epoch now."""
        ee = self.pathways["e_to_e"]
        if not self._lazy_fits(self.lazy_ltp):
            # normalisation interval changed between runs: nothing is pending after a run
            self.lazy_ltp = self._new_lazy_ltp()
        kernels.ltp_flush_and_restart(ee.post_ptr, ee.pre_idx, ee.weight_pf, self.lazy_ltp,
                                      self.neurons.x_trace, scaled_weights(self.params)
                                      ["e_to_e_max"], int(self.clock[0]))

    def current_ee_weights(self) -> np.ndarray:
        """E->E weights with the deferred LTP applied (a copy; the state is not changed)."""
        ee = self.pathways["e_to_e"]
        out = np.empty_like(ee.weight_pf)
        kernels.ltp_materialise(ee.post_ptr, ee.pre_idx, ee.weight_pf, self.lazy_ltp,
                                scaled_weights(self.params)["e_to_e_max"], out)
        return out

    @property
    def n_groups(self) -> int:
        return self.group_ptr.size - 1

    @property
    def time_s(self) -> float:
        return float(self.clock[0]) * self.params.dt_ms * 1e-3

    def add_group(self, members: np.ndarray) -> int:
        """Add a stimulus target group of E cells; returns its index."""
        members = np.unique(np.asarray(members, dtype=np.int32))
        if members.size and (members.min() < 0 or members.max() >= self.params.connectivity.n_exc):
            raise ParameterError("group members must be E-cell indices 0..n_exc-1")
        groups = [self.group_members[self.group_ptr[g]:self.group_ptr[g + 1]]
                  for g in range(self.n_groups)] + [members]
        self.group_ptr, self.group_members = groups_to_csr(groups)
        return self.n_groups - 1

    def track_groups(self, n_groups: int) -> None:
        """Record rates and weights for the first ``n_groups`` groups (default: the assemblies).

        Remapping adds a new stimulus set as extra groups and tracks old and new together.
        """
        if not 0 <= n_groups <= self.n_groups:
            raise ParameterError(f"track_groups: n_groups = {n_groups}; allowed 0..{self.n_groups}")
        self.n_assemblies = int(n_groups)
        self._derive()

    def assembly_members(self, index: int) -> np.ndarray:
        return self.group_members[self.group_ptr[index]:self.group_ptr[index + 1]].copy()

    def set_istdp_target_rates(self, rates_hz: np.ndarray | float) -> None:
        """Per-E-cell iSTDP target rates (the non-recurrent control sets measured rates)."""
        rates = np.broadcast_to(np.asarray(rates_hz, dtype=float), (self.params.connectivity.n_exc,))
        if np.any(rates < 0) or not np.all(np.isfinite(rates)):
            raise ParameterError("istdp target rates must be finite and >= 0 Hz")
        self.neurons.istdp_alpha[:] = 2.0 * rates * 1e-3 * self.params.istdp.tau_y_ms

    def set_params(self, params: NetworkParams) -> None:
        """Switch parameters between runs (e.g. block E->E transmission, change the drive).

        Structure-defining values (sizes, connectivity, assemblies, seed) must not change. Base
        external rates are reset to the new values; any stimulus is off between runs.
        """
        old, new = self.params, params
        if old.connectivity != new.connectivity or old.assemblies != new.assemblies:
            raise ParameterError("set_params cannot change connectivity or assemblies")
        if old.dt_ms != new.dt_ms:
            raise ParameterError("set_params cannot change dt_ms within a simulation")
        self.params = new
        if (old.plasticity.ee_rule != new.plasticity.ee_rule or old.calcium != new.calcium
                or not kernels.rule_state_fits(self.rule_state, new, self.pathways["e_to_e"]
                                               .weight_pf.size)):
            # a rule starts afresh when switched on (its state did not evolve while it was off)
            self.rule_state = kernels.new_rule_state(
                new, self.pathways["e_to_e"].weight_pf.size, int(self.clock[0]))
        self._restore_base_drive()

    def _restore_base_drive(self) -> None:
        """Set every cell's external rate and its Poisson table to the base drive of ``params``."""
        p = self.params
        n_exc = p.connectivity.n_exc
        self.neurons.ext_rate_hz[:n_exc] = p.external.rate_to_e_hz
        self.neurons.ext_rate_hz[n_exc:] = p.external.rate_to_i_hz
        self.neurons.ext_cdf[:] = poisson_tables(self.neurons.ext_rate_hz, p.dt_ms * 1e-3)

    # ------------------------------------------------------------------ kernel inputs
    def constants(self, *, run_start_step: int) -> KernelConstants:
        p = self.params
        e, i, s, v, ist = p.exc, p.inh, p.synapses, p.vstdp, p.istdp
        w = scaled_weights(p)
        speed = p.plasticity.learning_speed * p.connectivity.weight_scale
        c = p.connectivity
        return KernelConstants(
            n_exc=c.n_exc, n_inh=c.n_inh, dt_ms=p.dt_ms,
            e_tau_m_ms=e.tau_m_ms, e_c_pf=e.c_pf, e_leak_mv=e.e_leak_mv,
            e_delta_t_mv=e.delta_t_mv, e_vth_rest_mv=e.v_thresh_rest_mv,
            e_vth_spike_mv=e.v_thresh_rest_mv + e.v_thresh_jump_mv, e_tau_th_ms=e.tau_thresh_ms,
            e_v_peak_mv=e.v_peak_mv, e_v_reset_mv=e.v_reset_mv,
            e_ref_steps=steps_of(e.t_ref_ms, p.dt_ms, "exc.t_ref_ms"),
            e_a_ns=e.a_adapt_ns, e_b_pa=e.b_adapt_pa, e_tau_w_ms=e.tau_adapt_ms,
            i_tau_m_ms=i.tau_m_ms, i_c_pf=i.c_pf, i_leak_mv=i.e_leak_mv, i_vth_mv=i.v_thresh_mv,
            i_v_reset_mv=i.v_reset_mv, i_ref_steps=steps_of(i.t_ref_ms, p.dt_ms, "inh.t_ref_ms"),
            e_rev_exc_mv=s.e_rev_exc_mv, e_rev_inh_mv=s.e_rev_inh_mv,
            tau_rise_exc_ms=s.tau_rise_exc_ms, tau_decay_exc_ms=s.tau_decay_exc_ms,
            tau_rise_inh_ms=s.tau_rise_inh_ms, tau_decay_inh_ms=s.tau_decay_inh_ms,
            j_ext_to_e_pf=p.external.j_ext_to_e_pf, j_ext_to_i_pf=p.external.j_ext_to_i_pf,
            a_ltd=v.a_ltd_pf_per_mv * speed, a_ltp=v.a_ltp_pf_per_mv2 * speed,
            theta_ltd_mv=v.theta_ltd_mv, theta_ltp_mv=v.theta_ltp_mv,
            tau_u_ms=v.tau_u_ms, tau_v_ms=v.tau_v_ms, tau_x_ms=v.tau_x_ms,
            j_ee_min_pf=w["e_to_e_min"], j_ee_max_pf=w["e_to_e_max"],
            tau_y_ms=ist.tau_y_ms, eta_istdp_pf=ist.eta_pf * speed,
            j_ie_min_pf=w["i_to_e_min"] if p.plasticity.istdp_bounded else 0.0,
            j_ie_max_pf=w["i_to_e_max"] if p.plasticity.istdp_bounded else np.inf,
            ee_rule=kernels.RULE_CODES[p.plasticity.ee_rule], istdp_on=p.plasticity.istdp,
            norm_on=p.plasticity.normalisation,
            norm_steps=steps_of(p.plasticity.normalisation_interval_ms, p.dt_ms,
                                "plasticity.normalisation_interval_ms"),
            plastic_start_step=int(round(p.plasticity.start_s * 1000.0 / p.dt_ms)),
            ee_transmission=p.ee_transmission,
            ei_transmission=p.ei_transmission,
            guard_on=p.guard.enabled, guard_min_hz=p.guard.rate_min_hz,
            guard_max_hz=p.guard.rate_max_hz, guard_tau_ms=p.guard.tau_s * 1000.0,
            guard_start_step=run_start_step + int(round(p.guard.start_s * 1000.0 / p.dt_ms)),
            **kernels.rule_constants(p),
            ca_w_up_pf=calcium_weight_range(p)[1],
        )

    # ------------------------------------------------------------------ running
    def run(
        self,
        duration_s: float,
        schedule: StimulusSchedule | None = None,
        record: RecordSpec | None = None,
        *,
        progress: bool | None = None,
        checkpoint_path: str | Path | None = None,
        checkpoint_every_s: float | None = None,
        stale_checkpoint: str = "error",
        label: str = "run",
    ) -> RunRecord:
        """Advance by ``duration_s`` seconds with an optional stimulus schedule.

        With ``checkpoint_path``, the state and the record so far are saved every
        ``checkpoint_every_s`` simulated seconds; if a matching checkpoint already exists the run
        resumes from it, and the result equals that of an uninterrupted run bit for bit. A checkpoint
        of a different run (other config, seed, protocol, code or start state) raises, or with
        ``stale_checkpoint="restart"`` is discarded with a message and the run starts over.
        A resumed run writes the checkpoint's state into the simulation's own arrays, so
        references to them taken before ``run`` see the resumed values.
        ``progress=None`` shows a progress bar on a terminal and, elsewhere (a log file), prints
        a progress line at most every :data:`PROGRESS_LOG_WALL_S` wall seconds; ``False``: neither.
        """
        p = self.params
        record = record or RecordSpec()
        record.validate(p.dt_ms)
        schedule = schedule or StimulusSchedule.empty()
        if not (duration_s >= 0 and math.isfinite(duration_s)):
            raise ParameterError(f"duration_s = {duration_s} is invalid; allowed: >= 0")
        n_steps = steps_of_seconds(duration_s, p.dt_ms, "duration_s")
        fingerprint = self._fingerprint(duration_s, schedule, record)
        if checkpoint_path is not None and Path(checkpoint_path).exists():
            resumed = self._try_resume(Path(checkpoint_path), fingerprint, stale_checkpoint, label)
        else:
            resumed = None
        if resumed is not None:
            rec = resumed
            print(f"{label}: resumed from checkpoint {checkpoint_path} at t = {self.time_s:.3f} s "
                  f"({rec.steps_done} of {rec.n_steps} steps done)", file=sys.stderr, flush=True)
        else:
            rec = self._new_record(n_steps, record)
            self._flush_ltp()  # a run starts with nothing deferred (weights may have been set)
        start = rec.start_step
        ev_step, ev_group, ev_rate = schedule.to_events(
            dt_ms=p.dt_ms, duration_s=duration_s, n_groups=self.n_groups, start_step=start
        )
        self.clock[1] = np.searchsorted(ev_step, self.clock[0], side="left")
        k = self.constants(run_start_step=start)
        ee, ie, ei, ii = (self.pathways[n] for n in PATHWAYS)
        chunk_steps = steps_of_seconds(record.chunk_s, p.dt_ms, "record.chunk_s")
        snap_steps = steps_of_seconds(record.weight_interval_s, p.dt_ms, "record.weight_interval_s")
        ckpt_steps = (
            steps_of_seconds(checkpoint_every_s, p.dt_ms, "checkpoint_every_s")
            if checkpoint_path is not None and checkpoint_every_s
            else 0
        )
        end = start + n_steps
        # when no rule changes a weight in this run, every snapshot of it has the same values:
        # compute them once (the means pass costs ~50 ms at N = 5000)
        weights_fixed = all(kernels.frozen_pathways(k, end))
        fixed_snapshot = None  # those values, once computed (only when weights_fixed)
        if not rec.snap_steps:
            values = self._snapshot(rec)
            if weights_fixed:
                fixed_snapshot = values
        capacity = max(4 * (p.connectivity.n_neurons + 1),
                       int(p.connectivity.n_neurons * chunk_steps * p.dt_ms * 1e-3 * 20) + 1)
        spike_step = np.empty(capacity, dtype=np.int64)
        spike_cell = np.empty(capacity, dtype=np.int32)
        # contiguous copies of the weights no rule changes in this run (the same sums, faster)
        dcopy = kernels.delivery_copies(k, (ee, ie, ei, ii), int(self.clock[0]), end)
        bar = _progress_bar(duration_s, label, progress)
        if bar is not None:
            bar.update((self.clock[0] - start) * p.dt_ms * 1e-3)
        wall0 = time.perf_counter() - rec.wall_seconds
        last_ckpt = self.clock[0]
        # progress lines for logs (no terminal): at most every PROGRESS_LOG_WALL_S wall seconds
        log_every_s = PROGRESS_LOG_WALL_S if bar is None and progress is None else math.inf
        last_log = time.perf_counter()
        while self.clock[0] < end and rec.status == "running":
            now = int(self.clock[0])
            target = min(end, now + chunk_steps)
            if snap_steps:
                target = min(target, start + ((now - start) // snap_steps + 1) * snap_steps)
            t_kernel = time.perf_counter()
            status, done, n_spk = kernels._advance(
                target - now, k, self.neurons, ee, ie, ei, ii, ev_step, ev_group, ev_rate,
                self.group_ptr, self.group_members, self.clock, self.rng_state, self.guard,
                spike_step, spike_cell, self._ltp_scratch, self._kicks, self.rule_state,
                self.lazy_ltp, dcopy, self.profile_cycles,
            )
            self.kernel_seconds += time.perf_counter() - t_kernel
            self._collect(rec, spike_step[:n_spk], spike_cell[:n_spk], record.spikes)
            rec.steps_done = int(self.clock[0] - start)
            if status == kernels.STATUS_BUFFER_FULL:
                capacity *= 2
                spike_step = np.empty(capacity, dtype=np.int64)
                spike_cell = np.empty(capacity, dtype=np.int32)
            elif status in (kernels.STATUS_GUARD, kernels.STATUS_NONFINITE):
                rec.status = STATUS_NAMES[status]
                rec.abort_reason = {
                    "checker": "rate_band" if status == kernels.STATUS_GUARD else "nonfinite_state",
                    "metric": "smoothed_exc_rate_hz",
                    "value": float(self.guard[0]),
                    "bounds_hz": [p.guard.rate_min_hz, p.guard.rate_max_hz],
                    "sim_time_s": self.time_s,
                }
            at = int(self.clock[0])
            if (snap_steps and (at - start) % snap_steps == 0) or at == end or rec.status != "running":
                if rec.snap_steps[-1] != at:
                    values = self._snapshot(rec, fixed_snapshot)
                    if weights_fixed:
                        fixed_snapshot = values
            if bar is not None:
                bar.update(done * p.dt_ms * 1e-3)
                bar.set_postfix_str(f"E {self._recent_rate(rec):.2f} Hz")
            if ckpt_steps and at - last_ckpt >= ckpt_steps and at < end and rec.status == "running":
                rec.wall_seconds = time.perf_counter() - wall0
                self.save_checkpoint(checkpoint_path, rec, fingerprint)
                last_ckpt = at
                if bar is None:
                    print(f"{label}: checkpoint at t = {self.time_s:.3f} s, "
                          f"E rate {self._recent_rate(rec):.2f} Hz, wall {rec.wall_seconds:.1f} s",
                          file=sys.stderr, flush=True)
                    last_log = time.perf_counter()
            elif (time.perf_counter() - last_log >= log_every_s and at < end
                  and rec.status == "running"):
                print(f"{label}: t = {self.time_s:.3f} s, {100.0 * (at - start) / n_steps:.0f} % "
                      f"of {duration_s:g} s, E rate {self._recent_rate(rec):.2f} Hz, wall "
                      f"{time.perf_counter() - wall0:.1f} s", file=sys.stderr, flush=True)
                last_log = time.perf_counter()
        self._flush_ltp()  # weights are up to date between runs
        if rec.status == "running":
            rec.status = "completed"
        if bar is not None:
            bar.close()
        rec.wall_seconds = time.perf_counter() - wall0
        self._restore_base_drive()  # stimuli are off after a run: the base drive exactly
        return rec

    def _new_record(self, n_steps: int, record: RecordSpec) -> RunRecord:
        bin_steps = steps_of(record.rate_bin_ms, self.params.dt_ms, "record.rate_bin_ms")
        n_bins = -(-n_steps // bin_steps)
        return RunRecord(
            start_step=int(self.clock[0]),
            n_steps=n_steps,
            dt_ms=self.params.dt_ms,
            rate_bin_steps=bin_steps,
            n_assemblies=self.n_assemblies,
            counts_exc=np.zeros(n_bins, np.int64),
            counts_inh=np.zeros(n_bins, np.int64),
            counts_groups=np.zeros((n_bins, self.n_assemblies + 1), np.int64),
        )

    def _collect(self, rec: RunRecord, steps: np.ndarray, cells: np.ndarray, keep: bool) -> None:
        if steps.size == 0:
            return
        n_exc = self.params.connectivity.n_exc
        bins = (steps - rec.start_step) // rec.rate_bin_steps
        is_exc = cells < n_exc
        rec.counts_exc += np.bincount(bins[is_exc], minlength=rec.counts_exc.size)
        rec.counts_inh += np.bincount(bins[~is_exc], minlength=rec.counts_inh.size)
        kernels.bin_group_counts(steps, cells, rec.start_step, rec.rate_bin_steps,
                                 self.cell_group_ptr, self.cell_group_ids, rec.counts_groups)
        if keep:
            rec.spike_steps.append(steps.copy())
            rec.spike_cells.append(cells.copy())

    def _recent_rate(self, rec: RunRecord) -> float:
        done_bins = max(1, rec.steps_done // rec.rate_bin_steps)
        last = rec.counts_exc[max(0, done_bins - 100):done_bins]
        seconds = last.size * rec.rate_bin_steps * rec.dt_ms * 1e-3
        return float(last.sum()) / (self.params.connectivity.n_exc * seconds) if seconds else 0.0

    def assembly_weights(
        self, ee_weight_pf: np.ndarray | None = None
    ) -> tuple[np.ndarray, float, float, np.ndarray]:
        """Mean E->E weight for every (pre group, post group), within, between, and I->E.

        Groups are the assemblies plus "outside any assembly" (last). Within is the mean of the
        diagonal over assemblies (docs/models/assemblies.md, 9.1); between is the mean over synapses whose
        cells share no assembly; the last value is the mean I->E weight onto each assembly's members.
        """
        n_g = self.n_assemblies + 1
        ee = self.pathways["e_to_e"]
        w_ee = ee.weight_pf if ee_weight_pf is None else ee_weight_pf
        if self._snapshot_counts is None:
            self._snapshot_counts = self._pattern_group_sums(np.ones_like(w_ee))
        counts, n_between = self._snapshot_counts
        sums, between_sum = self._pattern_group_sums(w_ee)
        with np.errstate(invalid="ignore", divide="ignore"):
            matrix = sums / counts
        diag = np.diag(matrix)[: self.n_assemblies]
        within = float(np.nanmean(diag)) if np.isfinite(diag).any() else float("nan")
        between = between_sum / n_between if n_between else float("nan")
        ie = self.pathways["i_to_e"]
        per_cell_sum = np.empty(ie.post_ptr.size - 1)
        kernels.row_sums(ie.post_ptr, ie.weight_pf, per_cell_sum)
        per_cell_n = np.diff(ie.post_ptr)
        entry_cell = np.repeat(np.arange(self.cell_group_ptr.size - 1), np.diff(self.cell_group_ptr))
        g_sum = np.bincount(self.cell_group_ids, weights=per_cell_sum[entry_cell], minlength=n_g)
        g_n = np.bincount(self.cell_group_ids, weights=per_cell_n[entry_cell], minlength=n_g)
        with np.errstate(invalid="ignore", divide="ignore"):
            ie_groups = g_sum / g_n
        return matrix, within, between, ie_groups[: self.n_assemblies]

    def _pattern_group_sums(self, w_ee: np.ndarray) -> tuple[np.ndarray, float]:
        """E->E weight sums per (pre group, post group) and over pairs sharing no assembly."""
        ee = self.pathways["e_to_e"]
        kernels.pattern_pair_sums(ee.pre_idx, ee.post_ptr, w_ee, self.cell_pattern,
                                  self._pattern_sums)
        n_g = self.n_assemblies + 1
        sums = np.zeros((n_g, n_g))
        between = kernels.expand_pattern_sums(self._pattern_sums, self.pattern_membership,
                                              self.pattern_disjoint, sums)
        return sums, float(between)

    def _snapshot(self, rec: RunRecord, values: tuple | None = None) -> tuple:
        """Record the assembly weight means now (``values``: means already known to hold now,
        from an earlier snapshot of a run whose weights cannot change); returns them."""
        if values is None:
            values = self.assembly_weights(self.current_ee_weights())
        matrix, within, between, ie_groups = values
        rec.snap_steps.append(int(self.clock[0]))
        rec.snap_w_groups.append(matrix.copy())
        rec.snap_w_within.append(within)
        rec.snap_w_between.append(between)
        rec.snap_w_ie_groups.append(ie_groups.copy())
        return values

    # ------------------------------------------------------------------ state and checkpoints
    def state_dataset(self) -> xr.Dataset:
        """Everything needed to continue: neuron state, weights, structure, RNG, clock."""
        data: dict[str, tuple[str, np.ndarray]] = {}
        n = self.neurons
        for name in ("v_mv", "ref_left", "xr_exc", "xd_exc", "xr_inh", "xd_inh", "pend_exc_pf",
                     "pend_inh_pf", "y_trace", "ext_rate_hz"):
            data[name] = ("cell", getattr(n, name))
        data["ext_cdf"] = (("cell", "cdf_k"), n.ext_cdf)
        for name in ("vth_mv", "w_adapt_pa", "u_mv", "vbar_mv", "x_trace", "istdp_alpha",
                     "ee_row_target_pf"):
            data[name] = ("exc_cell", getattr(n, name))
        for pname in PATHWAYS:
            pw = self.pathways[pname]
            dim = f"{pname}_synapse"
            data[f"{pname}_pre"] = (dim, pw.pre_idx)
            data[f"{pname}_post"] = (dim, pw.post_idx)
            data[f"{pname}_weight_pf"] = (dim, pw.weight_pf)
        rs = self.rule_state
        for name in ("tri_r1", "tri_r2", "tri_o1", "tri_o2"):
            data[name] = ("exc_cell", getattr(rs, name))
        data["ca_conc"] = ("ca_synapse", rs.ca_conc)
        data["ca_last_ms"] = ("ca_synapse", rs.ca_last_ms)
        data["ca_queue"] = (("ca_slot", "ca_queue_entry"), rs.ca_queue)
        data["ca_queue_len"] = ("ca_slot", rs.ca_queue_len)
        lz = self.lazy_ltp
        for name in ("cum", "last", "seg", "xi"):
            data[f"ltp_{name}"] = ("exc_cell", getattr(lz, name))
        data["ltp_hist"] = (("exc_cell", "ltp_column"), lz.hist)
        data["ltp_epoch"] = ("ltp_epoch_field", lz.epoch)
        data["group_ptr"] = ("group_edge", self.group_ptr)
        data["group_members"] = ("group_entry", self.group_members)
        data["rng_state"] = ("rng_word", self.rng_state)
        data["clock"] = ("clock_field", self.clock)
        data["guard_rate_hz"] = ("guard_field", self.guard)
        ds = xr.Dataset({k: (d, np.array(v, copy=True)) for k, (d, v) in data.items()})
        ds.attrs.update(
            params_json=json.dumps(self.params.to_dict(), sort_keys=True),
            seed=self.seed,
            n_assemblies=self.n_assemblies,
            time_s=self.time_s,
            package_version=__version__,
        )
        for name in ds.data_vars:
            ds[name].attrs["units"] = _state_units(name)
            ds[name].attrs["long_name"] = _state_long_name(name)
        return ds

    @classmethod
    def from_state_dataset(
        cls, state: xr.Dataset, params: NetworkParams | None = None
    ) -> Simulation:
        """Rebuild a simulation from :meth:`state_dataset` (derived indices recomputed).

        ``params`` may change dynamic settings (plasticity, drive, guard), not the structure.
        """
        saved = NetworkParams.from_dict(json.loads(state.attrs["params_json"]))
        arr = {name: np.asarray(state[name].values) for name in state.data_vars}
        c = saved.connectivity
        sizes = {"e": c.n_exc, "i": c.n_inh}
        pathways = {
            name: build_pathway(arr[f"{name}_pre"], arr[f"{name}_post"],
                                arr[f"{name}_weight_pf"], sizes[name[0]], sizes[name[-1]])
            for name in PATHWAYS
        }
        neurons = NeuronState(**{
            f: np.ascontiguousarray(arr[f]).copy() for f in NeuronState._fields
        })
        rule_state = (
            RuleState(**{f: np.ascontiguousarray(arr[f]).copy() for f in RuleState._fields})
            if all(f in arr for f in RuleState._fields) else None  # older stores: fresh state
        )
        lazy_ltp = (
            LazyLtp(**{f: np.ascontiguousarray(arr[f"ltp_{f}"]).copy() for f in LazyLtp._fields})
            if all(f"ltp_{f}" in arr for f in LazyLtp._fields) else None  # older: none deferred
        )
        sim = cls(saved, int(state.attrs["seed"]), pathways, arr["group_ptr"],
                  arr["group_members"], neurons, arr["rng_state"].astype(np.uint64).copy(),
                  arr["clock"].astype(np.int64).copy(), arr["guard_rate_hz"].astype(float).copy(),
                  rule_state, lazy_ltp)
        tracked = int(state.attrs.get("n_assemblies", sim.n_assemblies))
        if tracked != sim.n_assemblies:
            sim.track_groups(tracked)
        if params is not None and params != saved:
            sim.set_params(params)
        return sim

    def save_checkpoint(self, path: str | Path, rec: RunRecord, fingerprint: str) -> None:
        from homeoplastic.store import write_store

        record = _record_dataset(rec)
        root = xr.Dataset(attrs={"fingerprint": fingerprint, "kind": "checkpoint"})
        write_store(path, root, groups={"state": self.state_dataset(), "record": record})

    def _try_resume(self, path: Path, fingerprint: str, stale: str, label: str) -> RunRecord | None:
        from homeoplastic.store import is_complete, open_store

        if stale not in ("error", "restart"):
            raise ParameterError(f"stale_checkpoint = {stale!r}; allowed: error, restart")
        if not is_complete(path):
            return None
        root = open_store(path)
        if root.attrs.get("fingerprint") != fingerprint:
            if stale == "restart":
                print(f"{label}: discarding checkpoint {path} of a different run; starting over",
                      file=sys.stderr, flush=True)
                shutil.rmtree(path, ignore_errors=True)
                return None
            raise ParameterError(
                f"checkpoint {path} belongs to a different run (config, seed, protocol or code "
                "version differ); delete it to start over"
            )
        state = open_store(path, group="state").load()
        other = Simulation.from_state_dataset(state, self.params)
        for name, value in other.__dict__.items():
            self.__dict__[name] = _adopt(self.__dict__.get(name), value)
        return _record_from_dataset(open_store(path, group="record").load())

    def _fingerprint(self, duration_s: float, schedule: StimulusSchedule, record: RecordSpec) -> str:
        h = hashlib.sha256()
        h.update(json.dumps(self.params.to_dict(), sort_keys=True).encode())
        h.update(f"{self.seed}|{int(self.clock[0])}|{duration_s}|{__version__}|{record}".encode())
        h.update(self.neurons.v_mv.tobytes())  # the state the run starts from
        for arr in (schedule.target, schedule.t_on_s, schedule.t_off_s, schedule.rate_hz):
            h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()


def _adopt(mine: Any, theirs: Any) -> Any:
    """``theirs``, written into ``mine``'s arrays where they match in shape and dtype.

    A resumed run takes the checkpoint's state this way, so arrays a caller took from the
    simulation before ``run`` (``sim.pathways["e_to_e"].weight_pf``, ``sim.neurons.v_mv``) hold
    the resumed values afterwards instead of going stale. Tuples of arrays (pathways, neuron and
    rule state) and dicts of them are matched field by field; anything else is replaced.
    """
    if isinstance(mine, np.ndarray) and isinstance(theirs, np.ndarray):
        if mine.shape == theirs.shape and mine.dtype == theirs.dtype and mine.flags.writeable:
            np.copyto(mine, theirs)
            return mine
        return theirs
    if isinstance(mine, tuple) and hasattr(mine, "_fields") and type(mine) is type(theirs):
        return type(mine)(*(_adopt(a, b) for a, b in zip(mine, theirs, strict=True)))
    if isinstance(mine, dict) and isinstance(theirs, dict) and mine.keys() == theirs.keys():
        for key in mine:
            mine[key] = _adopt(mine[key], theirs[key])
        return mine
    return theirs


def _state_units(name: str) -> str:
    for suffix, unit in (("_mv", "mV"), ("_pf", "pF"), ("_pa", "pA"), ("_hz", "Hz")):
        if name.endswith(suffix):
            return unit
    return {"x_trace": "1/ms", "ref_left": "steps", "clock": "steps", "ca_last_ms": "ms",
            "ltp_cum": "pF ms", "ltp_hist": "pF ms", "ltp_xi": "1/ms", "ltp_seg": "steps",
            "ltp_epoch": "steps", "ltp_last": "steps"}.get(
        name, "1")


_STATE_LONG_NAMES = {
    "v_mv": "membrane potential",
    "ref_left": "refractory steps still to hold V at reset",
    "xr_exc": "rise variable of the E conductance",
    "xd_exc": "decay variable of the E conductance",
    "xr_inh": "rise variable of the I conductance",
    "xd_inh": "decay variable of the I conductance",
    "pend_exc_pf": "E input arriving at the next step",
    "pend_inh_pf": "I input arriving at the next step",
    "y_trace": "iSTDP trace (jump 1 per spike)",
    "ext_rate_hz": "external Poisson rate, stimuli included",
    "ext_cdf": "Poisson CDF P(kicks <= k) of the external rate times dt",
    "vth_mv": "adaptive threshold",
    "w_adapt_pa": "adaptation current",
    "u_mv": "LTD voltage filter (tau_u)",
    "vbar_mv": "LTP voltage filter (tau_v)",
    "x_trace": "presynaptic trace of the voltage rule (jump 1/tau_x)",
    "istdp_alpha": "iSTDP depression offset 2 r0 tau_y",
    "ee_row_target_pf": "normalisation target: sum of incoming E->E weights",
    "tri_r1": "triplet rule: presynaptic trace (tau_plus)",
    "tri_r2": "triplet rule: presynaptic trace (tau_x)",
    "tri_o1": "triplet rule: postsynaptic trace (tau_minus)",
    "tri_o2": "triplet rule: postsynaptic trace (tau_y)",
    "ca_conc": "calcium rule: calcium of each E->E synapse at its last update",
    "ca_last_ms": "calcium rule: time of that update",
    "ca_queue": "calcium rule: E spikes of the last delay + 1 steps (ring by step)",
    "ca_queue_len": "calcium rule: entries in each ring slot",
    "ltp_cum": "deferred voltage LTP: per-post cumulative factor C_i at its last change",
    "ltp_hist": "deferred voltage LTP: C_i at each step of the epoch",
    "ltp_last": "deferred voltage LTP: last valid column of ltp_hist",
    "ltp_seg": "deferred voltage LTP: first step not yet applied to the cell's outgoing synapses",
    "ltp_xi": "deferred voltage LTP: presynaptic trace amplitude at the epoch start",
    "ltp_epoch": "deferred voltage LTP: first step of the epoch",
    "group_ptr": "start of each cell group in group_members (assemblies first, CSR)",
    "group_members": "cells of every group, group after group",
    "rng_state": "counter-based random stream key",
    "clock": "simulation clock",
    "guard_rate_hz": "rate guard: smoothed E rate",
}
_PATHWAY_PARTS = {"pre": "presynaptic cell", "post": "postsynaptic cell", "weight_pf": "weight"}


def _state_long_name(name: str) -> str:
    """Description of a ``state`` group variable (a test checks that none is undocumented)."""
    if name in _STATE_LONG_NAMES:
        return _STATE_LONG_NAMES[name]
    for pname in PATHWAYS:
        part = name.removeprefix(f"{pname}_")
        if part != name and part in _PATHWAY_PARTS:
            return f"{pname.replace('_to_', '->').upper()} synapses: {_PATHWAY_PARTS[part]}"
    return f"{name} (undocumented: add it to _STATE_LONG_NAMES)"


def spike_arrays(rec: RunRecord) -> tuple[np.ndarray, np.ndarray]:
    """All spikes of a run as two flat arrays: step (absolute clock) and cell, in time order.

    The engine records spikes chunk by chunk; every reader wants them flat (empty: int64 steps,
    int32 cells, the engine's dtypes).
    """
    steps = np.concatenate(rec.spike_steps) if rec.spike_steps else np.zeros(0, np.int64)
    cells = np.concatenate(rec.spike_cells) if rec.spike_cells else np.zeros(0, np.int32)
    return steps, cells


def _record_dataset(rec: RunRecord) -> xr.Dataset:
    """A checkpoint's copy of the partial record (exact, no derived quantities)."""
    steps, cells = spike_arrays(rec)
    n_g = rec.counts_groups.shape[1]
    snaps = len(rec.snap_steps)
    ds = xr.Dataset(
        {
            "counts_exc": ("bin", rec.counts_exc),
            "counts_inh": ("bin", rec.counts_inh),
            "counts_groups": (("bin", "group"), rec.counts_groups),
            "spike_steps": ("spike", steps),
            "spike_cells": ("spike", cells),
            "snap_steps": ("snap", np.array(rec.snap_steps, np.int64)),
            "snap_w_groups": (("snap", "group", "group2"),
                              np.array(rec.snap_w_groups).reshape(snaps, n_g, n_g)),
            "snap_w_within": ("snap", np.array(rec.snap_w_within)),
            "snap_w_between": ("snap", np.array(rec.snap_w_between)),
            "snap_w_ie_groups": (("snap", "assembly"),
                                 np.array(rec.snap_w_ie_groups).reshape(snaps, n_g - 1)),
        }
    )
    ds.attrs.update(start_step=rec.start_step, n_steps=rec.n_steps, dt_ms=rec.dt_ms,
                    rate_bin_steps=rec.rate_bin_steps, n_assemblies=rec.n_assemblies,
                    steps_done=rec.steps_done, status=rec.status,
                    wall_seconds=rec.wall_seconds, keep_spikes=bool(rec.spike_steps))
    return ds


def _record_from_dataset(ds: xr.Dataset) -> RunRecord:
    a = ds.attrs
    rec = RunRecord(
        start_step=int(a["start_step"]), n_steps=int(a["n_steps"]), dt_ms=float(a["dt_ms"]),
        rate_bin_steps=int(a["rate_bin_steps"]), n_assemblies=int(a["n_assemblies"]),
        counts_exc=ds["counts_exc"].values.copy(), counts_inh=ds["counts_inh"].values.copy(),
        counts_groups=ds["counts_groups"].values.copy(),
    )
    if ds["spike_steps"].size:
        rec.spike_steps = [ds["spike_steps"].values.copy()]
        rec.spike_cells = [ds["spike_cells"].values.copy()]
    rec.snap_steps = [int(s) for s in ds["snap_steps"].values]
    rec.snap_w_groups = list(ds["snap_w_groups"].values.copy())
    rec.snap_w_within = [float(x) for x in ds["snap_w_within"].values]
    rec.snap_w_between = [float(x) for x in ds["snap_w_between"].values]
    rec.snap_w_ie_groups = list(ds["snap_w_ie_groups"].values.copy())
    rec.steps_done = int(a["steps_done"])
    rec.status = str(a["status"])
    rec.wall_seconds = float(a["wall_seconds"])
    return rec


def _progress_bar(total_s: float, label: str, enabled: bool | None):
    if enabled is False or (enabled is None and not sys.stderr.isatty()):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total_s, desc=label, unit="sim s", leave=True,
                bar_format="{desc}: {n:.1f}/{total:.1f} sim s |{bar}| {elapsed} wall, {postfix}")
