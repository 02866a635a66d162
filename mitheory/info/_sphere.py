r"""Exact entropies on the unit sphere: the uniform law and the von Mises-Fisher (vMF) law.

Entropies are with respect to the surface (Hausdorff) measure of :math:`S^{d-1}\subset\mathbb R^d`
(Mardia & Jupp 2000, Sec. 9.3.2); sampling lives in ``mitheory.generative``. Used by the vMF tasks
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
