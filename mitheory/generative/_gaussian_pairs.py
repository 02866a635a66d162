"""Pairs of standard normal vectors whose matching coordinates have correlation rho (and no
other dependence): the simplest pair with a closed-form mutual information."""
from __future__ import annotations

import numpy as np

from mitheory._rng import as_generator
from mitheory._types import Seed
from mitheory._validate import check_finite_number, check_int


def sample_correlated_pairs(n: int, dim: int, *, rho: float,
                            seed: Seed) -> tuple[np.ndarray, np.ndarray]:
    r"""Draw ``n`` pairs :math:`(X, Y)`, :math:`X \sim N(0, I_{dim})`,
    :math:`Y = \rho X + \sqrt{1 - \rho^2}\,\varepsilon` with :math:`\varepsilon \sim N(0, I)`.

    Each coordinate pair :math:`(X_i, Y_i)` is standard bivariate normal with correlation
    :math:`\rho`, so :math:`I(X; Y) = -\tfrac{dim}{2}\log(1 - \rho^2)` nats
    (``info.tasks.CorrelatedGaussian.from_correlations([rho] * dim)`` has the same law but
    draws the joint in one call, a different sample stream).

    Parameters
    ----------
    n, dim : int
        Number of pairs and dimension of each vector.
    rho : float
        Correlation, in (-1, 1).
    seed : int, SeedSequence, Generator or None
        One generator draws ``X`` first, then ``epsilon``.

    Returns
    -------
    x, y : np.ndarray, shape (n, dim), float64
        Exact samples.

    Raises
    ------
    ValueError
        If ``n`` or ``dim`` is not a positive integer, or ``rho`` is not in (-1, 1).
    """
    n, dim = check_int(n, "n", minimum=1), check_int(dim, "dim", minimum=1)
    rho = check_finite_number(rho, "rho")
    if not -1.0 < rho < 1.0:
        raise ValueError(f"rho must be in (-1, 1), got {rho!r}")
    rng = as_generator(seed)
    x = rng.standard_normal((n, dim))
    return x, rho * x + np.sqrt(1 - rho**2) * rng.standard_normal((n, dim))
