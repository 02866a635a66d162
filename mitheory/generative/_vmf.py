"""Uniform and von Mises-Fisher sampling on the unit sphere S^{d-1} (Wood 1994).

A_d(kappa) (``vmf_mean_resultant_length``) lives in ``mitheory._special``.

The vMF conditional is the positive-pair law of Zimmermann et al. (2021), Sec. 3.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from mitheory._rng import as_generator
from mitheory._types import Seed
from mitheory._validate import check_array, check_int, check_positive

#: Allowed deviation of ``||mu||`` from 1 before ``mu`` is rejected (it is then renormalised
#: exactly). Loose enough for float32 embeddings, tight enough to catch an unnormalised mean.
MU_NORM_TOL = 1e-5


def sample_uniform_sphere(n: int, dim: int, *, seed: Seed) -> np.ndarray:
    """Draw ``n`` points uniformly on the unit sphere :math:`S^{d-1} \\subset \\mathbb{R}^d`.

    Parameters
    ----------
    n : int
        Number of samples (>= 1).
    dim : int
        Ambient dimension ``d`` (>= 2).
    seed : int, Generator, SeedSequence or None

    Returns
    -------
    np.ndarray, shape (n, dim), float64
        Exact samples: normalised isotropic Gaussians (Muller 1959).

    Examples
    --------
    >>> sample_uniform_sphere(3, 4, seed=0).shape
    (3, 4)
    """
    n = check_int(n, "n", minimum=1)
    dim = check_int(dim, "dim", minimum=2)
    rng = as_generator(seed)
    g = rng.standard_normal((n, dim))  # (n, dim)
    return g / np.linalg.norm(g, axis=1, keepdims=True)


def _check_mu(mu: ArrayLike) -> np.ndarray:
    m = check_array(mu, "mu", ndim=(1, 2))
    if m.shape[-1] < 2:
        raise ValueError(f"mu must have dimension >= 2, got shape {m.shape}")
    norms = np.linalg.norm(m, axis=-1)
    bad = np.abs(norms - 1.0) > MU_NORM_TOL
    if np.any(bad):
        worst = float(norms.ravel()[np.argmax(np.abs(norms - 1.0).ravel())])
        raise ValueError(
            f"mu must have unit L2 norm (|norm - 1| <= {MU_NORM_TOL}); "
            f"{int(np.sum(bad))} row(s) violate it, e.g. norm {worst:.6g}"
        )
    return m / norms[..., None]


def sample_vmf(mu: ArrayLike, kappa: float, n: int | None = None, *, seed: Seed) -> np.ndarray:
    """Exact samples from the von Mises-Fisher law vMF(mu, kappa) on S^{d-1} (Wood 1994).

    Parameters
    ----------
    mu : array_like, shape (dim,) or (n, dim)
        Mean direction(s), unit norm within ``MU_NORM_TOL`` (1e-5; then renormalised). A 2-D
        ``mu`` gives one sample per row, which is how conditionals
        :math:`\\tilde z \\sim \\mathrm{vMF}(z, \\kappa)` are drawn for a batch of ``z``.
    kappa : float
        Concentration (> 0). Any size works: the acceptance test is written without
        cancellation, so ``kappa = 1e8`` is fine.
    n : int, optional
        Number of samples; required when ``mu`` is 1-D, must equal ``len(mu)`` (or be None)
        when ``mu`` is 2-D.
    seed : int, Generator, SeedSequence or None

    Returns
    -------
    np.ndarray, shape (n, dim), float64
        Exact samples (rejection sampling, no approximation) with density

        .. math:: p(x) = C_d(\\kappa) \\exp(\\kappa \\mu^\\top x).

    Notes
    -----
    Wood's algorithm draws :math:`w = \\mu^\\top x` by rejection from a Beta proposal with
    :math:`b = (d-1)/(2\\kappa + \\sqrt{4\\kappa^2 + (d-1)^2})`, :math:`x_0 = (1-b)/(1+b)`,
    :math:`W = (1-(1+b)Z)/(1-(1-b)Z)`, :math:`Z \\sim \\mathrm{Beta}((d-1)/2, (d-1)/2)`, accepted
    if :math:`\\kappa W + (d-1)\\log(1 - x_0 W) - c \\ge \\log U`,
    :math:`c = \\kappa x_0 + (d-1)\\log(1 - x_0^2)`. Here :math:`1 - W`, :math:`W - x_0` and
    :math:`\\log((1-x_0 W)/(1-x_0^2)) = \\log((1+b) / (2(1-(1-b)Z)))` are computed in closed
    form so nothing cancels at large ``kappa``. The tangent part is an isotropic Gaussian
    projected orthogonally to ``mu`` and normalised (uniform on the orthogonal sphere), so no
    rotation matrix is needed and each row may have its own ``mu``. cl-ica uses the same
    algorithm (``vmf.py`` from clara-labs/spherecluster, a per-sample loop).

    References
    ----------
    Wood (1994), "Simulation of the von Mises Fisher distribution", Commun. Stat. Simul. 23(1).

    Examples
    --------
    >>> x = sample_vmf([0.0, 0.0, 1.0], 50.0, 4, seed=0)
    >>> x.shape
    (4, 3)
    """
    kappa = check_positive(kappa, "kappa")
    m = _check_mu(mu)
    if m.ndim == 1:
        if n is None:
            raise ValueError("n is required when mu is one direction of shape (dim,)")
        n = check_int(n, "n", minimum=1)
        m = np.broadcast_to(m, (n, m.shape[0]))
    elif n is not None and check_int(n, "n", minimum=1) != m.shape[0]:
        raise ValueError(f"n={n} does not match the {m.shape[0]} rows of mu (shape {m.shape})")
    if m.shape[0] == 0:
        raise ValueError("mu has zero rows")
    rng = as_generator(seed)
    n_rows, dim = m.shape
    w = _sample_vmf_cosine(n_rows, dim, kappa, rng)  # (n,)
    g = rng.standard_normal((n_rows, dim))  # (n, dim)
    g -= np.sum(g * m, axis=1, keepdims=True) * m  # project out mu
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    one_minus_w, w_val = w
    sin = np.sqrt(one_minus_w * (2.0 - one_minus_w))  # sqrt(1 - W^2) without cancellation
    return w_val[:, None] * m + sin[:, None] * g


def _sample_vmf_cosine(
    n: int, dim: int, kappa: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Wood's rejection sampler for W = mu^T x; returns (1 - W, W), both shape (n,)."""
    dm1 = dim - 1.0
    b = dm1 / (2.0 * kappa + np.sqrt(4.0 * kappa**2 + dm1**2))
    one_minus_x0 = 2.0 * b / (1.0 + b)
    one_minus_w = np.empty(n)
    pending = np.arange(n)
    while pending.size:
        k = pending.size
        z = rng.beta(dm1 / 2.0, dm1 / 2.0, size=k)
        u = rng.uniform(size=k)
        denom = 1.0 - (1.0 - b) * z
        omw = 2.0 * b * z / denom  # 1 - W
        log_accept = kappa * (one_minus_x0 - omw) + dm1 * np.log((1.0 + b) / (2.0 * denom))
        ok = np.log(u) <= log_accept
        one_minus_w[pending[ok]] = omw[ok]
        pending = pending[~ok]
    return one_minus_w, 1.0 - one_minus_w
