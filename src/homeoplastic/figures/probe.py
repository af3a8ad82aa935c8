"""Figure of the probe statistics before and after training (paper Figs. 8 and 9).

Panels: member rates around the stimulus, the mean-matched Fano factor of all recorded cells minus
its baseline (the stimulated members alone are too few cells for a readable curve; their drop is
``fano_members_drop`` of the probe summary), ROC area over time,
noise correlations of same- and different-assembly pairs, gain curves, pattern completion. Input
datasets are the outputs of :func:`homeoplastic.assemblies.experiments.probe.run_probe`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from homeoplastic.figures import DPI, subplots

COLOURS = {"before": "0.45", "after": "tab:red"}


def _mean_over_stimuli(da: xr.DataArray) -> xr.DataArray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return da.mean("stimulus", skipna=True)


def _stimulus_span(ax, ds: xr.Dataset) -> None:
    ax.axvspan(0.0, float(ds.attrs["on_s"]), color="gold", alpha=0.2, lw=0)


def plot_probe(before: xr.Dataset, after: xr.Dataset, path: str | Path) -> Figure:
    """Draw the probe panels for the untrained and trained network and save a PNG to ``path``."""
    runs = {"before": before, "after": after}
    fig, axes = subplots(2, 3, figsize=(13, 7.5), constrained_layout=True)

    ax = axes[0, 0]
    for tag, ds in runs.items():
        c = COLOURS[tag]
        t = ds["window_time"]
        ax.plot(t, _mean_over_stimuli(ds["rate_members_hz"]), color=c, label=f"members, {tag}")
        ax.plot(t, _mean_over_stimuli(ds["rate_nonmembers_hz"]), color=c, ls="--",
                label=f"non-members, {tag}")
    _stimulus_span(ax, before)
    ax.set_xlabel("time from stimulus onset [s]")
    ax.set_ylabel("rate [Hz]")
    ax.set_title(f"response to +{before.attrs['rate_hz'] / 1000:g} kHz")
    ax.legend(fontsize=7)

    ax = axes[0, 1]
    for tag, ds in runs.items():
        # the claim is a drop at onset: each curve minus its own baseline, all cells mean-matched
        c = COLOURS[tag]
        t = ds["window_time"].values
        w = float(ds.attrs["window_s"])
        base_win = t + w / 2 <= 1e-9
        stim_win = (t - w / 2 >= -1e-9) & (t + w / 2 <= float(ds.attrs["on_s"]) + 1e-9)
        fano = ds["fano_mean_matched"].values
        base = float(np.nanmean(fano[base_win]))
        drop = base - float(np.nanmean(fano[stim_win]))
        ci = ds["fano_mean_matched_ci95"]
        ax.plot(t, fano - base, color=c, lw=1.6,
                label=f"all cells, {tag}: drop {drop:+.3f}")
        ax.fill_between(t, ci.sel(bound="low") - base, ci.sel(bound="high") - base, color=c,
                        alpha=0.2, lw=0)
    _stimulus_span(ax, before)
    ax.axhline(0.0, color="k", lw=0.5)
    ax.set_xlabel("time from stimulus onset [s]")
    ax.set_ylabel("Fano factor minus its baseline [1]")
    ax.set_title(f"Fano factor change at onset ({before.attrs['window_s'] * 1000:g} ms windows)")
    ax.legend(fontsize=7)

    ax = axes[0, 2]
    for tag, ds in runs.items():
        c = COLOURS[tag]
        t = ds["auc_time"]
        ax.plot(t, _mean_over_stimuli(ds["auc_population"]), color=c,
                label=f"population sum, {tag}")
        ax.plot(t, _mean_over_stimuli(ds["auc_members"]), color=c, ls="--",
                label=f"single members, {tag}")
    _stimulus_span(ax, before)
    ax.axhline(0.5, color="k", lw=0.5)
    ax.set_ylim(0.3, 1.02)
    ax.set_xlabel("time from stimulus onset [s]")
    ax.set_ylabel("ROC area, stimulus vs baseline [1]")
    ax.set_title(f"discriminability ({before.attrs['auc_window_s'] * 1000:g} ms windows)")
    ax.legend(fontsize=7)

    ax = axes[1, 0]
    labels, x = [], 0
    for epoch in ("before", "during"):
        for tag, ds in runs.items():
            for kind, hatch in (("same", ""), ("different", "//")):
                value = float(ds[f"corr_{kind}"].sel(epoch=epoch))
                ax.bar(x, value, color=COLOURS[tag], hatch=hatch, edgecolor="k", lw=0.5)
                labels.append(f"{kind}\n{tag}")
                x += 1
        x += 0.5
    ax.set_xticks([i + 0.5 * (i // 4) for i in range(len(labels))], labels, fontsize=6)
    ax.axhline(0.0, color="k", lw=0.5)
    ax.set_ylabel("noise correlation [1]")
    ax.set_title("noise correlations (left: baseline, right: stimulus)")

    ax = axes[1, 1]
    for tag, ds in runs.items():
        c = COLOURS[tag]
        k_hz = ds["strength"] / 1000.0
        ax.plot(k_hz, ds["gain_rate_members_hz"], "o-", color=c, label=f"members, {tag}")
        ax.plot(k_hz, ds["gain_rate_nonmembers_hz"], "s--", color=c, label=f"non-members, {tag}")
    ax.set_xlabel("stimulus strength (added external rate) [kHz]")
    ax.set_ylabel("rate during stimulus [Hz]")
    ax.set_title("gain curves")
    ax.legend(fontsize=7)

    ax = axes[1, 2]
    groups = list(before["completion_group"].values)
    width = 0.38
    for j, (tag, ds) in enumerate(runs.items()):
        rates = _mean_over_stimuli(ds["completion_rate_hz"].sel(epoch="during"))
        base = _mean_over_stimuli(ds["completion_rate_hz"].sel(epoch="before"))
        pos = np.arange(len(groups)) + (j - 0.5) * width
        index = float(ds["completion_evoked_index_pooled"])
        ax.bar(pos, rates, width, color=COLOURS[tag], label=f"{tag} (evoked index {index:.2f})")
        ax.scatter(pos, base, color="k", marker="_", s=200, zorder=3)
    ax.set_xticks(np.arange(len(groups)), [g.replace("_", " ") for g in groups], fontsize=8)
    ax.set_ylabel("rate during half-assembly stimulus [Hz]")
    ax.set_title("pattern completion (black: baseline)")
    ax.legend(fontsize=7)

    fig.suptitle(f"probe statistics, N = {before.attrs.get('n_neurons', '?')}: before (grey) and "
                 "after (red) training")
    fig.savefig(path, dpi=DPI)
    return fig


def save_probe_figure(before_path: str | Path, after_path: str | Path, out_png: str | Path) -> None:
    """Workflow entry: open the two probe stores, draw the panels, save the PNG."""
    from homeoplastic.store import open_store

    plot_probe(open_store(before_path).load(), open_store(after_path).load(), out_png)
