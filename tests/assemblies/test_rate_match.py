"""The rate-matched non-recurrent control: targets whose iSTDP fixed point is the intact rate."""

from __future__ import annotations

import numpy as np
import pytest

from homeoplastic.assemblies import rate_match
from homeoplastic.assemblies.engine import RunRecord
from homeoplastic.assemblies.rate_match import (
    quartile_of,
    rate_matched_targets,
    rate_over_intact,
    run_settle,
    settle_segments,
)


def test_targets_put_istdp_fixed_point_at_the_intact_rates():
    """r0 = r (kappa + rho) / 2 per quartile: the fixed point 2 r0 / (kappa + rho) is the intact
    rate itself, also where kappa and rho differ between quartiles (a global factor, a missing
    1/2 or the inverse factor would miss it by 5-50 %)."""
    rng = np.random.default_rng(3)
    intact = rng.uniform(0.2, 3.0, 40)
    quartile = quartile_of(intact)
    kappa = np.array([1.0, 1.02, 0.98, 1.05])[quartile]
    rho = np.array([0.6, 0.7, 0.75, 0.9])[quartile]
    targets = rate_matched_targets(intact, kappa, rho)
    np.testing.assert_allclose(2.0 * targets / (kappa + rho), intact, rtol=1e-12)
    assert np.all(targets < intact)  # rho < 1: iSTDP settles above its target, so aim lower


def test_a_cells_noise_is_averaged_over_its_quartile_and_gaps_take_the_overall_mean():
    """Per-cell kappa and rho rest on a few spikes: each cell takes its quartile's mean factor;
    cells without a measurement (NaN) still get it, a quartile without any the overall mean."""
    intact = np.arange(1.0, 9.0)  # quartiles {1,2}, {3,4}, {5,6}, {7,8}
    kappa = np.array([1.0, 1.0, np.nan, np.nan, 1.0, 1.0, 1.0, np.nan])
    rho = np.array([0.6, 0.8, 0.7, 0.7, 0.5, 0.9, 0.8, 0.8])
    factor = rate_matched_targets(intact, kappa, rho) / intact
    np.testing.assert_allclose(factor[:2], 0.85)
    np.testing.assert_allclose(factor[4:6], 0.85)
    np.testing.assert_allclose(factor[6:], 0.9)  # cell 8 (NaN) takes its quartile's 0.9
    np.testing.assert_allclose(factor[2:4], np.mean([0.8, 0.9, 0.75, 0.95, 0.9]))  # overall
    np.testing.assert_allclose(rate_matched_targets(intact, np.full(8, np.nan), rho), intact)


def test_rate_over_intact_is_the_mean_rate_ratio_per_quartile_of_the_intact_rates():
    intact = np.array([4.0, 1.0, 3.0, 2.0, 8.0, 7.0, 6.0, 5.0])  # quartiles by rank, not order
    control = intact * np.array([1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5])
    out = rate_over_intact(control, intact)
    assert out["settle_rate_over_intact_q1"] == pytest.approx((2.0 + 2.0) / 3.0)
    assert out["settle_rate_over_intact_q2"] == pytest.approx(1.0)
    assert out["settle_rate_over_intact_q3"] == pytest.approx((5.0 * 0.5 + 6.0) / 11.0)
    assert out["settle_rate_over_intact_q4"] == pytest.approx(1.0)
    assert out["settle_rate_over_intact"] == pytest.approx(control.sum() / intact.sum())
    members = np.array([True, True, False, False, False, False, False, True])
    split = rate_over_intact(control, intact, members)
    assert split["settle_rate_over_intact_members"] == pytest.approx((4 + 2 + 2.5) / (4 + 1 + 5))
    assert split["settle_rate_over_intact_others"] == pytest.approx(1.0)
    assert "settle_rate_over_intact_members" not in out


def test_settle_segments_never_reset_the_targets_inside_the_final_quarter():
    assert settle_segments(30, 5) == [5, 5, 5, 5, 10]  # the summary reads the last 7 bins
    assert settle_segments(200, 50) == [50, 50, 50, 50]
    assert settle_segments(3, 1) == [1, 1, 1]
    assert settle_segments(4, 5) == [4]
    for n, k in ((30, 5), (37, 4), (8, 3), (1, 1)):
        segs = settle_segments(n, k)
        assert sum(segs) == n and segs[-1] >= max(1, n // 4)


class _FakeSim:
    """Records the targets it is given; each run returns an empty completed record."""

    def __init__(self, n_exc: int) -> None:
        from types import SimpleNamespace

        self.params = SimpleNamespace(dt_ms=0.1)
        self.pathways = {"i_to_e": None}
        self.clock = 0
        self.targets: list[np.ndarray] = []
        self.runs: list[int] = []

    def set_istdp_target_rates(self, rates):
        self.targets.append(np.array(rates, float))

    def run(self, duration_s, schedule, spec, **kw):
        n = round(duration_s * 1e4)
        self.runs.append(n)
        rec = RunRecord(self.clock, n, 0.1, 10000, 1, np.zeros(-(-n // 10000), np.int64),
                        np.zeros(-(-n // 10000), np.int64), np.zeros((-(-n // 10000), 2), np.int64),
                        steps_done=n, status="completed")
        self.clock += n
        return rec


def test_run_settle_resets_the_targets_from_each_segments_fixed_point(monkeypatch):
    """rate_matched: intact rates first, then after every segment before the final quarter
    intact x (kappa + rho) / 2 of that segment; intact_rates: one run, targets never reset."""
    factors = iter([0.9, 0.8, 0.85])

    def fake_fixed_point(steps, cells, n_exc, i_to_e, targets, **kw):
        f = next(factors)
        return {"kappa": np.full(n_exc, 1.0), "rho": np.full(n_exc, 2 * f - 1.0)}

    monkeypatch.setattr(rate_match, "istdp_fixed_point", fake_fixed_point)
    intact = np.array([0.5, 1.0, 2.0, 4.0])
    sim = _FakeSim(4)
    rec, final, resets = run_settle(sim, intact, 12.0, mode="rate_matched", interval_s=3.0,
                                    tau_y_ms=20.0, label="t")
    assert sim.runs == [30000, 30000, 30000, 30000] and resets == 3
    np.testing.assert_allclose(sim.targets[0], intact)
    np.testing.assert_allclose(sim.targets[-1], intact * 0.85)
    np.testing.assert_allclose(final, intact * 0.85)
    assert [t[0] / 0.5 for t in sim.targets[1:]] == pytest.approx([0.9, 0.8, 0.85])
    assert rec.n_steps == rec.steps_done == 120000 and rec.counts_exc.size == 12

    sim = _FakeSim(4)
    rec, final, resets = run_settle(sim, intact, 12.0, mode="intact_rates", interval_s=3.0,
                                    tau_y_ms=20.0, label="t")
    assert sim.runs == [120000] and resets == 0
    np.testing.assert_allclose(final, intact)
