"""Random network ensembles for the cost-vs-rank/size sweep (docs/models/balancing.md, 4.2).

Low rank r < N: ``J = U V^T / sqrt(r N)`` with iid standard normal U, V (N x r). Full rank:
``J_ij ~ N(0, 1/N)``. The cost ratio is scale-invariant, so the normalisation only sets units.
"""

from __future__ import annotations

import numpy as np

__all__ = ["parse_rank", "random_factors", "random_network"]


def parse_rank(rank: int | str, n: int) -> int:
    """Effective rank: an integer in [1, n] or 'full' (= n)."""
    if isinstance(rank, str):
        if rank == "full":
            return int(n)
        if not rank.isdigit():
            raise ValueError(f"rank must be a positive integer or 'full', got {rank!r}")
        rank = int(rank)
    rank = int(rank)
    if rank < 1:
        raise ValueError(f"rank must be a positive integer or 'full', got {rank}")
    return min(rank, int(n))


def random_factors(n: int, rank: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian factors with ``U V^T`` of entry variance 1/N."""
    if n < 1 or rank < 1:
        raise ValueError(f"n and rank must be >= 1, got n={n}, rank={rank}")
    scale = (rank * n) ** -0.25
    U = rng.standard_normal((n, rank)) * scale
    V = rng.standard_normal((n, rank)) * scale
    return U, V


def random_network(n: int, rank: int | str, rng: np.random.Generator) -> np.ndarray:
    """Dense J from the ensemble: low rank (r < N) or iid full rank (r = N or 'full')."""
    r = parse_rank(rank, n)
    if r >= n:
        return rng.standard_normal((n, n)) / np.sqrt(n)
    U, V = random_factors(n, r, rng)
    return U @ V.T
