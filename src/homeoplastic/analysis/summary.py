"""The results table: each claim of Litwin-Kumar & Doiron (2014), measured per run, next to the paper.

``summary_rows`` turns the per-run analysis datasets (and, where present, probe statistics) into
rows of ``results/summary.csv``: figure, claim, quantity, measured value, units, what the paper
reports, and whether the measurement agrees with the paper's qualitative statement. The paper's
numbers come from the model page (docs/models/assemblies.md, 10); where the paper gives
only a direction, the check is that direction, with the tolerance stated in the row.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from homeoplastic.config import table_value as _fmt

NOT_MEASURED = "not measured"
"""The ``agrees`` entry of a claim whose quantity the run does not have (a stage it did not run)."""

COLUMNS = ("run", "n_neurons", "rule", "learning_speed", "seed", "scale", "figure", "claim",
           "quantity", "measured", "units", "paper", "agrees", "run_status")
"""``scale``: ``paper`` (N = 5000 at the paper's learning speed 1) or ``reduced`` (with the size and
speed), the scale a row's check was made for; ``run_status``: completed, or where and why the rate
guard stopped the run."""

PAPER_N_NEURONS, PAPER_LEARNING_SPEED = 5000, 1.0


@dataclass(frozen=True)
class Claim:
    """One line of the table: where the value comes from and what the paper says about it."""

    figure: str
    claim: str
    quantity: str
    paper: str
    rules: tuple[str, ...]
    check: Callable[[float], bool] | None = None
    paper_scale: tuple[str, Callable[[float], bool]] | None = None
    """(paper text, check) used instead of ``paper``/``check`` for runs at the paper's scale."""


_FORMING = ("voltage", "triplet", "calcium")
_HOMEOSTATIC = ("voltage", "triplet", "calcium", "voltage_no_normalisation")

