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
        Exact samples of the truncated law. Normal: by rejection (the entries outside the box
        are redrawn, at most a few rounds), then by the inverse CDF for any entry still outside;
        Laplace: by the inverse CDF

        .. math:: x = F^{-1}\\big(F(lo) + U\\,(F(hi) - F(lo))\\big), \\quad U \\sim U(0, 1).

    Notes
    -----
    cl-ica draws the same law by rejection (``spaces_utils.truncated_rejection_resampling``).
    The Normal case falls back to ``scipy.stats.truncnorm.ppf`` (accurate in the tails) after
    a few rejection rounds, so a conditional much wider than the box still takes a bounded
    number of passes. The Laplace case is written with
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
    rng = as_generator(seed)
    if conditional == "normal":
        return _truncated_normal(rng, m, scale, lo, hi)
    u = rng.uniform(size=m.shape)
    return np.clip(_truncated_laplace_ppf(u, m, scale, lo, hi), lo, hi)


_REJECTION_ROUNDS = 4  # then the inverse CDF for the entries still outside (wide conditionals)


def _truncated_normal(rng: np.random.Generator, m: np.ndarray, scale: float, lo: float,
                      hi: float) -> np.ndarray:
    """Exact truncated Normal draws: rejection (redraw the entries outside the box) for a few
    rounds, then ``truncnorm.ppf`` for the entries still outside. Every entry ends with a draw
    of the truncated law either way (an accepted proposal is one), so their mixture is too;
    rejection costs a few array operations where ``truncnorm.ppf`` costs special functions
    (about 8x faster on a 10-dim box of scale 0.05, ``benchmarks/bench_train``)."""
    x = m + scale * rng.standard_normal(m.shape)
    out = np.flatnonzero((x < lo) | (x > hi))
    flat_x, flat_m = x.reshape(-1), np.broadcast_to(m, x.shape).reshape(-1)
    for _ in range(_REJECTION_ROUNDS):
        if not out.size:
            return x
        flat_x[out] = flat_m[out] + scale * rng.standard_normal(out.size)
        out = out[(flat_x[out] < lo) | (flat_x[out] > hi)]
    if out.size:
        mo = flat_m[out]
        u = rng.uniform(size=out.size)
        flat_x[out] = mo + scale * truncnorm.ppf(u, (lo - mo) / scale, (hi - mo) / scale)
    return np.clip(x, lo, hi)  # only the inverse-CDF draws can sit a rounding error outside


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
