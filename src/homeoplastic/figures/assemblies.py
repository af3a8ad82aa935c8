"""Figures of the assembly model: one run's overview and the sweep summary.

Each function takes datasets (or store paths) and returns a matplotlib Figure; axis labels come
from the variables' ``long_name`` and ``units``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from homeoplastic.assemblies.runs import assembly_members
from homeoplastic.figures import DPI, subplots
from homeoplastic.figures.panels import draw_panels
from homeoplastic.store import open_store, verify_store

STAGE_COLOURS = {"simulate": "0.5", "train": "tab:orange", "spontaneous_recurrent": "tab:blue",
                 "spontaneous_nonrecurrent": "tab:red"}


def _label(da: xr.DataArray) -> str:
    return f"{da.attrs.get('long_name', da.name)} [{da.attrs.get('units', '')}]"


def _label_axes(ax, xlabel: str, ylabel: str, title: str, *, ref: float | None = None,
                legend_loc: str = "best") -> None:
    """Axis labels (with units), title, an optional reference line and a legend if any."""
    if ref is not None:
        ax.axhline(ref, color="0.7", lw=0.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc=legend_loc)


def _raster(ax, path, seconds: float, n_cells: int, title: str) -> None:
    """Last ``seconds`` of a store's spikes, E cells ordered by assembly (members repeat)."""
    root = open_store(path)
    spikes = open_store(path, group="spikes")
    dt_s = float(root.attrs["dt_ms"]) * 1e-3
    order = np.concatenate(assembly_members(path))[:n_cells]
    row_of = {}
    for row, cell in enumerate(order):
        row_of.setdefault(int(cell), []).append(row)
    steps = spikes.spike_step.values
    cells = spikes.spike_cell.values
    t_end = float(root.attrs["run_end_s"])
    keep = steps * dt_s >= t_end - seconds
    xs, ys = [], []
    for s, c in zip(steps[keep], cells[keep], strict=True):
        for row in row_of.get(int(c), ()):
            xs.append(s * dt_s)
            ys.append(row)
    ax.scatter(xs, ys, s=0.6, c="k", marker="|", linewidths=0.5)
    ax.set_xlim(t_end - seconds, t_end)
    ax.set_ylim(-1, len(order))
    ax.set_xlabel("time [s]")
    ax.set_ylabel("E cells by assembly")
    ax.set_title(title)


