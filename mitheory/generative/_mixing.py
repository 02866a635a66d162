"""Invertible leaky-ReLU MLP mixing g: z -> x with an exact inverse and log|det J|.

Reimplements cl-ica ``invertible_network_utils.construct_invertible_mlp`` (Zimmermann et al.
2021), the mixing also used by von Kuegelgen et al. (2021), with local seeds.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from mitheory._rng import as_generator
from mitheory._types import Seed
from mitheory._validate import (check_array, check_embeddings, check_int, check_positive,
                                check_probability)

_POOL_BATCH = 5000  # most matrices per vectorised cond() call while resampling a layer


def _column_normalised_uniform(rng: np.random.Generator, k: int, dim: int) -> np.ndarray:
    """``k`` matrices with entries U(-1, 1) and unit-L2 columns, shape (k, dim, dim)."""
    a = rng.uniform(-1.0, 1.0, size=(k, dim, dim))
    return a / np.linalg.norm(a, axis=1, keepdims=True)  # axis=1: column norms (cl-ica axis=0)


class MixingMLP(nn.Module):
    """Frozen square leaky-ReLU MLP ``Lin -> act -> Lin -> ... -> Lin`` (no biases), invertible.

    Build it with :func:`make_mixing_mlp`. Weights follow ``nn.Linear``: a layer maps
    ``h -> h @ W.T``.

    Attributes
    ----------
    dim : int
    negative_slope : float
    cond_numbers : list of float
        2-norm condition number of each layer's weight matrix.
    cond_threshold : float
        Threshold every layer's condition number satisfies.
    """

    def __init__(
        self,
        weights: list[np.ndarray],
        *,
        negative_slope: float = 0.2,
        cond_threshold: float = float("inf"),
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        if not weights:
            raise ValueError("weights must hold at least one matrix")
        dim = weights[0].shape[0]
        for i, w in enumerate(weights):
            check_array(w, f"weights[{i}]", ndim=2)
            if w.shape != (dim, dim):
                raise ValueError(f"weights[{i}] must be {dim}x{dim}, got shape {w.shape}")
        self.dim = int(dim)
        self.negative_slope = check_positive(negative_slope, "negative_slope")
        self.cond_threshold = float(cond_threshold)
        self.cond_numbers = [float(np.linalg.cond(w)) for w in weights]
        self.layers = nn.ModuleList()
        for w in weights:
            lin = nn.Linear(dim, dim, bias=False, dtype=dtype)
            lin.weight.data = torch.as_tensor(w, dtype=dtype)
            self.layers.append(lin)
        self.act = nn.LeakyReLU(negative_slope=self.negative_slope)
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """x = g(z); ``z`` of shape (n, dim) -> (n, dim); non-finite or misshaped ``z`` raises
        ``ValueError``."""
        check_embeddings(z, "z", min_samples=1, dim=self.dim)
        h = z
        for i, lin in enumerate(self.layers):
            if i > 0:
                h = self.act(h)  # activation BETWEEN layers only (cl-ica: i < n_layers - 1)
            h = lin(h)
        return h

    def inverse(self, x: torch.Tensor) -> torch.Tensor:
        """Exact inverse z = g^{-1}(x) (linear solves and the inverse leaky ReLU)."""
        h = x
        for i in range(len(self.layers) - 1, -1, -1):
            w = self.layers[i].weight  # h_out = h_in @ W.T  =>  h_in^T = W^{-1} h_out^T
            h = torch.linalg.solve(w, h.T).T
            if i > 0:
                h = torch.where(h >= 0, h, h / self.negative_slope)
        return h

    def log_abs_det_jacobian(self, z: torch.Tensor) -> torch.Tensor:
        """Exact :math:`\\log|\\det J_g(z)|` per row, shape (n,).

        .. math::
            \\log|\\det J_g(z)| = \\sum_l \\log|\\det W_l|
            + \\log(\\alpha) \\cdot \\#\\{\\text{pre-activations} < 0\\},

        with :math:`\\alpha` the negative slope (each leaky unit has slope 1 or alpha).
        """
        logdet_w = sum(torch.linalg.slogdet(lin.weight)[1] for lin in self.layers)
        n_neg = torch.zeros(z.shape[0], dtype=z.dtype, device=z.device)
        h = z
        for i, lin in enumerate(self.layers):
            if i > 0:
                n_neg = n_neg + (h < 0).sum(dim=1).to(z.dtype)
                h = self.act(h)
            h = lin(h)
        return logdet_w + n_neg * float(np.log(self.negative_slope))

    def extra_repr(self) -> str:
        conds = ", ".join(f"{c:.3f}" for c in self.cond_numbers)
        return f"dim={self.dim}, cond=[{conds}], threshold={self.cond_threshold:.4f}"


def make_mixing_mlp(
    dim: int,
    *,
    n_layers: int = 3,
    negative_slope: float = 0.2,
    cond_thresh_ratio: float = 0.0,
    n_iter_cond_thresh: int = 25000,
    seed: Seed,
    dtype: torch.dtype = torch.float32,
) -> MixingMLP:
    """cl-ica's invertible MLP mixing: well-conditioned column-normalised layers, leaky ReLUs.

    Parameters
    ----------
    dim : int
        Input = output dimension (>= 1).
    n_layers : int
        Number of square linear layers (>= 1); activations sit between them.
    negative_slope : float
        Leaky-ReLU slope for negative inputs (cl-ica: 0.2).
    cond_thresh_ratio : float in [0, 1)
        Quantile of a pool of random column-normalised matrices' condition numbers used as
        threshold; 0.0 (cl-ica ``main_mlp.py``) is the pool minimum, 0.001 is von Kuegelgen's.
    n_iter_cond_thresh : int
        Pool size (cl-ica and von Kuegelgen: 25000).
    seed : int, Generator, SeedSequence or None
    dtype : torch.dtype
        dtype of the frozen weights (float64 for exact-inverse checks).

    Returns
    -------
    MixingMLP

    Notes
    -----
    Each weight matrix has entries U(-1, 1), then every column is scaled to unit L2 norm
    (Hyvarinen's PCL mixing). The threshold is ``sorted(pool)[int(n_iter * ratio)]`` exactly as
    in cl-ica, and each layer is redrawn until ``cond(W) <= threshold`` (vectorised here in
    batches; with ratio 0 this takes about ``n_iter`` draws per layer). Differences from cl-ica:
    the pool and layers come from one local numpy Generator instead of global ``np.random``,
    and weights may be float64. The mixing is injective because every layer is invertible and
    leaky ReLU is a bijection.

    Examples
    --------
    >>> g = make_mixing_mlp(4, n_iter_cond_thresh=200, seed=0)
    >>> g(torch.zeros(2, 4)).shape
    torch.Size([2, 4])
    """
    dim = check_int(dim, "dim", minimum=1)
    n_layers = check_int(n_layers, "n_layers", minimum=1)
    n_iter = check_int(n_iter_cond_thresh, "n_iter_cond_thresh", minimum=1)
    ratio = check_probability(cond_thresh_ratio, "cond_thresh_ratio")
    if ratio >= 1.0:
        raise ValueError(f"cond_thresh_ratio must be < 1, got {cond_thresh_ratio!r}")
    rng = as_generator(seed)
    pool = np.sort(np.linalg.cond(_column_normalised_uniform(rng, n_iter, dim)))
    idx = int(n_iter * ratio)
    threshold = float(pool[idx])
    # acceptance probability ~ (idx + 1) / (n_iter + 1): batch about twice the expected draws
    batch = int(min(_POOL_BATCH, max(64, 2 * (n_iter + 1) // (idx + 1))))
    weights = []
    for _ in range(n_layers):
        while True:
            cand = _column_normalised_uniform(rng, batch, dim)
            ok = np.flatnonzero(np.linalg.cond(cand) <= threshold)
            if ok.size:
                weights.append(cand[ok[0]])
                break
    return MixingMLP(
        weights, negative_slope=negative_slope, cond_threshold=threshold, dtype=dtype
    )