CLAIMS: tuple[Claim, ...] = (
    Claim("1", "without homeostasis the rate runs away during training", "rate_exc_train_max_hz",
          "runaway after a few tens of presentations (~200 s) [text, unverified]; check: > 10 Hz",
          ("voltage_no_homeostasis",), lambda v: v > 10.0),
    Claim("1", "without homeostasis the run guard stops training early", "train_status_ok",
          "runaway (the guard stops a run that leaves its rate band); check: 0 = stopped",
          ("voltage_no_homeostasis",), lambda v: v == 0.0),
    Claim("1", "with homeostasis the rate stays low during training", "rate_exc_train_max_hz",
          "no runaway; check: < 10 Hz", _FORMING, lambda v: v < 10.0),
    Claim("2", "training forms assemblies", "ratio_after_training",
          "within weights near J_max, between near J_min (Fig. 2; third-party triplet run at paper "
          "scale: 5.7); check: > 3", ("voltage", "triplet"), lambda v: v > 3.0),
    Claim("2", "training forms assemblies (weakly for calcium)", "ratio_after_training",
          "only certain assemblies stay potentiated (Fig. 5b, c); check: > 1.5", ("calcium",),
          lambda v: v > 1.5),
    Claim("5", "stimulated assemblies potentiate their synapses onto non-members (interference)",
          "w_assembly_to_outside_change_training",
          "the calcium rule potentiates at high presynaptic rates even with low postsynaptic rates "
          "(Fig. 5a), hence interference during training; check: relative change > 0", ("calcium",),
          lambda v: v > 0.0),
    Claim("5", "no potentiation onto non-members without postsynaptic activity",
          "w_assembly_to_outside_change_training",
          "the triplet and voltage rules need postsynaptic activity to potentiate (Fig. 5a); check: "
          "relative change <= 0", ("voltage", "triplet"), lambda v: v <= 0.0),
    Claim("5", "training later assemblies erodes earlier ones (interference)",
          "training_gain_kept_min",
          "calcium rule: 'interference between assemblies during training, with only certain "
          "assemblies remaining potentiated after training' (Fig. 5b, c); check: some assembly "
          "ends training below 90 % of its peak gain", ("calcium",), lambda v: v < 0.9),
    Claim("5", "training later assemblies leaves earlier ones alone",
          "training_gain_kept_min",
          "the voltage and triplet rules need postsynaptic activity to change a synapse, so "
          "training one assembly does not touch the others (Fig. 5a); check: every assembly "
          "ends training at >= 90 % of its peak gain", ("voltage", "triplet"),
          lambda v: v >= 0.9),
    Claim("5", "spontaneous activity keeps most assemblies", "assemblies_kept_fraction",
          "voltage and triplet rules: spontaneous activity improves stability 'for most but not all "
          "assemblies' (Fig. 5b); check: at least half keep half their training gain",
          ("voltage", "triplet"), lambda v: v >= 0.5),
    Claim("5", "only certain assemblies stay potentiated (winner-take-all)", "assemblies_kept_fraction",
          "calcium rule: 'only certain assemblies remaining potentiated after training' (Fig. 5b, c); "
          "check: some but not all keep half their training gain", ("calcium",),
          lambda v: 0.0 < v < 1.0),
    Claim("5", "within weights rise for certain assemblies after training",
          "assemblies_growing_fraction",
          "calcium rule: within weights 'increased for certain assemblies after training' (Fig. 5b); "
          "check: at least one grows in spontaneous activity", ("calcium",), lambda v: v > 0.0),
    Claim("2", "post-training spontaneous E rate", "rate_exc_post_training_hz",
          "~1.7 Hz (third party 1.60-1.65 Hz); check at reduced scale: 0.5-5 Hz (smaller networks "
          "at fixed in-degree and faster learning settle lower)", _FORMING,
          lambda v: 0.5 <= v <= 5.0,
          paper_scale=("~1.7 Hz (third party 1.60-1.65 Hz); check: 1.2-2.4 Hz",
                       lambda v: 1.2 <= v <= 2.4)),
    Claim("2", "assemblies reactivate in spontaneous activity", "reactivations_per_min",
          "structured spontaneous activity (assemblies reactivate); check: > 0", _FORMING, lambda v: v > 0.0),
    Claim("3", "without iSTDP one assembly dominates (winner-take-all)",
          "assembly_rate_max_over_mean",
          "one assembly dominates; E rate 68-93 Hz (third party); check: > 1.5",
          ("voltage_no_istdp",), lambda v: v > 1.5),
    Claim("3", "with iSTDP no assembly dominates", "assembly_rate_max_over_mean",
          "assemblies share spontaneous activity; the largest assembly's rate / mean (no check: "
          "see the next row)", _FORMING),
    Claim("3", "with iSTDP no assembly dominates beyond sampling", "assembly_rate_dominance",
          "assemblies share spontaneous activity; check: max/mean below the larger of 1.5 and "
          "the 95th percentile of equal-rate assemblies with the measured sampling error (< 1) "
          "(winner-take-all without iSTDP at paper scale: max/mean 10.6)", _FORMING,
          lambda v: v < 1.0),
    Claim("4", "recurrent network keeps its assemblies", "w_within_change_recurrent",
          "within weights stable or growing; check: relative change >= -2%", _HOMEOSTATIC,
          lambda v: v >= -0.02),
    Claim("4", "the control fires at the intact network's rates before E->E STDP starts",
          "settle_rate_over_target",
          "rates reach their targets in the settle (paper: 200 s, matched rates); "
          "check: E rate / mean target within 0.9-1.1 (iSTDP's own fixed point lies ~1.14 "
          "above: next rows)", _HOMEOSTATIC, lambda v: 0.9 <= v <= 1.1),
    Claim("4", "the control's rates reach iSTDP's fixed point before E->E STDP starts",
          "settle_rate_over_fixed_point",
          "not in the paper: the rule's drift vanishes at 2 r0 / (kappa + rho), with the "
          "input correlations measured in the settle; check: E rate / fixed point within "
          "0.95-1.05", _HOMEOSTATIC, lambda v: 0.95 <= v <= 1.05),
    Claim("4", "causal inhibition puts iSTDP's fixed point above the targets",
          "settle_fixed_point_over_target",
          "not in the paper: an I spike delays its targets' next spike (rho < 1); "
          "check: fixed point / target > 1", _HOMEOSTATIC, lambda v: v > 1.0),
    Claim("4", "non-recurrent control loses them faster", "within_decay_control_minus_intact",
          "control decays faster; check: difference > 0", _HOMEOSTATIC, lambda v: v > 0.0),
    Claim("4", "recurrent network heals a 10% cut", "recovery_fraction_recurrent",
          "weights recover (fraction near 1); check: >= 0.5", _HOMEOSTATIC, lambda v: v >= 0.5),
    Claim("4", "control does not heal", "recovery_fraction_nonrecurrent",
          "weights do not recover; check: < 0.5", _HOMEOSTATIC,
          lambda v: v < 0.5),
    Claim("8", "stimulus onset quenches variability after training", "probe_fano_drop_after",
          "mean-matched Fano factor drops at onset (magnitude not recovered); check: drop > 0", _FORMING,
          lambda v: v > 0.0),
    Claim("8", "members discriminate stimulus from baseline", "probe_auc_members_after",
          "members discriminate (200 ms counts); check: AUC > 0.5", _FORMING, lambda v: v > 0.5),
    Claim("9", "same-assembly pairs correlate more than different-assembly pairs",
          "probe_corr_same_minus_different_after",
          "higher spike-count correlation within assemblies; check: difference > 0", _FORMING,
          lambda v: v > 0.0),
    Claim("8", "half an assembly recruits the other half (pattern completion)",
          "probe_completion_evoked_index_after", "the unstimulated half responds; check: index > 0",
          _FORMING, lambda v: v > 0.0),
    Claim("6", "a new stimulus set forms new assemblies", "remap_ratio_new_end",
          "new assemblies form; check: within/between > 1.5", _FORMING, lambda v: v > 1.5),
    Claim("6", "old assemblies weaken during remapping", "remap_w_within_old_change",
          "within weight of the old assemblies decays (paper: 80 presentations per stimulus); "
          "check: relative change < 0", _FORMING, lambda v: v < 0.0),
)
"""Claims checked per run; a claim applies to the runs whose ``rule`` is in ``rules``."""


