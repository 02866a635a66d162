"""Uniform latents on a box and exact truncated Normal / Laplace conditionals around a point.

The box process of Zimmermann et al. (2021) (cl-ica ``main_mlp.py --space-type box``).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import truncnorm

from mitheory._rng import as_generator
from mitheory._types import Seed
from mitheory._validate import check_array, check_int, check_option, check_positive

BoxConditional = Literal["normal", "laplace"]
BOX_CONDITIONALS: tuple[str, ...] = ("normal", "laplace")


def sample_uniform_box(
    n: int, dim: int, *, lo: float = 0.0, hi: float = 1.0, seed: Seed
) -> np.ndarray:
    """Draw ``n`` points uniformly from the box :math:`[lo, hi]^{dim}`.

    Returns
    -------
    np.ndarray, shape (n, dim), float64
        Exact samples.

    Examples
    --------
    >>> sample_uniform_box(2, 3, seed=0).shape
    (2, 3)
    """
    n = check_int(n, "n", minimum=1)
    dim = check_int(dim, "dim", minimum=1)
    lo, hi = _check_bounds(lo, hi)
    return as_generator(seed).uniform(lo, hi, size=(n, dim))


def _check_bounds(lo: float, hi: float) -> tuple[float, float]:
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"need finite lo < hi, got lo={lo!r}, hi={hi!r}")
    return lo, hi


def _check_loc(loc: ArrayLike, lo: float, hi: float) -> np.ndarray:
    m = check_array(loc, "loc", ndim=(1, 2))
    outside = (m < lo) | (m > hi)
    if np.any(outside):
        raise ValueError(
            f"loc must lie inside [{lo}, {hi}]; {int(outside.sum())} value(s) are outside "
            f"(range [{m.min():.6g}, {m.max():.6g}])"
        )
    return m


def sample_truncated_conditional(
    loc: ArrayLike,
    scale: float,
    *,
    conditional: BoxConditional = "normal",
    lo: float = 0.0,
    hi: float = 1.0,
    seed: Seed,
) -> np.ndarray:
    """One exact draw per entry of ``loc`` from a Normal/Laplace centred there, cut to [lo, hi].

    Parameters
    ----------
    loc : array_like, shape (n, dim) or (dim,)
        Centres, every entry inside ``[lo, hi]``. Coordinates are independent.
    scale : float
        Normal standard deviation, or Laplace scale ``b`` (std ``sqrt(2) b``) before truncation.
    conditional : {"normal", "laplace"}
    lo, hi : float
        Box bounds.
    seed : int, Generator, SeedSequence or None

    Returns
    -------
    np.ndarray, same shape as ``loc``, float64
        Exact samples of the truncated law, by inverse-CDF sampling

        .. math:: x = F^{-1}\\big(F(lo) + U\\,(F(hi) - F(lo))\\big), \\quad U \\sim U(0, 1).

    Notes
    -----
    cl-ica draws the same law by rejection (``spaces_utils.truncated_rejection_resampling``);
    inverse-CDF sampling is exact and takes one pass. The Normal case uses
    ``scipy.stats.truncnorm.ppf`` (accurate in the tails). The Laplace case is written with
    :math:`1 - u' = (1-U)(1-F(lo)) + U\\,S(hi)` so nothing cancels for small ``scale``; the
    result is clipped to [lo, hi] only to absorb float64 round-off.

    Examples
    --------
    >>> x = sample_truncated_conditional([[0.5, 0.99]], 0.05, seed=0)
    >>> bool(((x >= 0) & (x <= 1)).all())
    True
    """
    conditional = check_option(conditional, "conditional", BOX_CONDITIONALS)
    scale = check_positive(scale, "scale")
    lo, hi = _check_bounds(lo, hi)
    m = _check_loc(loc, lo, hi)
    u = as_generator(seed).uniform(size=m.shape)
    if conditional == "normal":
        a, b = (lo - m) / scale, (hi - m) / scale
        x = m + scale * truncnorm.ppf(u, a, b)
    else:
        x = _truncated_laplace_ppf(u, m, scale, lo, hi)
    return np.clip(x, lo, hi)


def _truncated_laplace_ppf(
    u: np.ndarray, m: np.ndarray, scale: float, lo: float, hi: float
) -> np.ndarray:
    """Inverse CDF of Laplace(m, scale) truncated to [lo, hi], written without cancellation."""
    cdf_lo = 0.5 * np.exp((lo - m) / scale)  # F(lo), lo <= m
    sf_hi = 0.5 * np.exp(-(hi - m) / scale)  # S(hi) = 1 - F(hi), hi >= m
    p = cdf_lo + u * (1.0 - sf_hi - cdf_lo)  # u' = F(lo) + U (F(hi) - F(lo))
    q = (1.0 - u) * (1.0 - cdf_lo) + u * sf_hi  # 1 - u'
    with np.errstate(divide="ignore"):
        left = m + scale * np.log(2.0 * p)
        right = m - scale * np.log(2.0 * q)
    return np.where(p < 0.5, left, right)
