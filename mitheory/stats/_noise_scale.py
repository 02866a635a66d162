"""Inputs against a noise scale: how far apart raw images lie compared with the norm of pixel
noise, and the largest noise scale up to which a test keeps passing."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike

from mitheory._validate import check_array, check_finite_number, check_positive

DISTANCE_QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


def pairwise_distances_vs_noise(x: ArrayLike, noise_scales: Sequence[float], *,
                                max_kept: int = 2000) -> dict[str, Any]:
    r"""Pairwise l2 distances of flattened inputs against twice the noise norm ``2 s sqrt(D)``.

    The norm of ``N(0, s^2 I_D)`` noise concentrates at ``s sqrt(D)``, so the noise shells of
    two inputs farther apart than ``2 s sqrt(D)`` do not intersect.

    Parameters
    ----------
    x : array or tensor (n, ...)
        ``n >= 2`` inputs (e.g. images), flattened to ``D`` values each (float64).
    noise_scales : sequence of float
        Noise standard deviations ``s`` (> 0).
    max_kept : int
        At most about this many distances are returned in ``rms_pixel_distance``.

    Returns
    -------
    dict
        ``dim`` (``D``), ``n_images``, ``quantiles`` (``{str(q): distance}`` at
        :data:`DISTANCE_QUANTILES`), ``rms_pixel_distance`` (every k-th distance over
        ``sqrt(D)``, for a box plot; not used by the fractions) and ``fraction_apart``
        (``{str(s): fraction of pairs with distance > 2 s sqrt(D)}``).

    Raises
    ------
    ValueError
        Fewer than 2 inputs, a non-finite value, or a scale <= 0.
    """
    t = torch.as_tensor(x)
    if t.ndim < 2 or len(t) < 2:
        raise ValueError(f"x must hold at least 2 inputs (n, ...), got shape {tuple(t.shape)}")
    flat = t.reshape(len(t), -1).double()
    if not bool(torch.isfinite(flat).all()):
        raise ValueError("x contains NaN or inf")
    scales = [check_positive(s, "noise_scales") for s in noise_scales]
    if not scales:
        raise ValueError("noise_scales must hold at least one scale")
    if max_kept < 1:
        raise ValueError(f"max_kept must be >= 1, got {max_kept!r}")
    d = torch.pdist(flat).numpy()
    dim = flat.shape[1]
    qs = DISTANCE_QUANTILES
    return {"dim": dim, "n_images": len(t),
            "quantiles": dict(zip(map(str, qs), np.quantile(d, qs).tolist())),
            "rms_pixel_distance": (d[::max(1, len(d) // max_kept)] / np.sqrt(dim)).tolist(),
            "fraction_apart": {str(s): float(np.mean(d > 2 * s * np.sqrt(dim)))
                               for s in noise_scales}}


def largest_passing_scale(scales: Sequence[float], pass_fraction: ArrayLike, *,
                          min_pass: float) -> float:
    """The largest of ascending ``scales`` up to which every scale has a pass fraction
    ``>= min_pass``; the smallest scale when even it fails.

    >>> largest_passing_scale((1, 2, 3, 4), (1.0, 0.8, 0.5, 0.9), min_pass=0.75)
    2

    Raises
    ------
    ValueError
        Empty, unequal-length or non-ascending inputs, or a NaN pass fraction.
    """
    s = check_array(scales, "scales", ndim=1)
    p = check_array(pass_fraction, "pass_fraction", ndim=1)
    check_finite_number(min_pass, "min_pass")
    if len(s) == 0 or len(s) != len(p):
        raise ValueError(f"scales and pass_fraction must be non-empty and of equal length, got "
                         f"{len(s)} and {len(p)}")
    if np.any(np.diff(s) <= 0):
        raise ValueError(f"scales must be strictly ascending, got {list(scales)}")
    best = scales[0]
    for sc, frac in zip(scales, p):
        if frac < min_pass:
            break
        best = sc
    return best
