r"""Exact entropies on the unit sphere: the uniform law and the von Mises-Fisher (vMF) law.

Entropies are with respect to the surface (Hausdorff) measure of :math:`S^{d-1}\subset\mathbb R^d`
(Mardia & Jupp 2000, Sec. 9.3.2); samplers follow Wood (1994). Used by the sphere/vMF tasks
(Zimmermann et al. 2021 latent process) and by claim C2.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import gammaln, ive

from mitheory._types import InfoValue, Unit
from mitheory._validate import check_int, check_positive
from mitheory.info._common import check_unit, info_value


def _log_ive(nu: float, kappa: float) -> float:
    """``log I_nu(kappa) - kappa`` for ``kappa > 0``, stable for large ``kappa`` and large ``nu``.

    Uses the exponentially scaled ``ive`` when it is representable, else the power series
    ``I_nu(k) = (k/2)^nu / Gamma(nu+1) * sum_m (k^2/4)^m / (m! (nu+1)_m)`` in log space (the
    regime where ``ive`` underflows is ``nu >> kappa``, where the series converges fast). Keeping
    ``-kappa`` inside avoids adding and subtracting a large ``kappa`` later.
    """
    val = ive(nu, kappa)
    if np.isfinite(val) and val > 1e-290:
        return float(np.log(val))
    q = kappa * kappa / 4.0
    term, total, m = 1.0, 1.0, 0
    while term > 1e-17 * total:
        m += 1
        term *= q / (m * (nu + m))
        total += term
    return float(nu * math.log(kappa / 2.0) - gammaln(nu + 1.0) + math.log(total) - kappa)


def _mean_resultant_length(kappa: float, dim: int) -> float:
    r""":math:`A_d(\kappa) = I_{d/2}(\kappa) / I_{d/2-1}(\kappa) = E[\mu^\top X]` for a vMF law."""
    if kappa == 0.0:
        return 0.0
    nu = dim / 2.0 - 1.0
    return math.exp(_log_ive(nu + 1.0, kappa) - _log_ive(nu, kappa))


def entropy_uniform_sphere(dim: int, *, unit: Unit = "nats") -> InfoValue:
    r"""Differential entropy of the uniform law on the unit sphere :math:`S^{d-1}`, exact.

    Parameters
    ----------
    dim : int
        Ambient dimension :math:`d \ge 2` (the sphere :math:`\{x\in\mathbb R^d: \|x\| = 1\}`).
    unit : {"nats", "bits"}

    Returns
    -------
    InfoValue
        **Exact** :math:`H = \log|S^{d-1}|`, the log surface area (``kind="exact"``), w.r.t. the
        surface measure.

    Notes
    -----
    .. math:: |S^{d-1}| = \frac{2\pi^{d/2}}{\Gamma(d/2)}, \qquad H = \log|S^{d-1}|.

    Examples
    --------
    >>> round(entropy_uniform_sphere(3).value, 6)   # log(4 pi)
    2.531024
    """
    check_unit(unit)
    dim = check_int(dim, "dim", minimum=2)
    h = math.log(2.0) + 0.5 * dim * math.log(math.pi) - float(gammaln(dim / 2.0))
    return info_value(h, unit=unit, kind="exact", method="uniform_sphere_closed_form",
                      details={"dim": dim})


def entropy_vmf(kappa: float, dim: int, *, unit: Unit = "nats") -> InfoValue:
    r"""Differential entropy of a von Mises-Fisher law on :math:`S^{d-1}`, exact.

    Parameters
    ----------
    kappa : float
        Concentration :math:`\kappa \ge 0` (``0`` is the uniform law).
    dim : int
        Ambient dimension :math:`d \ge 2`.
    unit : {"nats", "bits"}

    Returns
    -------
    InfoValue
        **Exact** :math:`H(\mathrm{vMF}(\mu,\kappa))` w.r.t. the surface measure
        (``kind="exact"``); it does not depend on :math:`\mu`.

    Notes
    -----
    The density is :math:`f(x) = C_d(\kappa) e^{\kappa\mu^\top x}` with
    :math:`C_d(\kappa) = \kappa^{d/2-1} / ((2\pi)^{d/2} I_{d/2-1}(\kappa))`
    (Mardia & Jupp 2000, Eq. 9.3.4), so, with :math:`A_d(\kappa) = E[\mu^\top X]
    = I_{d/2}(\kappa)/I_{d/2-1}(\kappa)`,

    .. math:: H = -\log C_d(\kappa) - \kappa A_d(\kappa).

    Bessel functions are evaluated in log space (``scipy.special.ive``, power series where it
    underflows), so large :math:`\kappa` and large :math:`d` do not overflow.

    References
    ----------
    K. V. Mardia, P. E. Jupp, *Directional Statistics*, Wiley 2000.

    Examples
    --------
    >>> round(entropy_vmf(0.0, 3).value, 6) == round(entropy_uniform_sphere(3).value, 6)
    True
    """
    check_unit(unit)
    dim = check_int(dim, "dim", minimum=2)
    kappa = check_positive(kappa, "kappa", strict=False)
    if kappa == 0.0:
        h = float(entropy_uniform_sphere(dim))
    else:
        nu = dim / 2.0 - 1.0
        # -log C_d - kappa A_d with log I_nu = log ive + kappa, the two kappa terms merged
        h = (-nu * math.log(kappa) + 0.5 * dim * math.log(2.0 * math.pi) + _log_ive(nu, kappa)
             + kappa * (1.0 - _mean_resultant_length(kappa, dim)))
    return info_value(h, unit=unit, kind="exact", method="vmf_closed_form",
                      details={"dim": dim, "kappa": kappa})


def _sample_uniform_sphere(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points uniform on :math:`S^{d-1}` (normalised standard Gaussians), shape (n, dim)."""
    g = rng.standard_normal((n, dim))
    return g / np.linalg.norm(g, axis=1, keepdims=True)


