"""The function-preserving diagonal similarity and a ReLU rate network to check it
(docs/models/balancing.md, 1.3).

For ``h`` in R^N and ``D = diag(exp(h))``: ``J' = D^-1 J D``, ``W_in' = D^-1 W_in``,
``b' = D^-1 b``, ``W_out' = W_out D``. With a degree-1 homogeneous nonlinearity (ReLU) the
input-output map is unchanged for every ``h``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from homeoplastic.balancing.costs import validate_square

__all__ = [
    "RateNetwork",
    "lax_vector_field",
    "scale_matrix",
    "simulate_relu",
    "transform_network",
]


@dataclass(frozen=True)
class RateNetwork:
    """ReLU rate network ``dx/dt = -x + J relu(x) + W_in u + b``, readout ``y = W_out x``.

    Shapes: J (N, N) [post, pre], W_in (N, n_in), b (N,), W_out (n_out, N). Weights are
    dimensionless (time in units of the membrane time constant tau = 1).
    """

    J: np.ndarray
    W_in: np.ndarray
    b: np.ndarray
    W_out: np.ndarray

    def __post_init__(self) -> None:
        J = validate_square(self.J, "J")
        n = J.shape[0]
        W_in = np.asarray(self.W_in, dtype=np.float64)
        W_out = np.asarray(self.W_out, dtype=np.float64)
        b = np.asarray(self.b, dtype=np.float64)
        if W_in.ndim != 2 or W_in.shape[0] != n:
            raise ValueError(f"W_in must have shape ({n}, n_in), got {W_in.shape}")
        if W_out.ndim != 2 or W_out.shape[1] != n:
            raise ValueError(f"W_out must have shape (n_out, {n}), got {W_out.shape}")
        if b.shape != (n,):
            raise ValueError(f"b must have shape ({n},), got {b.shape}")
        for name, arr in (("W_in", W_in), ("W_out", W_out), ("b", b)):
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} contains NaN or infinite entries")
        object.__setattr__(self, "J", J)
        object.__setattr__(self, "W_in", W_in)
        object.__setattr__(self, "W_out", W_out)
        object.__setattr__(self, "b", b)

    @property
    def n(self) -> int:
        return self.J.shape[0]


def _check_h(h: np.ndarray, n: int) -> np.ndarray:
    h = np.asarray(h, dtype=np.float64)
    if h.shape != (n,):
        raise ValueError(f"h must have shape ({n},), got {h.shape}")
    if not np.all(np.isfinite(h)):
        raise ValueError("h contains NaN or infinite entries")
    return h


def scale_matrix(J: np.ndarray, h: np.ndarray) -> np.ndarray:
    """``D^-1 J D``, i.e. ``J'_ij = J_ij exp(h_j - h_i)`` (multiplicative, exact)."""
    J = validate_square(J)
    h = _check_h(h, J.shape[0])
    return J * np.exp(h[None, :] - h[:, None])


def transform_network(net: RateNetwork, h: np.ndarray) -> RateNetwork:
    """Apply the diagonal similarity with log-scales ``h`` to all weights of ``net``."""
    h = _check_h(h, net.n)
    e = np.exp(h)
    return RateNetwork(
        J=net.J * (e[None, :] / e[:, None]),
        W_in=net.W_in / e[:, None],
        b=net.b / e,
        W_out=net.W_out * e[None, :],
    )


def lax_vector_field(net: RateNetwork, g: np.ndarray) -> dict[str, np.ndarray]:
    """Synaptic form of the flow dh/dt = g (docs/models/balancing.md, 2.3): dJ/dt = [J, G], G = diag(g).

    ``dJ_ij/dt = (g_j - g_i) J_ij``, ``dW_in/dt = -G W_in``, ``db/dt = -G b``,
    ``dW_out/dt = W_out G``. Integrate it multiplicatively (:func:`transform_network`), not by
    additive Euler steps, which preserve function only to first order.
    """
    g = _check_h(g, net.n)
    return {
        "J": net.J * (g[None, :] - g[:, None]),
        "W_in": -g[:, None] * net.W_in,
        "b": -g * net.b,
        "W_out": net.W_out * g[None, :],
    }


def check_run_args(inputs: np.ndarray, dt: float, noise_sigma: float, rng) -> None:
    """Reject NaN/inf inputs, a non-positive or non-finite dt and a negative or NaN noise sigma."""
    if not np.all(np.isfinite(inputs)):
        raise ValueError("inputs contain NaN or infinite entries")
    if inputs.size == 0:
        raise ValueError(f"inputs must not be empty, got shape {inputs.shape}")
    if not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be finite and > 0, got {dt}")
    if not (np.isfinite(noise_sigma) and noise_sigma >= 0):
        raise ValueError(f"noise_sigma must be finite and >= 0, got {noise_sigma}")
    if noise_sigma > 0 and rng is None:
        raise ValueError("noise_sigma > 0 needs an explicit rng (numpy Generator)")


def simulate_relu(
    net: RateNetwork,
    inputs: np.ndarray,
    dt: float = 0.1,
    noise_sigma: float = 0.0,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Forward-Euler(-Maruyama) run from x = 0; ``inputs`` has shape (steps, n_in).

    Returns ``(x, y)`` with x of shape (steps + 1, N) and y = x W_out^T of shape (steps + 1, n_out).
    Noise ``sqrt(dt) * noise_sigma * xi`` is added to x at every step.
    """
    inputs = np.asarray(inputs, dtype=np.float64)
    if inputs.ndim != 2 or inputs.shape[1] != net.W_in.shape[1]:
        raise ValueError(f"inputs must have shape (steps, {net.W_in.shape[1]}), got {inputs.shape}")
    check_run_args(inputs, dt, noise_sigma, rng)
    steps = inputs.shape[0]
    x = np.zeros((steps + 1, net.n))
    drive = inputs @ net.W_in.T + net.b[None, :]
    for t in range(steps):
        xt = x[t]
        x[t + 1] = xt + dt * (-xt + net.J @ np.maximum(xt, 0.0) + drive[t])
        if noise_sigma > 0:
            x[t + 1] += np.sqrt(dt) * noise_sigma * rng.standard_normal(net.n)
    return x, x @ net.W_out.T
