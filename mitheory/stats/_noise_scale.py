"""Inputs against a noise scale: how far apart raw images lie compared with the norm of pixel
noise, and the largest noise scale up to which a test keeps passing."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
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


def pool_noise_sweeps(sweeps: Sequence[Sequence[Mapping[str, Any]]], test: str, *,
                      min_pass: float) -> dict[str, Any]:
    """Pass fractions and region-exit probabilities of several runs' noise sweeps, pooled.

    Parameters
    ----------
    sweeps : sequence of sequences of dict
        One sweep per run (e.g. per training seed), each the rows of
        :func:`mitheory.cpa.noise_response` at the same ascending scales: ``row["s"]``,
        ``row["pass_" + test]`` (fraction of prototypes not rejected) and ``row["exit"]``
        (per-prototype exit probabilities).
    test : str
        The normality test whose pass fraction is pooled.
    min_pass : float
        The pass fraction of :func:`largest_passing_scale`.

    Returns
    -------
    dict
        ``test``, ``pass_fraction_by_scale`` (``{str(s): mean pass fraction over the runs}``),
        ``exit_probability_by_scale`` (``{str(s): mean over runs and prototypes}``),
        ``s_gauss`` (:func:`largest_passing_scale` of the pooled pass fractions),
        ``pass_small_noise`` (the pooled fraction at the smallest scale) and ``pass_drop``
        (that minus the pooled fraction at the largest scale).

    Raises
    ------
    ValueError
        No sweep, an empty sweep, sweeps at different scales, a row without the fields, and
        the errors of :func:`largest_passing_scale`.
    """
    if not sweeps or any(len(sw) == 0 for sw in sweeps):
        raise ValueError("sweeps must hold at least one non-empty sweep of noise_response rows")
    key = f"pass_{test}"
    if any(key not in row or "s" not in row or "exit" not in row for sw in sweeps for row in sw):
        raise ValueError(f"test {test!r}: every row of sweeps needs 's', 'exit' and {key!r}")
    scales = [row["s"] for row in sweeps[0]]
    if any([row["s"] for row in sw] != scales for sw in sweeps):
        raise ValueError("sweeps must all be at the same noise scales")
    passed = np.mean([[row[key] for row in sw] for sw in sweeps], 0)
    exits = [float(np.mean([sw[j]["exit"] for sw in sweeps])) for j in range(len(scales))]
    return {"test": test, "pass_fraction_by_scale": dict(zip(map(str, scales), passed.tolist())),
            "exit_probability_by_scale": dict(zip(map(str, scales), exits)),
            "s_gauss": largest_passing_scale(scales, passed, min_pass=min_pass),
            "pass_small_noise": float(passed[0]), "pass_drop": float(passed[0] - passed[-1])}