def _sample_vmf(mu: np.ndarray, kappa: float, rng: np.random.Generator) -> np.ndarray:
    r"""One vMF draw per row of ``mu`` (unit mean directions, shape (n, d)); Wood (1994).

    The cosine :math:`w = \mu^\top x` is drawn by Wood's rejection sampler (Wood 1994, Sec. 2,
    with the cancellation-free form of :math:`b`), the tangent direction uniformly, and the
    result is moved from :math:`e_1` to :math:`\mu` by a Householder reflection.
    """
    mu = np.atleast_2d(mu)
    n, d = mu.shape
    m1 = d - 1.0
    b = m1 / (2.0 * kappa + math.sqrt(4.0 * kappa * kappa + m1 * m1))
    x0 = (1.0 - b) / (1.0 + b)
    c = kappa * x0 + m1 * math.log(1.0 - x0 * x0)
    w = np.empty(n)
    todo = np.arange(n)
    while todo.size:
        z = rng.beta(m1 / 2.0, m1 / 2.0, size=todo.size)
        cand = (1.0 - (1.0 + b) * z) / (1.0 - (1.0 - b) * z)
        u = rng.uniform(size=todo.size)
        ok = kappa * cand + m1 * np.log1p(-x0 * cand) - c >= np.log(u)
        w[todo[ok]] = cand[ok]
        todo = todo[~ok]
    v = _sample_uniform_sphere(n, d - 1, rng) if d > 2 else rng.choice([-1.0, 1.0], (n, 1))
    s = np.concatenate([w[:, None], np.sqrt(np.clip(1.0 - w * w, 0.0, None))[:, None] * v], 1)
    # Householder reflection H = I - 2 u u^T / |u|^2 with u = e1 - mu maps e1 to mu.
    u = -mu.copy()
    u[:, 0] += 1.0
    nrm2 = np.sum(u * u, axis=1)
    safe = nrm2 > 1e-30  # mu == e1: identity
    coef = np.where(safe, 2.0 * np.sum(u * s, axis=1) / np.where(safe, nrm2, 1.0), 0.0)
    return s - coef[:, None] * u