def run_overview(paths: Mapping[str, str | Path], analysis: xr.Dataset, *, raster_seconds: float,
                 raster_cells: int, title: str) -> Figure:
    """Rasters before/after training, rates, weight ratio over the chain, recovery, remapping."""
    fig, axes = subplots(4, 2, figsize=(12, 14.5), constrained_layout=True)
    if "simulate" in paths:
        _raster(axes[0, 0], paths["simulate"], raster_seconds, raster_cells, "before training")
    if "spontaneous_recurrent" in paths:
        _raster(axes[0, 1], paths["spontaneous_recurrent"], raster_seconds, raster_cells,
                "spontaneous activity after training")
    ax = axes[1, 0]
    for stage, colour in STAGE_COLOURS.items():
        if stage in paths:
            ds = open_store(paths[stage])
            rate = ds.rate_exc_hz.coarsen(time=max(1, ds.time.size // 400), boundary="trim").mean()
            ax.plot(rate.time, rate, color=colour, lw=0.8, label=stage.replace("_", " "))
    _label_axes(ax, "time [s]", "E population rate [Hz]", "E rate over the chain")
    ax = axes[1, 1]
    if "w_ratio_recurrent" in analysis:
        ax.plot(analysis.time_recurrent, analysis.w_ratio_recurrent, color="tab:blue",
                label="intact (simulate, train, spontaneous)")
    if "w_ratio_nonrecurrent" in analysis:
        ax.plot(analysis.time_nonrecurrent, analysis.w_ratio_nonrecurrent, color="tab:red",
                label="non-recurrent control")
    _label_axes(ax, "time [s]", "within / between E->E weight [1]", "assembly structure", ref=1.0)
    ax = axes[2, 0]
    for mode, colour in (("recurrent", "tab:blue"), ("nonrecurrent", "tab:red")):
        key = f"perturb_{mode}"
        if key not in paths:
            continue
        ds = open_store(paths[key])
        a = int(ds.attrs["perturbed_assembly"])
        cut = float(ds.attrs["run_start_s"])  # the weights were cut at the start of the record
        series = [ds.w_assembly_pf.isel(pre_group=a, post_group=a)]
        try:
            pre = open_store(paths[key], group="before_perturbation")
            series.insert(0, pre.w_assembly_pf.isel(pre_group=a, post_group=a))
        except (FileNotFoundError, KeyError, OSError):
            pass
        for i, s in enumerate(series):
            ax.plot(s.snapshot_time - cut, s, color=colour,
                    label=mode if i == len(series) - 1 else None)
        ax.axhline(ds.attrs["w_perturbed_before_pf"], color=colour, ls=":", lw=0.8)
    if ax.has_data():
        ax.axvline(0.0, color="0.6", lw=0.8)
    _label_axes(ax, "time since the perturbation [s]",
                "within weight of the perturbed assembly [pF]",
                "recovery after a 10% perturbation (dotted: before the cut)")
    ax = axes[2, 1]
    if "w_within_old_remap_pf" in analysis:
        ax.plot(analysis.time_remap, analysis.w_within_old_remap_pf, label="old assemblies")
        ax.plot(analysis.time_remap, analysis.w_within_new_remap_pf, label="new assemblies")
        end_s = open_store(paths["remap"]).attrs.get("presentations_end_s") if "remap" in paths else None
        if end_s is not None:  # stores written before the attribute have no mark
            ax.axvline(end_s, color="0.6", ls="--", lw=0.8, label="last presentation ends")
    _label_axes(ax, "time [s]", "mean within-assembly E->E weight [pF]",
                "remapping with a new stimulus set (Fig. 6a)")
    ax = axes[3, 0]
    for name, colour, label in (("w_within_rel_recurrent", "tab:blue", "intact"),
                                ("w_within_rel_nonrecurrent", "tab:red", "non-recurrent control")):
        if name in analysis:
            series = analysis[name]
            time = series[series.dims[0]]
            ax.plot(time - time[0], 100.0 * series, color=colour, label=label)
    _label_axes(ax, "time since the phase's start [s]", "change of mean within weight [%]",
                "maintenance in spontaneous activity", ref=0.0)
    ax = axes[3, 1]
    if "reactivations_per_min" in analysis:
        index = analysis.assembly.values
        ax.bar(index - 0.2, analysis.reactivations_per_min, width=0.4, color="tab:purple",
               label="reactivations [1/min]")
        if "rate_assembly_spontaneous_hz" in analysis:
            ax.bar(index + 0.2, analysis.rate_assembly_spontaneous_hz, width=0.4,
                   color="tab:green", label="members' mean rate [Hz]")
    _label_axes(ax, "assembly", "reactivations [1/min] / rate [Hz]",
                "spontaneous activity per assembly")
    _say_what_is_missing(axes, paths)
    fig.suptitle(title)
    return fig


_PANEL_STAGES = {(0, 0): ("simulate",), (0, 1): ("spontaneous_recurrent",),
                 (2, 0): ("perturb_recurrent", "perturb_nonrecurrent"), (2, 1): ("remap",),
                 (3, 0): ("spontaneous_recurrent",), (3, 1): ("spontaneous_recurrent",)}


def _say_what_is_missing(axes, paths: Mapping[str, str | Path]) -> None:
    """Write into an empty panel which stages it needs and that this run does not have them."""
    for (row, col), stages in _PANEL_STAGES.items():
        ax = axes[row, col]
        missing = [s for s in stages if s not in paths]
        if len(missing) < len(stages):  # some of its data is there (reference lines are not data)
            continue
        text = (f"this run has no {', '.join(missing)} stage\n(short chain, or skipped after a "
                "guard stop)")
        ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")


def sweep_summary(ds: xr.Dataset, panels: list[Mapping]) -> Figure:
    """The sweep figure: the config's panels (``assemblies.figures.panels``) over the axes of
    ``ds`` (from ``open_sweep``), each point the mean over seeds with its 95 % CI and n."""
    return draw_panels(ds, panels, title="assembly sweep (bands: 95 % CI over seeds; n: seeds; "
                                         "red crosses: a run the rate guard stopped)")


def _one_run_per_rule(analyses: Mapping[str, xr.Dataset]) -> dict[str, xr.Dataset]:
    """One run per rule, all at the same network size and learning speed where possible.

    The comparison point is the (size, speed) swept with the most rules (ties: the larger
    network, then the faster speed); a rule not run there falls back to its largest network and
    speed. Within a point the lowest seed is used.
    """
    rules_at: dict[tuple[float, float], set[str]] = {}
    for ds in analyses.values():
        point = (float(ds.n_neurons), float(ds.learning_speed))
        rules_at.setdefault(point, set()).add(str(ds.rule.values))
    shared = max(rules_at, key=lambda point: (len(rules_at[point]), point)) if rules_at else None
    best: dict[str, tuple[tuple, xr.Dataset]] = {}
    for ds in analyses.values():
        rule = str(ds.rule.values)
        point = (float(ds.n_neurons), float(ds.learning_speed))
        key = (point == shared, *point, -float(ds.seed))
        if rule not in best or key > best[rule][0]:
            best[rule] = (key, ds)
    return {rule: ds for rule, (_, ds) in sorted(best.items())}


def _spontaneous_s(ds: xr.Dataset) -> str:
    """The intact spontaneous phase's length, for a label ("60 s"; "" when not known)."""
    if "train_end_s" not in ds or "time_recurrent" not in ds.coords or not ds.time_recurrent.size:
        return ""
    return f"{float(ds.time_recurrent[-1]) - float(ds.train_end_s):.0f} s"


def experiments_figure(analyses: Mapping[str, xr.Dataset]) -> Figure:
    """Rules and ablations side by side (paper Figs. 1, 3, 4 and 5), one run per rule.

    Panels: E rate during training (runaway without homeostasis, Fig. 1); within/between ratio
    over training and spontaneous activity (Fig. 5); members' mean rate of each assembly in
    spontaneous activity, largest first, relative to the mean (winner-take-all without iSTDP,
    Fig. 3); change of the within weight in spontaneous activity, intact vs non-recurrent control
    (Fig. 4). Runs the guard stopped during training appear only in the rate panels.
    """
    runs = _one_run_per_rule(analyses)
    stopped = {rule for rule, ds in runs.items()
               if "train_status_ok" in ds and float(ds.train_status_ok) == 0.0}
    stopped_later = {rule for rule, ds in runs.items()
                     if rule not in stopped and float(ds.get("run_completed", 1.0)) == 0.0}
    colour = {rule: f"C{i}" for i, rule in enumerate(runs)}  # one colour per rule in every panel
    fig, axes = subplots(2, 2, figsize=(12, 9), constrained_layout=True)
    for rule, ds in runs.items():
        label = f"{rule} (N={int(ds.n_neurons)}, speed {float(ds.learning_speed):g})"
        if rule in stopped and "train_end_s" in ds:
            label += f", guard stopped training at {float(ds.train_end_s):.0f} s"
        elif rule in stopped_later:
            label += ", guard stopped it after training"
        if "rate_exc_train_hz" in ds:
            short = ds.time_train.size < 5  # e.g. stopped by the run guard: show the points
            axes[0, 0].plot(ds.time_train, ds.rate_exc_train_hz, lw=0.9, label=label,
                            marker="o" if short else None, color=colour[rule])
            if rule in stopped and "train_end_s" in ds and ds.time_train.size:
                # the runaway: where the rate guard stopped training (Fig. 1b)
                axes[0, 0].axvline(float(ds.train_end_s), color=colour[rule], ls=":", lw=1.0)
                peak = float(ds.rate_exc_train_max_hz) if "rate_exc_train_max_hz" in ds \
                    else float(ds.rate_exc_train_hz[-1])
                axes[0, 0].plot(float(ds.train_end_s), peak, marker="X", ms=10,
                                color=colour[rule], zorder=5)  # the 100-ms peak at the stop
        if "w_ratio_recurrent" in ds and rule not in stopped:
            axes[0, 1].plot(ds.time_recurrent, ds.w_ratio_recurrent, lw=0.9, label=label,
                            color=colour[rule])
        if "rate_assembly_spontaneous_hz" in ds:
            rates = np.sort(ds.rate_assembly_spontaneous_hz.values)[::-1]
            axes[1, 0].plot(np.arange(1, rates.size + 1), rates / max(rates.mean(), 1e-12),
                            marker="o", label=label, color=colour[rule])
    axes[0, 0].set_yscale("log")
    # between the trained networks' ~1 Hz and the runaways' ~20 Hz, where no trace runs
    _label_axes(axes[0, 0], "time [s]", "E rate during training [Hz]",
                "training: runaway without homeostasis (Fig. 1)", legend_loc="center right")
    _label_axes(axes[0, 1], "time [s]", "within / between E->E weight [1]",
                "assembly formation and maintenance by rule (Fig. 5)", ref=1.0)
    _label_axes(axes[1, 0], "assembly rank (most active first)",
                "members' spontaneous rate / mean over assemblies [1]",
                "winner-take-all without iSTDP (Fig. 3)", ref=1.0)
    axes[1, 0].xaxis.set_major_locator(MaxNLocator(integer=True))  # ranks are whole numbers
    ax = axes[1, 1]
    names = [r for r, ds in runs.items() if "w_within_change_recurrent" in ds and r not in stopped]
    x = np.arange(len(names))
    intact = [100 * float(runs[r].w_within_change_recurrent) for r in names]
    control = [100 * float(runs[r].get("w_within_change_nonrecurrent", np.nan)) for r in names]
    bars = [ax.bar(x - 0.2, intact, width=0.4, color="tab:blue", label="intact"),
            ax.bar(x + 0.2, control, width=0.4, color="tab:red", label="non-recurrent control")]
    for container in bars:  # linear axis; a -0.1 % and a -40 % change read from the labels
        ax.bar_label(container, fmt="%+.2f %%", fontsize=7, padding=2)
    ax.set_xticks(x, [f"{r}\n({_spontaneous_s(runs[r])})" for r in names], rotation=20, fontsize=8)
    ax.set_xlim(-0.8, max(len(names), 2) - 0.2)
    _label_axes(ax, "rule", "change of within weight in spontaneous activity [%]",
                "maintenance needs recurrence (Fig. 4)", ref=0.0)
    fig.suptitle("rules and ablations (one run per rule, at the size and speed most rules share)")
    return fig


def save_experiments(analysis_paths: list[str], out_png: str) -> None:
    """Workflow entry: the rules-and-ablations figure from every run's analyze store."""
    analyses = {str(p): open_store(p).load() for p in analysis_paths}
    fig = experiments_figure(analyses)
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=DPI)


def save_run_overview(stores: Mapping[str, str], analysis_path: str, section: Mapping, run: str,
                      out_png: str) -> None:
    """Workflow entry: draw :func:`run_overview` for one run and save it as PNG.

    Stages skipped after a rate-guard stop are left out, and the title says where and why the
    run stopped.
    """
    for path in (*stores.values(), analysis_path):  # a damaged store is refused by name
        verify_store(path)
    analysis = open_store(analysis_path)
    opts = section.get("analysis", {})
    present = {stage: path for stage, path in stores.items()
               if open_store(path).attrs.get("status") != "skipped"}
    title = run
    if analysis.attrs.get("run_status", "completed") != "completed":
        title += f"\nSTOPPED BY THE RATE GUARD: {analysis.attrs.get('run_stopped_because', '')}"
        skipped = [s for s in stores if s not in present]
        if skipped:
            title += f"\nnot simulated: {', '.join(skipped)}"
    fig = run_overview(present, analysis, raster_seconds=opts.get("raster_seconds", 2.0),
                       raster_cells=opts.get("raster_cells", 400), title=title)
    if analysis.attrs.get("run_status", "completed") != "completed":
        fig.suptitle(title, color="tab:red")
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=DPI)


def save_sweep_summary(analysis_paths: list[str], out_png: str, panels: list[Mapping]) -> None:
    """Workflow entry: open every run's analyze store as one dataset (axes from the stores),
    draw the configured panels, save."""
    from homeoplastic.store import open_sweep

    ds = open_sweep(analysis_paths, scalars_only=True).load()  # one number per run: small
    fig = sweep_summary(ds, panels)
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=DPI)