def _value(ds: xr.Dataset, quantity: str) -> float:
    """A scalar of the analysis dataset, or one derived from two of them; NaN when absent."""
    def get(name: str) -> float:
        return float(ds[name].mean()) if name in ds else math.nan

    if quantity == "within_decay_control_minus_intact":
        return get("w_within_change_recurrent") - get("w_within_change_nonrecurrent")
    if quantity == "probe_corr_same_minus_different_after":
        return get("probe_corr_same_spont_after") - get("probe_corr_different_spont_after")
    return get(quantity)


def _coord(ds: xr.Dataset, name: str):
    if name not in ds.coords:
        return ""
    value = ds[name].values
    return value.item() if value.ndim == 0 else value[0].item()


def summary_rows(analyses: Mapping[str, xr.Dataset],
                 extra: Mapping[str, Iterable[Mapping[str, object]]] | None = None
                 ) -> list[dict[str, object]]:
    """Rows of the results table for every run (``analyses`` maps run name to its dataset).

    ``extra`` maps run names to additional ready-made rows (e.g. probe statistics) that carry
    at least figure, claim, quantity, measured, units and paper.
    """
    rows: list[dict[str, object]] = []
    for run, ds in sorted(analyses.items()):
        base = {"run": run, **{k: _coord(ds, k) for k in ("n_neurons", "rule", "learning_speed",
                                                         "seed")}}
        at_paper_scale = (base["n_neurons"] == PAPER_N_NEURONS
                          and base["learning_speed"] == PAPER_LEARNING_SPEED)
        base["scale"] = ("paper" if at_paper_scale else
                         f"reduced (N = {base['n_neurons']}, speed {_fmt(base['learning_speed'])})")
        stopped = ds.attrs.get("run_status", "completed") != "completed"
        base["run_status"] = (f"stopped: {ds.attrs.get('run_stopped_because', '')}" if stopped
                              else "completed")
        for claim in CLAIMS:
            if base["rule"] not in claim.rules:
                continue
            value = _value(ds, claim.quantity)
            paper_text, check = claim.paper, claim.check
            if at_paper_scale and claim.paper_scale is not None:
                paper_text, check = claim.paper_scale
            if math.isnan(value):
                # e.g. a short-chain run has no control or probe stages, a stopped run no later ones
                agrees = NOT_MEASURED + (" (run stopped early)" if stopped else "")
            else:
                agrees = "" if check is None else ("yes" if check(value) else "no")
            units = ds[claim.quantity].attrs.get("units", "1") if claim.quantity in ds else "1"
            rows.append({**base, "figure": claim.figure, "claim": claim.claim,
                         "quantity": claim.quantity, "measured": _fmt(value), "units": units,
                         "paper": paper_text, "agrees": agrees})
        for row in (extra or {}).get(run, ()):
            rows.append({**base, "agrees": "", **row, "measured": _fmt(row["measured"])})
    return rows


def learning_speed_rows(analyses: Mapping[str, xr.Dataset]) -> list[dict[str, object]]:
    """Supplementary claim: several learning speeds give similar assemblies.

    For every (size, rule, seed) swept at two or more speeds: the largest over the smallest
    within/between ratio after training.
    """
    groups: dict[tuple, list[tuple[float, float]]] = {}
    for ds in analyses.values():
        key = tuple(_coord(ds, k) for k in ("n_neurons", "rule", "seed"))
        groups.setdefault(key, []).append(
            (_coord(ds, "learning_speed"), _value(ds, "ratio_after_training")))
    rows = []
    for (n, rule, seed), points in sorted(groups.items(), key=lambda item: str(item[0])):
        ratios = [r for _, r in points if not math.isnan(r)]
        if len(ratios) < 2 or rule not in _FORMING:
            continue
        spread = max(ratios) / min(ratios)
        speeds = ",".join(_fmt(float(s)) for s, _ in sorted(points))
        rows.append({"run": f"n_neurons~{n}_rule~{rule}_seed~{seed}", "n_neurons": n,
                     "rule": rule, "learning_speed": speeds, "seed": seed, "figure": "S",
                     "claim": "learning speeds give similar assemblies",
                     "quantity": "ratio_after_training_max_over_min", "measured": _fmt(spread),
                     "units": "1", "paper": "similar assemblies at several speeds (< 1.5)",
                     "agrees": "yes" if spread < 1.5 else "no"})
    return rows


PRESYNAPTIC_ONLY_RULES = ("calcium",)
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
                "scale": "synapse level"}
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
                "learning_speed": ds.attrs["learning_speed"], "figure": "S",
                "claim": f"dt = {dt:g} ms gives the same {what} as {coarse:g} ms",
                "quantity": f"{name}_shift_dt{dt:g}_in_seed_spreads", "measured": f"{shift:.4g}",
                "units": "1", "paper": f"results do not depend on dt (supplementary); check: "
                f"< {tolerance:g} seed spreads",
                "agrees": "yes" if shift < tolerance else "no"})
    return rows
