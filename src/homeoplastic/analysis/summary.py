"""The results table: each claim of Litwin-Kumar & Doiron (2014) over seeds, next to its null.

``summary_rows`` groups the per-run analysis datasets by their sweep point without the seed (the
seeds are replicates) and gives one row per claim and group: the mean over seeds with its n and
95 % CI, the null measured the same way (the untrained network for the probe statistics, the
structure before training or a shuffled membership for assemblies, the unstimulated weights'
drift for "weakens", the other arm of a comparison) and the verdict of
:func:`homeoplastic.stats.claims.judge`: ``yes`` only where the CI excludes the null in the
paper's direction over at least three seeds. Rows whose statement an untrained network would
also satisfy (a rate that stays low, no assembly dominating) are reported with their CI and not
judged (``kind`` descriptive); ``kind`` method marks checks of the project's own method (the
control's rates, dt), judged by a band. The paper's numbers come from the model page
(docs/models/assemblies.md, 10).
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from homeoplastic.config import table_value as _fmt
from homeoplastic.stats.claims import MIN_SEEDS, NOT_MEASURED, TOO_FEW, judge, t_interval

COLUMNS = ("run", "n_neurons", "rule", "learning_speed", "seeds", "scale", "kind", "figure",
           "claim", "quantity", "measured", "n", "ci_low", "ci_high", "units", "null",
           "null_quantity", "null_value", "diff_ci_low", "diff_ci_high", "paper", "agrees",
           "per_seed", "run_status")
"""``run``: the sweep point without its seed (one row per claim and point; ``seeds`` lists the
replicates, ``per_seed`` each one's value); ``measured`` the mean over seeds, ``ci_low``/``ci_high``
its 95 % Student t interval, ``n`` the seeds with a value; ``null`` what the effect is compared
with, ``null_value`` its mean, ``diff_ci_*`` the CI of the paired difference effect - null;
``kind``: claim (judged against the null), descriptive (reported, not judged) or method (a check
of the project's method, judged by a band); ``scale``: ``paper`` (N = 5000 at the paper's
learning speed 1) or ``reduced``; ``run_status``: completed, or how many seeds the rate guard
stopped and why."""

PAPER_N_NEURONS, PAPER_LEARNING_SPEED = 5000, 1.0
KINDS = ("claim", "descriptive", "method", "rule")
"""``rule``: a property of an E->E rule at one synapse (Fig. 5a rate maps), no network."""


@dataclass(frozen=True)
class Claim:
    """One claim: the quantity, its null, the paper's direction and what the paper says.

    The null is a per-run quantity (``null_quantity``, paired seed by seed; of another rule's
    runs at the same point with ``null_rule``) or a constant (``null_constant``) with ``null``
    saying what it is. ``direction`` (greater/less than the
    null) None makes the row descriptive; ``band`` makes it a method check (the CI inside the
    band). ``threshold`` checks the paper's magnitude on the mean.
    """

    figure: str
    claim: str
    quantity: str
    paper: str
    rules: tuple[str, ...]
    null: str
    null_quantity: str | None = None
    null_constant: float | None = None
    null_rule: str | None = None
    """The null is ``null_quantity`` (default: the quantity itself) in the runs of this rule at
    the same point and seed (e.g. the voltage rule with iSTDP for the ablation without it)."""
    direction: str | None = None
    threshold: Callable[[float], bool] | None = None
    band: tuple[float, float] | None = None
    paper_scale: tuple[str, Callable[[float], bool] | None] | None = None
    """(paper text, threshold) used instead of ``paper``/``threshold`` at the paper's scale."""

    @property
    def kind(self) -> str:
        if self.band is not None:
            return "method"
        return "descriptive" if self.direction is None else "claim"


_FORMING = ("voltage", "triplet", "calcium", "calcium_plain")
_HOMEOSTATIC = ("voltage", "triplet", "calcium", "calcium_plain", "voltage_no_normalisation")
_UNTRAINED = "the untrained network (probe before training)"
_REMAP_BEFORE = "the same cells before their training (probe of the remap set before remapping)"

CLAIMS: tuple[Claim, ...] = (
    Claim("1", "without homeostasis the rate runs away during training", "rate_exc_train_max_hz",
          "runaway after a few tens of presentations (~200 s) [text, unverified]; check: > 10 Hz",
          ("voltage_no_homeostasis",), "the E rate before training (warm-up)",
          "rate_exc_baseline_hz", direction="greater", threshold=lambda v: v > 10.0),
    Claim("1", "without homeostasis the run guard stops training early", "train_status_ok",
          "runaway (the guard stops a run that leaves its rate band); 0 = stopped",
          ("voltage_no_homeostasis",), "1: a network that does not run away completes training",
          null_constant=1.0, direction="less"),
    Claim("1", "with homeostasis the rate stays low during training", "rate_exc_train_max_hz",
          "no runaway (< 10 Hz); not judged: a network without plasticity stays low too, the "
          "ablation's runaway row carries the check", _FORMING,
          "the E rate before training (warm-up)", "rate_exc_baseline_hz"),
    Claim("1c", "after the runaway the E rate oscillates (spectral peak)",
          "oscillation_peak_db_after_runaway",
          "'high-frequency oscillations' after the runaway (Fig. 1c); check: the E rate's "
          "spectral peak over its local floor above the same run's before the runaway",
          ("voltage_no_homeostasis", "voltage_no_istdp"),
          "the same run's spectral peak before the runaway", "oscillation_peak_db_before_runaway",
          direction="greater"),
    Claim("1c", "after the runaway the cells fire together (synchrony)", "synchrony_after_runaway",
          "a network oscillation: cells fire in step (Fig. 1c); check: mean pairwise 1-ms count "
          "correlation above the same run's before the runaway and > 0.1",
          ("voltage_no_homeostasis", "voltage_no_istdp"),
          "the same run's synchrony before the runaway", "synchrony_before_runaway",
          direction="greater", threshold=lambda v: v > 0.1),
    Claim("3b", "inhibition onto an assembly grows with its size",
          "inh_size_elasticity_after_training",
          "iSTDP's inhibition onto an assembly against its size (Fig. 3b); check: elasticity of "
          "the I->E weight onto members with respect to assembly size above the untrained 0",
          _FORMING, "the same before training", "inh_size_elasticity_before_training",
          direction="greater"),
    Claim("3c", "without iSTDP stimulated assemblies potentiate less (equal presentations)",
          "w_within_gain_median_assembly_block2",
          "less potentiation for stimulated assemblies without iSTDP (Fig. 3c); the median "
          "assembly's within-weight gain after the second block of presentations (past the "
          "runaway); check: below the voltage rule's at the same speed, presentations and seed",
          ("voltage_no_istdp",), "the voltage rule with iSTDP, same point and seed",
          null_rule="voltage", direction="less"),
    Claim("3c", "without iSTDP stimulated assemblies potentiate less (before the runaway)",
          "w_within_gain_median_assembly_block1",
          "the same after the first block of presentations, before the runaway; check: below the "
          "voltage rule's at the same speed, presentations and seed", ("voltage_no_istdp",),
          "the voltage rule with iSTDP, same point and seed", null_rule="voltage",
          direction="less"),
    Claim("2", "training forms assemblies", "ratio_after_training",
          "within weights near J_max, between near J_min (Fig. 2; third-party triplet run at paper "
          "scale: 5.7); check: CI above the structure before training and mean > 3", _FORMING,
          "within/between before training", "ratio_before_training", direction="greater",
          threshold=lambda v: v > 3.0),
    Claim("2", "the network still holds its assemblies after spontaneous activity",
          "ratio_end_recurrent",
          "assemblies are maintained (Fig. 4); check: CI above the structure before training and "
          "mean > 3", _HOMEOSTATIC, "within/between before training", "ratio_before_training",
          direction="greater", threshold=lambda v: v > 3.0),
    Claim("4", "within-weight change in spontaneous activity, intact network",
          "w_within_change_recurrent", "stable or growing (not judged: an untrained network "
          "keeps its weights too; the comparison with the control is the claim)", _HOMEOSTATIC,
          "none (0: no change)", null_constant=0.0),
    Claim("5", "stimulated assemblies potentiate their synapses onto non-members (interference)",
          "w_assembly_to_outside_change_training",
          "the calcium rule potentiates at high presynaptic rates even with low postsynaptic rates "
          "(Fig. 5a), hence interference during training", ("calcium", "calcium_plain"),
          "the unstimulated weights' drift (among cells in no assembly) over training",
          "w_outside_change_training", direction="greater"),
    Claim("5", "no potentiation onto non-members without postsynaptic activity",
          "w_assembly_to_outside_change_training",
          "the triplet and voltage rules need postsynaptic activity to potentiate (Fig. 5a): "
          "the weights onto non-members fall against the unstimulated drift",
          ("voltage", "triplet"),
          "the unstimulated weights' drift (among cells in no assembly) over training",
          "w_outside_change_training", direction="less"),
    Claim("5", "training later assemblies erodes earlier ones (interference)",
          "training_gain_kept_min",
          "calcium rule: 'interference between assemblies during training, with only certain "
          "assemblies remaining potentiated after training' (Fig. 5b, c); the most eroded "
          "assembly's share of its peak gain at the end of training", ("calcium", "calcium_plain"),
          "1: every assembly keeps its peak gain", null_constant=1.0, direction="less"),
    Claim("5", "training later assemblies leaves earlier ones alone", "training_gain_kept_min",
          "the voltage and triplet rules need postsynaptic activity to change a synapse (Fig. 5a); "
          "not judged (no erosion is the absence of an effect)", ("voltage", "triplet"),
          "1: every assembly keeps its peak gain", null_constant=1.0),
    Claim("5", "spontaneous activity keeps most assemblies", "assemblies_kept_fraction",
          "voltage and triplet rules: spontaneous activity improves stability 'for most but not all "
          "assemblies' (Fig. 5b); check: CI above 0 and mean >= 0.5 keep half their gain",
          ("voltage", "triplet"), "0: an untrained network has no training gain to keep",
          null_constant=0.0, direction="greater", threshold=lambda v: v >= 0.5),
    Claim("5", "only certain assemblies stay potentiated (winner-take-all)",
          "assembly_gain_gini_end",
          "calcium rule: 'only certain assemblies remaining potentiated after training' (Fig. 5b, "
          "c); the Gini coefficient of the assemblies' within-weight gains at the end of "
          "spontaneous activity (0: all equal; one winner of n: (n-1)/n); check: above the "
          "voltage rule's at the same point and seed, and >= 0.4 (at most 3 of 5 hold the gain)",
          ("calcium", "calcium_plain"), "the voltage rule, same point and seed",
          null_rule="voltage", direction="greater", threshold=lambda v: v >= 0.4),
    Claim("5", "spontaneous activity leaves fewer assemblies potentiated than training did",
          "assembly_gain_potentiated_end",
          "calcium rule: not all assemblies stay potentiated (Fig. 5b, c); the fraction whose "
          "gain exceeds twice its noise at the end of spontaneous activity; check: below the "
          "same fraction at the end of training", ("calcium", "calcium_plain"),
          "the fraction potentiated at the end of training", "assembly_gain_potentiated_trained",
          direction="less"),
    Claim("5", "within weights rise for certain assemblies after training",
          "assemblies_growing_fraction",
          "calcium rule: within weights 'increased for certain assemblies after training' "
          "(Fig. 5b); not judged (plasticity moves random groups both ways)",
          ("calcium", "calcium_plain"), "none", null_constant=math.nan),
    Claim("2", "post-training spontaneous E rate", "rate_exc_post_training_hz",
          "~1.7 Hz (third party 1.60-1.65 Hz); smaller networks at fixed in-degree and faster "
          "learning settle lower; not judged (an untrained network fires at similar rates)",
          _FORMING, "the E rate before training (warm-up)", "rate_exc_baseline_hz"),
    Claim("2", "assemblies reactivate in spontaneous activity", "reactivations_per_min",
          "structured spontaneous activity (assemblies reactivate); check: CI above random "
          "groups of the same sizes", _FORMING,
          "random E groups of the assemblies' sizes (shuffled membership), same detector",
          "reactivations_shuffled_per_min", direction="greater"),
    Claim("3", "without iSTDP one assembly dominates (winner-take-all)",
          "assembly_rate_max_over_mean",
          "one assembly dominates; E rate 68-93 Hz (third party); check: CI above the equal-rate "
          "95th percentile and mean > 1.5", ("voltage_no_istdp",),
          "the equal-rate 95th percentile of max/mean with the measured sampling error",
          "assembly_rate_max_over_mean_null_q95", direction="greater",
          threshold=lambda v: v > 1.5),
    Claim("3", "with iSTDP no assembly dominates", "assembly_rate_max_over_mean",
          "assemblies share spontaneous activity; not judged (an untrained network has no "
          "dominant assembly either; the no-iSTDP row is the check)", _FORMING,
          "the equal-rate 95th percentile of max/mean with the measured sampling error",
          "assembly_rate_max_over_mean_null_q95"),
    *(Claim("4", f"the control fires at the intact network's rates ({what})",
            f"settle_rate_over_intact{suffix}",
            "'despite the same rates' (Fig. 4): the control's per-cell iSTDP targets are chosen "
            "so that its rates equal the intact network's; method check: the control's E rate "
            "over the intact rate at the end of the settle, CI within 0.95-1.05",
            _HOMEOSTATIC, "1: the intact rates", null_constant=1.0, band=(0.95, 1.05))
      for suffix, what in (("", "all E cells"), ("_q1", "lowest quartile of intact rates"),
                           ("_q2", "second quartile"), ("_q3", "third quartile"),
                           ("_q4", "highest quartile"), ("_members", "assembly members"))),
    Claim("4", "the control's rates reach iSTDP's fixed point before E->E STDP starts",
          "settle_rate_over_fixed_point",
          "not in the paper: the rule's drift vanishes at 2 r0 / (kappa + rho), with the "
          "input correlations measured in the settle; method check: CI within 0.95-1.05",
          _HOMEOSTATIC, "1: the fixed point", null_constant=1.0, band=(0.95, 1.05)),
    Claim("4", "causal inhibition puts iSTDP's fixed point above the targets",
          "settle_fixed_point_over_target",
          "not in the paper: an I spike delays its targets' next spike (rho < 1); not judged",
          _HOMEOSTATIC, "1: independent spike trains (kappa = rho = 1)", null_constant=1.0),
    Claim("4", "the non-recurrent control loses its assemblies faster",
          "w_within_change_nonrecurrent",
          "control decays faster (Fig. 4); check: the control's within-weight change below the "
          "intact network's", _HOMEOSTATIC,
          "the intact network's within-weight change over its spontaneous phase",
          "w_within_change_recurrent", direction="less"),
    Claim("4", "recurrent network heals a 10% cut", "recovery_fraction_recurrent",
          "weights recover (fraction near 1); check: CI above the control's recovery and "
          "mean >= 0.5", _HOMEOSTATIC, "the same cut in the non-recurrent control",
          "recovery_fraction_nonrecurrent", direction="greater", threshold=lambda v: v >= 0.5),
    Claim("4", "control does not heal", "recovery_fraction_nonrecurrent",
          "weights do not recover; not judged (the absence of healing; the row above compares)",
          _HOMEOSTATIC, "0: no recovery", null_constant=0.0),
    Claim("8", "stimulus onset quenches variability after training", "probe_fano_drop_after",
          "mean-matched Fano factor drops at onset (magnitude not recovered); check: the drop "
          "exceeds the untrained network's", _FORMING, _UNTRAINED, "probe_fano_drop_before",
          direction="greater"),
    Claim("8", "members discriminate stimulus from baseline", "probe_auc_members_after",
          "members discriminate (200 ms counts); check: AUC above the untrained network's",
          _FORMING, _UNTRAINED, "probe_auc_members_before", direction="greater"),
    Claim("9", "same-assembly pairs correlate more than different-assembly pairs",
          "probe_corr_same_minus_different_after",
          "higher spike-count correlation within assemblies; check: the difference exceeds the "
          "untrained network's", _FORMING, _UNTRAINED,
          "probe_corr_same_minus_different_before", direction="greater"),
    Claim("8", "half an assembly recruits the other half (pattern completion)",
          "probe_completion_evoked_index_after",
          "the unstimulated half responds; check: index above the untrained network's",
          _FORMING, _UNTRAINED, "probe_completion_evoked_index_before", direction="greater"),
    Claim("9c", "correlations within the stimulated assembly are suppressed by its stimulus",
          "probe_corr_stimulated_stim_minus_spont_after",
          "'correlations ... suppressed when the assembly was stimulated' (Fig. 9c); the "
          "stimulated assembly's pairwise count correlation during the stimulus minus in the "
          "baseline (original set); check: below the untrained network's", _FORMING, _UNTRAINED,
          "probe_corr_stimulated_stim_minus_spont_before", direction="less"),
    Claim("9c", "correlations within the stimulated assembly are suppressed by its stimulus "
                "(remap set, as the paper probed)",
          "probe_remap_corr_stimulated_stim_minus_spont_after",
          "Fig. 9c: the new stimulus set probed before and after its training (remapping); check: "
          "below the same before its training", _FORMING, _REMAP_BEFORE,
          "probe_remap_corr_stimulated_stim_minus_spont_before", direction="less"),
    Claim("9b", "same-assembly pairs correlate in spontaneous activity after training (remap set)",
          "probe_remap_corr_stimulated_spont_after",
          "higher spontaneous count correlation within trained assemblies (Fig. 9b); check: above "
          "the same pairs before their training", _FORMING, _REMAP_BEFORE,
          "probe_remap_corr_stimulated_spont_before", direction="greater"),
    *(Claim("8", f"{what} (remap set, as the paper probed)", f"probe_remap_{name}_after",
            f"Fig. 8 on the new stimulus set before and after its training; check: {how} the same "
            "before its training", _FORMING, _REMAP_BEFORE, f"probe_remap_{name}_before",
            direction="greater")
      for name, what, how in (
          ("fano_drop", "stimulus onset quenches variability", "drop above"),
          ("auc_members", "members discriminate stimulus from baseline", "AUC above"),
          ("completion_evoked_index", "half an assembly recruits the other half",
           "index above"),
          ("rate_members_at_probe_hz", "members respond more strongly to their stimulus",
           "members' rate at the probe strength above"))),
    Claim("6", "a new stimulus set forms new assemblies", "remap_ratio_new_end",
          "new assemblies form; check: CI above the new groups' structure before remapping and "
          "mean > 1.5", _FORMING, "the new groups' within/between before remapping",
          "remap_ratio_new_start", direction="greater", threshold=lambda v: v > 1.5),
    Claim("6", "old assemblies weaken during remapping", "remap_w_within_old_change",
          "within weight of the old assemblies decays (paper: 80 presentations per stimulus); "
          "check: below their drift in spontaneous activity over the same time", _FORMING,
          "the within-weight drift without remapping over the same time",
          "remap_w_within_old_change_null", direction="less"),
)
"""Claims per run group; a claim applies to the groups whose ``rule`` is in ``rules``."""


_DERIVED = {
    "probe_corr_same_minus_different_after": ("probe_corr_same_spont_after",
                                              "probe_corr_different_spont_after"),
    "probe_corr_same_minus_different_before": ("probe_corr_same_spont_before",
                                               "probe_corr_different_spont_before"),
}


def _value(ds: xr.Dataset, quantity: str) -> float:
    """A scalar of the analysis dataset, or a difference of two; NaN when absent."""
    def get(name: str) -> float:
        return float(ds[name].mean()) if name in ds else math.nan

    if quantity in _DERIVED:
        a, b = _DERIVED[quantity]
        return get(a) - get(b)
    return get(quantity)


def _coord(ds: xr.Dataset, name: str):
    if name not in ds.coords:
        return ""
    value = ds[name].values
    return value.item() if value.ndim == 0 else value[0].item()


def _sweep(ds: xr.Dataset) -> dict[str, object]:
    """The run's sweep point: its store's ``sweep_json``, else its four main coordinates."""
    if "sweep_json" in ds.attrs:
        return json.loads(ds.attrs["sweep_json"])
    return {k: _coord(ds, k) for k in ("n_neurons", "rule", "learning_speed", "seed")}


def group_runs(analyses: Mapping[str, xr.Dataset]) -> dict[str, dict[object, xr.Dataset]]:
    """Runs grouped by their sweep point without the seed: ``group id -> {seed: dataset}``."""
    from homeoplastic.assemblies.sweep import in_id_order
    from homeoplastic.sweep import run_id_of

    groups: dict[str, dict[object, xr.Dataset]] = {}
    for run, ds in sorted(analyses.items()):
        point = _sweep(ds)
        seed = point.get("seed", run)
        rest = {k: v for k, v in point.items() if k != "seed"}
        key = run_id_of(in_id_order(rest)) if rest else run
        if seed in groups.setdefault(key, {}):
            raise ValueError(f"summary: two runs of {key} have seed {seed!r} ({run})")
        groups[key][seed] = ds
    return groups


def _status(runs: Mapping[object, xr.Dataset]) -> str:
    stopped = {seed: ds.attrs.get("run_stopped_because", "")
               for seed, ds in runs.items() if ds.attrs.get("run_status", "completed") != "completed"}
    if not stopped:
        return "completed"
    why = "; ".join(f"seed {s}: {r}" for s, r in stopped.items())
    return f"stopped: {len(stopped)} of {len(runs)} seeds ({why})"


def _null_values(claim: Claim, runs: Mapping[object, xr.Dataset], seeds: list,
                 groups: Mapping[str, Mapping[object, xr.Dataset]]) -> np.ndarray | float:
    """The claim's null per seed (NaN where a seed has none), or its constant."""
    if claim.null_rule is not None:
        from homeoplastic.assemblies.sweep import in_id_order
        from homeoplastic.sweep import run_id_of

        point = {k: v for k, v in _sweep(runs[seeds[0]]).items() if k != "seed"}
        other = groups.get(run_id_of(in_id_order({**point, "rule": claim.null_rule})), {})
        name = claim.null_quantity or claim.quantity
        return np.array([_value(other[s], name) if s in other else math.nan for s in seeds])
    if claim.null_quantity:
        return np.array([_value(runs[s], claim.null_quantity) for s in seeds])
    return float(claim.null_constant)


def _null_name(claim: Claim) -> str:
    name = claim.null_quantity or (claim.quantity if claim.null_rule else "")
    return f"{name} (rule {claim.null_rule})" if claim.null_rule else name


def verdict_row(claim: Claim, effect: np.ndarray, null: np.ndarray | float,
                threshold: Callable[[float], bool] | None) -> dict[str, object]:
    """The statistics columns of one row (effect over seeds, null, verdict)."""
    v = judge(effect, null, claim.direction, threshold)
    agrees = v.agrees
    if claim.band is not None and v.n:
        lo, hi = claim.band
        agrees = (f"{TOO_FEW} (n = {v.n})" if v.n < MIN_SEEDS else
                  "yes" if lo <= v.ci_low and v.ci_high <= hi else "no")
    return {"measured": _fmt(v.mean), "n": v.n, "ci_low": _fmt(v.ci_low),
            "ci_high": _fmt(v.ci_high), "null_value": _fmt(v.null_value),
            "diff_ci_low": _fmt(v.diff_ci_low), "diff_ci_high": _fmt(v.diff_ci_high),
            "agrees": agrees}


def summary_rows(analyses: Mapping[str, xr.Dataset],
                 extra: Mapping[str, Iterable[Mapping[str, object]]] | None = None
                 ) -> list[dict[str, object]]:
    """Rows of the results table for every run group (``analyses`` maps run name to its
    dataset; the runs of a group differ only in their seed).

    ``extra`` maps group ids to additional ready-made rows that carry at least figure, claim,
    quantity, measured, units and paper.
    """
    rows: list[dict[str, object]] = []
    groups = group_runs(analyses)
    for group, runs in groups.items():
        seeds = sorted(runs, key=str)
        first = runs[seeds[0]]
        base = {"run": group, **{k: _coord(first, k) for k in ("n_neurons", "rule",
                                                               "learning_speed")},
                "seeds": " ".join(str(s) for s in seeds)}
        at_paper_scale = (base["n_neurons"] == PAPER_N_NEURONS
                          and base["learning_speed"] == PAPER_LEARNING_SPEED)
        base["scale"] = ("paper" if at_paper_scale else
                         f"reduced (N = {base['n_neurons']}, speed {_fmt(base['learning_speed'])})")
        base["run_status"] = _status(runs)
        stopped = base["run_status"] != "completed"
        for claim in CLAIMS:
            if base["rule"] not in claim.rules:
                continue
            effect = np.array([_value(runs[s], claim.quantity) for s in seeds])
            null = _null_values(claim, runs, seeds, groups)
            paper_text, threshold = claim.paper, claim.threshold
            if at_paper_scale and claim.paper_scale is not None:
                paper_text, threshold = claim.paper_scale
            stats = verdict_row(claim, effect, null, threshold)
            if stats["agrees"] == NOT_MEASURED and stopped:
                # e.g. a stopped run has no later stages: say so in the row
                stats["agrees"] = NOT_MEASURED + " (run stopped early)"
            units = next((runs[s][claim.quantity].attrs.get("units", "1") for s in seeds
                          if claim.quantity in runs[s]), "1")
            rows.append({**base, **stats, "kind": claim.kind, "figure": claim.figure,
                         "claim": claim.claim, "quantity": claim.quantity, "units": units,
                         "null": claim.null, "null_quantity": _null_name(claim),
                         "paper": paper_text,
                         "per_seed": "; ".join(f"{s}: {_fmt(e)}"
                                               for s, e in zip(seeds, effect, strict=True))})
        for row in (extra or {}).get(group, ()):
            rows.append({**base, "agrees": "", **row, "measured": _fmt(row["measured"])})
    return rows


def learning_speed_rows(analyses: Mapping[str, xr.Dataset]) -> list[dict[str, object]]:
    """Supplementary, descriptive: several learning speeds give similar assemblies.

    For every (size, rule) swept at two or more speeds: per seed the largest over the smallest
    within/between ratio after training, its mean and CI over seeds (not judged: similarity is
    the absence of an effect).
    """
    groups: dict[tuple, dict[object, list[tuple[float, float]]]] = {}
    for ds in analyses.values():
        key = tuple(_coord(ds, k) for k in ("n_neurons", "rule"))
        groups.setdefault(key, {}).setdefault(_coord(ds, "seed"), []).append(
            (_coord(ds, "learning_speed"), _value(ds, "ratio_after_training")))
    rows = []
    for (n, rule), by_seed in sorted(groups.items(), key=lambda item: str(item[0])):
        spreads, speeds = {}, set()
        for seed, points in by_seed.items():
            ratios = [r for _, r in points if not math.isnan(r)]
            speeds.update(float(s) for s, _ in points)
            if len(ratios) >= 2:
                spreads[seed] = max(ratios) / min(ratios)
        if not spreads or rule not in _FORMING:
            continue
        count, mean, low, high = t_interval(list(spreads.values()))
        rows.append({"run": f"n_neurons~{n}_rule~{rule}", "n_neurons": n, "rule": rule,
                     "learning_speed": ",".join(_fmt(s) for s in sorted(speeds)),
                     "seeds": " ".join(str(s) for s in sorted(spreads, key=str)),
                     "kind": "descriptive", "figure": "S",
                     "claim": "learning speeds give similar assemblies",
                     "quantity": "ratio_after_training_max_over_min", "measured": _fmt(mean),
                     "n": count, "ci_low": _fmt(low), "ci_high": _fmt(high), "units": "1",
                     "null": "1: the same assemblies at every speed", "null_value": "1",
                     "paper": "similar assemblies at several speeds; not judged", "agrees": "",
                     "per_seed": "; ".join(f"{s}: {_fmt(v)}" for s, v in spreads.items())})
    return rows


PRESYNAPTIC_ONLY_RULES = ("calcium", "calcium_plain")
"""Rules the paper reports potentiating at high presynaptic rates even with low postsynaptic rates
(Fig. 5a, right: "the calcium-based rule led to synaptic potentiation at sufficiently high
presynaptic rates, even with low postsynaptic rates")."""


def rate_dependence_rows(maps: xr.Dataset, training_rate_hz: float = 50.0
                         ) -> list[dict[str, object]]:
    """Fig. 5a per E->E rule: depression at low and potentiation at high postsynaptic rates.

    ``maps`` is the rate-dependence store (dw_dt_pf_per_s over rule, pre_rate_hz, post_rate_hz).
    The depression and potentiation checks use the strongest presynaptic drive up to
    ``training_rate_hz`` (the rates a training stimulus evokes). A third row checks the paper's
    calcium finding at the grid's highest presynaptic rate: growth with the lowest postsynaptic
    rate for the calcium rule, none for the others. A fourth, unchecked row gives the presynaptic
    selectivity of potentiation (growth at the highest pre rate over growth at the lowest, both at
    the highest post rate): a rule whose growth follows the postsynaptic rate alone (selectivity
    near 1) potentiates every input of a stimulated cell, and the 20-ms row normalisation then
    cancels most of it, so its assemblies stay weak.
    """
    dw = maps["dw_dt_pf_per_s"]
    pre = np.asarray(dw.pre_rate_hz.values, float)
    pre_lo, pre_hi = float(pre.min()), float(pre.max())
    pre_train = float(pre[pre <= training_rate_hz].max()) if (pre <= training_rate_hz).any() \
        else pre_lo
    post_lo, post_hi = float(dw.post_rate_hz.min()), float(dw.post_rate_hz.max())
    rows: list[dict[str, object]] = []
    for rule in dw.rule.values:
        at = dw.sel(rule=rule)
        low = float(at.sel(pre_rate_hz=pre_train, post_rate_hz=post_lo))
        high = float(at.sel(pre_rate_hz=pre_train, post_rate_hz=post_hi))
        pre_only = float(at.sel(pre_rate_hz=pre_hi, post_rate_hz=post_lo))
        top = float(at.sel(pre_rate_hz=pre_hi, post_rate_hz=post_hi))
        unselective = float(at.sel(pre_rate_hz=pre_lo, post_rate_hz=post_hi))
        grows_pre_only = str(rule) in PRESYNAPTIC_ONLY_RULES
        base = {"run": "rate_dependence", "rule": str(rule), "learning_speed": 1.0, "figure": "5a",
                "scale": "synapse level", "kind": "rule"}
        rows += [
            {**base, "claim": "weights fall at low postsynaptic rates",
             "quantity": f"dw_dt_pre{_fmt(pre_train)}_post{_fmt(post_lo)}_hz", "measured": _fmt(low),
             "units": "pF/s", "paper": "depression at low post rates, all three rules; check: < 0",
             "agrees": "yes" if low < 0 else "no"},
            {**base, "claim": "weights grow at high postsynaptic rates",
             "quantity": f"dw_dt_pre{_fmt(pre_train)}_post{_fmt(post_hi)}_hz", "measured": _fmt(high),
             "units": "pF/s", "paper": "potentiation at high post rates, all three rules; check: > 0",
             "agrees": "yes" if high > 0 else "no"},
            {**base, "claim": "potentiation at high presynaptic rates even with low postsynaptic "
                              "rates" if grows_pre_only else
                              "no potentiation from presynaptic activity alone",
             "quantity": f"dw_dt_pre{_fmt(pre_hi)}_post{_fmt(post_lo)}_hz",
             "measured": _fmt(pre_only), "units": "pF/s",
             "paper": ("the calcium rule only (Fig. 5a, right); check: > 0" if grows_pre_only else
                       "the calcium rule only (Fig. 5a); check: <= 0"),
             "agrees": "yes" if (pre_only > 0) == grows_pre_only else "no"},
            {**base, "claim": "growth needs presynaptic activity (selectivity)",
             "quantity": f"dw_dt_pre{_fmt(pre_hi)}_over_pre{_fmt(pre_lo)}_at_post{_fmt(post_hi)}_hz",
             "measured": _fmt(top / unselective) if unselective > 0 else "nan", "units": "1",
             "paper": "not reported; near 1 means growth follows the post rate alone", "agrees": ""},
        ]
    return rows


def write_csv(rows: Iterable[Mapping[str, object]], path: str | os.PathLike[str]) -> None:
    """Write the table atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def write_summary(analysis_paths: Iterable[str | os.PathLike[str]],
                  path: str | os.PathLike[str],
                  rate_dependence_path: str | os.PathLike[str] | None = None,
                  dt_check_path: str | os.PathLike[str] | None = None
                  ) -> list[dict[str, object]]:
    """Read the runs' analysis stores (and the rate maps and dt check), build every row, write
    the CSV table."""
    from homeoplastic.store import open_store

    analyses = {Path(p).parent.name: open_store(p).load() for p in analysis_paths}
    rows = summary_rows(analyses) + learning_speed_rows(analyses)
    if rate_dependence_path is not None:
        rows += rate_dependence_rows(open_store(rate_dependence_path).load())
    if dt_check_path is not None:
        rows += dt_check_rows(open_store(dt_check_path).load())
    write_csv(rows, path)
    return rows


def dt_check_rows(ds: xr.Dataset) -> list[dict[str, object]]:
    """Rows of ``results/summary.csv``: each finer dt against the coarsest, in seed spreads.

    ``ds`` is the dt check's dataset (:mod:`homeoplastic.assemblies.experiments.dt_check`); its
    attr ``tolerance_spreads`` is the agreement bound.
    """
    tolerance = float(ds.attrs["tolerance_spreads"])
    coarse = float(ds.dt_ms[0])
    rows: list[dict[str, object]] = []
    for dt in ds.dt_ms.values[1:]:
        for name, what in (("ratio", "within/between after training"), ("rate", "E rate")):
            shift = float(ds[f"{name}_shift_in_spreads"].sel(dt_ms=dt))
            rows.append({
                "run": "dt_check", "rule": "voltage", "n_neurons": ds.attrs["n_neurons"],
                "kind": "method",
                "learning_speed": ds.attrs["learning_speed"], "figure": "S",
                "claim": f"dt = {dt:g} ms gives the same {what} as {coarse:g} ms",
                "quantity": f"{name}_shift_dt{dt:g}_in_seed_spreads", "measured": f"{shift:.4g}",
                "units": "1", "paper": f"results do not depend on dt (supplementary); check: "
                f"< {tolerance:g} seed spreads",
                "agrees": "yes" if shift < tolerance else "no"})
    return rows
