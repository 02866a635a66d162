r"""Exact entropies on the unit sphere: the uniform law and the von Mises-Fisher (vMF) law.

Entropies are with respect to the surface (Hausdorff) measure of :math:`S^{d-1}\subset\mathbb R^d`
(Mardia & Jupp 2000, Sec. 9.3.2); sampling lives in ``mitheory.generative``. Used by the vMF tasks
(Zimmermann et al. 2021 latent process) and by claim C2.
"""
from __future__ import annotations

from mitheory._special import log_sphere_area, vmf_entropy
from mitheory._types import InfoValue, Unit
from mitheory._validate import check_int, check_positive
from mitheory.info._common import check_unit, info_value


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
    return info_value(log_sphere_area(dim), unit=unit, kind="exact",
                      method="uniform_sphere_closed_form", details={"dim": dim})


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

    Evaluated by ``mitheory._special.vmf_entropy``: Bessel functions in log space
    (``scipy.special.ive``; power series or Debye's expansion where it underflows) and
    :math:`A_d` as a direct ``ive`` ratio, so large :math:`\kappa` and large :math:`d` do not
    overflow.

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
    h = vmf_entropy(dim, kappa)  # kappa = 0: the uniform law's log area
    return info_value(h, unit=unit, kind="exact", method="vmf_closed_form",
                      details={"dim": dim, "kappa": kappa})
