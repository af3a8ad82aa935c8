"""Sparse pathways: synapses sorted by postsynaptic cell, plus an index by presynaptic cell.

Every per-synapse quantity (here only the weight) is one 1-D array ordered by (post, pre), so the
heavy post-centred loops (voltage LTP, row normalisation, iSTDP on an E spike) read weights
contiguously. Spike delivery and presynaptic plasticity use ``pre_ptr``/``pre_syn``, which hold
synapse *indices* into the same weight array, so the two views can never disagree.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

INDEX_DTYPE = np.int32
PTR_DTYPE = np.int64


class Pathway(NamedTuple):
    """One synaptic pathway between two populations (local indices in each population).

    post_ptr  int64[n_post + 1]  synapses of post cell i are post_ptr[i]:post_ptr[i+1]
    pre_idx   cell[n_syn]        presynaptic cell of each synapse (sorted by post, then pre)
    pre_ptr   int64[n_pre + 1]   entries of pre cell j in pre_syn/pre_post
    pre_syn   int32[n_syn]       synapse indices, grouped by presynaptic cell
    pre_post  cell[n_syn]        postsynaptic cell of pre_syn (saves one indirection)
    weight_pf float64[n_syn]     weights, pF

    Cell indices are uint16 when the population has at most 2^16 cells (every network up to
    N = 81920 at 80% E), else int32 (:func:`cell_index_dtype`): 16 bytes per synapse. The
    postsynaptic cell of each synapse in weight order is implied by ``post_ptr``; the
    :attr:`post_idx` property expands it (int32) for the Python side, not stored.
    """

    post_ptr: np.ndarray
    pre_idx: np.ndarray
    pre_ptr: np.ndarray
    pre_syn: np.ndarray
    pre_post: np.ndarray
    weight_pf: np.ndarray

    @property
    def post_idx(self) -> np.ndarray:
        """Postsynaptic cell of each synapse in weight order (int32, computed on each access)."""
        n_post = self.post_ptr.size - 1
        return np.repeat(np.arange(n_post, dtype=INDEX_DTYPE), np.diff(self.post_ptr))


def cell_index_dtype(n_cells: int) -> type:
    """uint16 for populations of at most 2^16 cells, else int32 (per-synapse cell indices)."""
    return np.uint16 if n_cells <= 2**16 else INDEX_DTYPE


def draw_pairs(
    rng: np.random.Generator, n_pre: int, n_post: int, p: float, *, no_autapses: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Draw every ordered (pre, post) pair independently with probability ``p``.

    Returns (pre, post) sorted by post, then pre. ``no_autapses`` removes pre == post (for
    pathways within one population).
    """
    pre_chunks: list[np.ndarray] = []
    post_chunks: list[np.ndarray] = []
    block = max(1, 4_000_000 // max(n_pre, 1))
    for start in range(0, n_post, block):
        stop = min(n_post, start + block)
        mask = rng.random((stop - start, n_pre)) < p
        if no_autapses:
            rows = np.arange(start, stop)
            valid = rows < n_pre
            mask[np.nonzero(valid)[0], rows[valid]] = False
        post_local, pre = np.nonzero(mask)
        pre_chunks.append(pre.astype(INDEX_DTYPE))
        post_chunks.append((post_local + start).astype(INDEX_DTYPE))
    pre_all = np.concatenate(pre_chunks) if pre_chunks else np.zeros(0, INDEX_DTYPE)
    post_all = np.concatenate(post_chunks) if post_chunks else np.zeros(0, INDEX_DTYPE)
    return pre_all, post_all


def build_pathway(
    pre: np.ndarray, post: np.ndarray, weight_pf: np.ndarray | float, n_pre: int, n_post: int
) -> Pathway:
    """Build a :class:`Pathway` from (pre, post) pairs in any order."""
    pre = np.asarray(pre, dtype=INDEX_DTYPE)
    post = np.asarray(post, dtype=INDEX_DTYPE)
    if pre.shape != post.shape:
        raise ValueError("pre and post must have the same length")
    if pre.size and (pre.min() < 0 or pre.max() >= n_pre or post.min() < 0 or post.max() >= n_post):
        raise ValueError("synapse index out of range")
    order = np.lexsort((pre, post))
    pre = pre[order]
    post = post[order]
    weights = np.broadcast_to(np.asarray(weight_pf, dtype=np.float64), order.shape)
    weights = np.ascontiguousarray(weights[order] if np.ndim(weight_pf) else weights)
    post_ptr = np.zeros(n_post + 1, dtype=PTR_DTYPE)
    np.cumsum(np.bincount(post, minlength=n_post), out=post_ptr[1:])
    by_pre = np.argsort(pre, kind="stable").astype(INDEX_DTYPE)
    pre_ptr = np.zeros(n_pre + 1, dtype=PTR_DTYPE)
    np.cumsum(np.bincount(pre, minlength=n_pre), out=pre_ptr[1:])
    return Pathway(
        post_ptr=post_ptr,
        pre_idx=np.ascontiguousarray(pre, dtype=cell_index_dtype(n_pre)),
        pre_ptr=pre_ptr,
        pre_syn=by_pre,
        pre_post=np.ascontiguousarray(post[by_pre], dtype=cell_index_dtype(n_post)),
        weight_pf=weights.copy(),
    )


def draw_memberships(
    rng: np.random.Generator, n_exc: int, n_groups: int, p_member: float
) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping assemblies: every E cell joins each group independently with ``p_member``.

    Returns the groups in CSR form (``group_ptr`` int64[n_groups+1], ``group_members`` int32),
    members sorted within each group.
    """
    mask = rng.random((n_groups, n_exc)) < p_member
    counts = mask.sum(axis=1)
    group_ptr = np.zeros(n_groups + 1, dtype=PTR_DTYPE)
    np.cumsum(counts, out=group_ptr[1:])
    members = np.nonzero(mask)[1].astype(INDEX_DTYPE)
    return group_ptr, members


def groups_to_csr(groups: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """CSR form of a list of neuron-index arrays."""
    ptr = np.zeros(len(groups) + 1, dtype=PTR_DTYPE)
    np.cumsum([len(g) for g in groups], out=ptr[1:])
    members = (
        np.concatenate([np.asarray(g, dtype=INDEX_DTYPE) for g in groups])
        if groups
        else np.zeros(0, INDEX_DTYPE)
    )
    return ptr, members
