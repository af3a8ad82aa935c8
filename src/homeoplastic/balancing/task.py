"""Context-dependent integration task (the authors' ``IntegrationTask``, docs/models/balancing.md, 7.1).

Six inputs: two context channels (the active one carries 1) and two channels per modality
(motion: 2, 3; colour: 4, 5), one of which carries 1 to encode the sign of that modality's
evidence. Every channel gets iid Gaussian noise each sample. Two outputs: the running sum over time
of the attended modality's two channels (noise included). 8 conditions = 2 contexts x 2 x 2.
Inputs and targets are dimensionless; one sample lasts one time constant tau.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["N_INPUTS", "N_OUTPUTS", "IntegrationTask", "all_conditions", "generate_trials"]

N_INPUTS = 6
N_OUTPUTS = 2


@dataclass(frozen=True)
class IntegrationTask:
    """Trial length in samples and the input noise levels (std per sample, dimensionless)."""

    n_timesteps: int = 50
    sigma_ctx: float = 0.3
    sigma_in: float = 0.3

    def __post_init__(self) -> None:
        if self.n_timesteps < 1:
            raise ValueError(f"n_timesteps must be >= 1, got {self.n_timesteps}")
        for name in ("sigma_ctx", "sigma_in"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise ValueError(f"{name} must be finite and >= 0, got {v}")


def all_conditions() -> np.ndarray:
    """The 8 conditions as rows (context, motion sign channel, colour sign channel) in {0, 1}."""
    return np.array([(c, m, k) for c in (0, 1) for m in (0, 1) for k in (0, 1)], dtype=np.int64)


def generate_trials(
    task: IntegrationTask, rng: np.random.Generator, n_sets: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n_sets`` copies of all 8 conditions with fresh noise.

    Returns inputs (B, T, 6), targets (B, T, 2) and the condition index per trial (B,),
    with B = 8 n_sets.
    """
    if n_sets < 1:
        raise ValueError(f"n_sets must be >= 1, got {n_sets}")
    cond = np.tile(all_conditions(), (n_sets, 1))
    b, t = cond.shape[0], task.n_timesteps
    u = np.zeros((b, t, N_INPUTS))
    rows = np.arange(b)
    u[rows, :, cond[:, 0]] = 1.0
    u[rows, :, 2 + cond[:, 1]] = 1.0
    u[rows, :, 4 + cond[:, 2]] = 1.0
    u[:, :, :2] += task.sigma_ctx * rng.standard_normal((b, t, 2))
    u[:, :, 2:] += task.sigma_in * rng.standard_normal((b, t, 4))
    attended = np.where(cond[:, 0] == 0, 2, 4)
    picked = np.stack([u[rows, :, attended], u[rows, :, attended + 1]], axis=-1)
    targets = np.cumsum(picked, axis=1)
    return u, targets, np.tile(np.arange(8), n_sets)
