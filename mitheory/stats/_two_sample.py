"""Two-sample tests: energy distance, the Gaussian-kernel MMD and a permutation test of equal laws.

General statistics; ``mitheory.cpa.output_law_check`` uses them to measure how far the Monte
Carlo law of ``f(x* + eps)`` is from Theorem 1's mixture.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from mitheory._rng import as_generator
from mitheory._types import Seed
from mitheory._validate import check_int, check_option, check_positive, check_samples

Statistic = Literal["energy", "mmd"]


def _pair(x: Any, y: Any) -> tuple[torch.Tensor, torch.Tensor]:
    xa, ya = check_samples(x, "x", min_samples=2), check_samples(y, "y", min_samples=2)
    if xa.shape[1] != ya.shape[1]:
        raise ValueError(f"x and y must have the same dimension, got {xa.shape} and {ya.shape}")
    return torch.as_tensor(xa), torch.as_tensor(ya)


def _offdiag_mean(d: torch.Tensor) -> torch.Tensor:
    n = d.shape[0]
    return (d.sum() - d.diagonal().sum()) / (n * (n - 1))


def _median_offdiag(d: torch.Tensor) -> float:
    return float(d[torch.triu(torch.ones_like(d, dtype=torch.bool), 1)].median())


def _pooled(x: Any, y: Any, statistic: str, bandwidth: float | None):
    """Pooled kernel matrix, the sign that turns it into the statistic, and ``len(x)``."""
    xt, yt = _pair(x, y)
    z = torch.cat([xt, yt])  # (n_x + n_y, dim)
    d = torch.cdist(z, z, compute_mode="donot_use_mm_for_euclid_dist")  # direct differences
    if statistic == "energy":
        return d, 1.0, len(xt)
    if bandwidth is None:
        bw = _median_offdiag(d)
        if not bw > 0:  # exp(-0 / 0) is NaN: every statistic and the p-value would be garbage
            raise ValueError(
                "bandwidth=None uses the median pairwise distance of the pooled sample (x, y), "
                "which is 0 here (identical or mostly tied rows); pass an explicit bandwidth > 0")
    else:
        bw = check_positive(bandwidth, "bandwidth")
    # MMD^2 = mean k(xx) + mean k(yy) - 2 mean k(xy): the energy form with the opposite sign
    return torch.exp(-d**2 / (2 * bw**2)), -1.0, len(xt)


def _statistics(m: torch.Tensor, sign: float, member: torch.Tensor) -> torch.Tensor:
    """The statistic for each column of ``member`` (n, P), a 0/1 indicator of the x-sample.

    With ``s`` the indicator, ``t = 1 - s`` and ``r = M 1``: ``s'Mt = s'r - s'Ms`` and
    ``t'Mt = 1'M1 - 2 s'r + s'Ms``; one (n, n) x (n, P) product serves all P splits.
    """
    nx = member[:, 0].sum()
    ny = m.shape[0] - nx
    sms = (member * (m @ member)).sum(0)  # s'Ms per column
    sr = member.T @ m.sum(1)  # s'r
    dx = member.T @ m.diagonal()
    dy = m.diagonal().sum() - dx
    xx = (sms - dx) / (nx * (nx - 1))
    yy = (m.sum() - 2 * sr + sms - dy) / (ny * (ny - 1))
    xy = (sr - sms) / (nx * ny)
    return sign * (2 * xy - xx - yy)


def _observed(m: torch.Tensor, sign: float, nx: int) -> float:
    member = torch.zeros(m.shape[0], 1, dtype=m.dtype)
    member[:nx] = 1.0
    return float(_statistics(m, sign, member)[0])


def energy_distance(x: Any, y: Any) -> float:
    """Energy distance between two samples (unbiased within-sample terms).

    .. math:: \\mathcal{E}(X, Y) = 2\\,E\\lVert X - Y\\rVert - E\\lVert X - X'\\rVert
              - E\\lVert Y - Y'\\rVert

    (Székely & Rizzo 2013, Eq. (2)); zero iff the laws are equal. Estimate; may be slightly
    negative at finite sample size.
    """
    return _observed(*_pooled(x, y, "energy", None))


def median_bandwidth(x: Any, y: Any) -> float:
    """Median pairwise distance of the pooled sample (the usual MMD bandwidth heuristic)."""
    return _median_offdiag(_pooled(x, y, "energy", None)[0])


def mmd_rbf(x: Any, y: Any, *, bandwidth: float | None = None) -> float:
    """Unbiased squared MMD with the Gaussian kernel ``exp(-|a-b|^2 / (2 bw^2))``.

    Gretton et al. 2012, Lemma 6 (``MMD_u^2``); ``bandwidth`` defaults to ``median_bandwidth``.

    Raises
    ------
    ValueError
        If ``bandwidth`` is None and the pooled median pairwise distance is 0 (e.g. ``x`` and
        ``y`` identical constants): the median heuristic has no scale then, so pass
        ``bandwidth`` explicitly.
    """
    return _observed(*_pooled(x, y, "mmd", bandwidth))


@dataclass(frozen=True)
class TwoSampleTest:
    """Result of a permutation two-sample test.

    Attributes
    ----------
    statistic : float
        Observed energy distance or squared MMD.
    p_value : float
        ``(1 + #{permuted >= observed}) / (1 + n_permutations)``.
    null_mean, null_sd : float
        Mean and standard deviation of the permutation null (the statistic's noise floor).
    method : str
    n_permutations : int
    """

    statistic: float
    p_value: float
    null_mean: float
    null_sd: float
    method: str
    n_permutations: int


def two_sample_test(x: Any, y: Any, *, statistic: Statistic = "energy",
                    n_permutations: int = 200, bandwidth: float | None = None,
                    seed: Seed = None) -> TwoSampleTest:
    """Permutation test of ``law(x) == law(y)`` with the energy distance or MMD.

    The pooled distance (or kernel) matrix is computed once and all permutations are evaluated
    with one matrix product. The MMD bandwidth is ``bandwidth``, or (None) the pooled median
    pairwise distance, fixed before permuting.

    Raises
    ------
    ValueError
        For ``statistic="mmd"`` with ``bandwidth=None`` when the pooled median pairwise
        distance is 0 (see :func:`mmd_rbf`); and if ``bandwidth`` is given with
        ``statistic="energy"`` (which has no bandwidth).
    """
    check_option(statistic, "statistic", ("energy", "mmd"))
    n_permutations = check_int(n_permutations, "n_permutations", minimum=1)
    if statistic == "energy" and bandwidth is not None:
        raise ValueError(f"bandwidth applies to statistic='mmd' only, got bandwidth={bandwidth!r} "
                         "with statistic='energy'")
    m, sign, nx = _pooled(x, y, statistic, bandwidth)
    rng = as_generator(seed)
    observed = _observed(m, sign, nx)
    member = np.zeros((m.shape[0], n_permutations))  # (n, P): x-membership per permutation
    for j in range(n_permutations):
        member[rng.permutation(m.shape[0])[:nx], j] = 1.0
    null = _statistics(m, sign, torch.as_tensor(member)).numpy()
    p = (1 + np.sum(null >= observed)) / (1 + n_permutations)
    return TwoSampleTest(statistic=observed, p_value=float(p), null_mean=float(null.mean()),
                         null_sd=float(null.std()), method=statistic,
                         n_permutations=n_permutations)
