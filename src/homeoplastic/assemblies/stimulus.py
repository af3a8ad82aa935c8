"""Stimulus schedules as data: rows of (target group, t_on, t_off, added rate).

A target group is an index into the simulation's list of E-cell groups; the assemblies are groups
0..n_assemblies-1, and extra groups (e.g. half an assembly for pattern completion) can be added.
Times are seconds from the start of the run they belong to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from homeoplastic.assemblies.params import ParameterError


@dataclass(frozen=True)
class StimulusSchedule:
    """Stimulus rows; every array has one entry per presentation."""

    target: np.ndarray  # int, group index
    t_on_s: np.ndarray
    t_off_s: np.ndarray
    rate_hz: np.ndarray  # added to each member's external Poisson rate while on

    def __post_init__(self) -> None:
        arrays = [np.atleast_1d(np.asarray(a)) for a in (self.target, self.t_on_s, self.t_off_s,
                                                           self.rate_hz)]
        if len({a.shape for a in arrays}) != 1 or arrays[0].ndim != 1:
            raise ParameterError("stimulus: target, t_on_s, t_off_s, rate_hz need equal lengths")
        object.__setattr__(self, "target", arrays[0].astype(np.int64))
        for name, arr in zip(("t_on_s", "t_off_s", "rate_hz"), arrays[1:], strict=True):
            object.__setattr__(self, name, arr.astype(np.float64))

    @classmethod
    def empty(cls) -> StimulusSchedule:
        return cls(np.zeros(0, int), np.zeros(0), np.zeros(0), np.zeros(0))

    def __len__(self) -> int:
        return int(self.target.size)

    @property
    def end_s(self) -> float:
        return float(self.t_off_s.max()) if len(self) else 0.0

    def to_events(
        self, *, dt_ms: float, duration_s: float, n_groups: int, start_step: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Validated on/off events as absolute (step, group, delta rate), sorted by step."""
        if len(self) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0)
        if np.any(self.target < 0) or np.any(self.target >= n_groups):
            bad = self.target[(self.target < 0) | (self.target >= n_groups)][0]
            raise ParameterError(
                f"stimulus.target = {bad} is out of range; allowed: 0..{n_groups - 1} "
                f"(the assemblies and any extra groups)"
            )
        if np.any(~np.isfinite(self.rate_hz)) or np.any(self.rate_hz <= 0):
            raise ParameterError(f"stimulus.rate_hz must be > 0, got {self.rate_hz.min()}")
        if np.any(self.t_on_s < 0) or np.any(self.t_off_s <= self.t_on_s):
            raise ParameterError("stimulus: need 0 <= t_on_s < t_off_s for every row")
        if self.end_s > duration_s + 1e-12:
            raise ParameterError(
                f"stimulus.t_off_s = {self.end_s} s is past the run's end ({duration_s} s)"
            )
        steps_per_s = 1000.0 / dt_ms
        on = self.t_on_s * steps_per_s
        off = self.t_off_s * steps_per_s
        for name, values in (("t_on_s", on), ("t_off_s", off)):
            if np.any(np.abs(values - np.round(values)) > 1e-6):
                raise ParameterError(f"stimulus.{name}: times must be multiples of dt = {dt_ms} ms")
        steps = np.concatenate([np.round(on), np.round(off)]).astype(np.int64) + start_step
        groups = np.concatenate([self.target, self.target]).astype(np.int32)
        deltas = np.concatenate([self.rate_hz, -self.rate_hz])
        order = np.argsort(steps, kind="stable")
        return steps[order], groups[order], deltas[order]


def training_schedule(
    n_assemblies: int,
    repetitions: int,
    *,
    on_s: float = 1.0,
    off_s: float = 3.0,
    rate_hz: float = 8000.0,
    rng: np.random.Generator | None = None,
    shuffle: bool = True,
    lead_s: float = 0.0,
) -> StimulusSchedule:
    """Repeated blocks presenting every assembly once, each for ``on_s`` followed by ``off_s``.

    The order within a block is shuffled (without an immediate repeat across block borders) when
    ``shuffle``; the paper's order is not recovered (docs/models/assemblies.md, 6.2). Total length
    ``lead_s + repetitions * n_assemblies * (on_s + off_s)``.
    """
    if repetitions < 0 or n_assemblies < 0:
        raise ParameterError("training: repetitions and n_assemblies must be >= 0")
    order: list[int] = []
    for _ in range(repetitions):
        block = np.arange(n_assemblies)
        if shuffle:
            if rng is None:
                raise ParameterError("training: a shuffled order needs an rng")
            block = rng.permutation(n_assemblies)
            if order and n_assemblies > 1 and block[0] == order[-1]:
                block[[0, 1]] = block[[1, 0]]
        order.extend(int(a) for a in block)
    period = on_s + off_s
    starts = lead_s + period * np.arange(len(order))
    return StimulusSchedule(
        target=np.array(order, dtype=np.int64),
        t_on_s=starts,
        t_off_s=starts + on_s,
        rate_hz=np.full(len(order), rate_hz),
    )


def train_stage_schedule(protocol, seed: int) -> StimulusSchedule:
    """The train stage's schedule for a run of ``seed`` (from the stage's own random stream,
    ``default_rng([seed, 1])``), times from the stage's start: what ``stage_train`` presents and
    what an export of its store reports."""
    return training_schedule(
        protocol.n_assemblies, protocol.repetitions, on_s=protocol.stimulus_on_s,
        off_s=protocol.stimulus_off_s, rate_hz=protocol.stimulus_rate_hz,
        rng=np.random.default_rng([seed, 1]),
    )
