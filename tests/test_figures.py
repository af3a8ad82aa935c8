"""The figure helper behaves like pyplot.subplots without touching pyplot."""

from __future__ import annotations

from matplotlib.figure import Figure

from homeoplastic.figures import subplots


def test_subplots_takes_pyplots_arguments_and_returns_a_free_figure(tmp_path):
    fig, axes = subplots(2, 3, figsize=(6, 4), layout="constrained", squeeze=False,
                         sharex=True, height_ratios=[2, 1], dpi=50)
    assert isinstance(fig, Figure) and axes.shape == (2, 3)
    assert tuple(fig.get_size_inches()) == (6, 4) and fig.dpi == 50
    assert fig.get_layout_engine().__class__.__name__ == "ConstrainedLayoutEngine"
    assert axes[0, 0].get_position().height > axes[1, 0].get_position().height
    fig2, ax = subplots(1, 2, constrained_layout=True)
    assert ax.shape == (2,) and fig2.get_layout_engine() is not None
    fig.savefig(tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 1000
