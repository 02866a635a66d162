r"""Special functions shared by every layer: log Bessel I_nu, the vMF normaliser, A_d(kappa).

One implementation each of :math:`\log I_\nu(\kappa)` (numpy, and a torch autograd version), the
von Mises-Fisher log-normaliser :math:`\log C_d(\kappa)`, the mean resultant length
:math:`A_d(\kappa)` and the two sphere entropies built from them (uniform law, vMF law).
Used by the ER objective, the ER bound's vMF decoder, the exact sphere entropies of
``mitheory.info`` and the ground truth of ``mitheory.generative``'s sphere process.

This module imports nothing from the subpackages (from ``mitheory`` it may use only
``mitheory._types`` and ``mitheory._validate``), so every layer can use it without a cycle.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import scipy.special as sc
import torch
from numpy.typing import ArrayLike

from mitheory._validate import check_array, check_int, check_positive

# ``ive`` values below this are subnormal or close to it: their relative precision is lost, so
# the series / Debye branches take over. 1e-290 keeps ~15 significant digits.
_IVE_TRUST = 1e-290
_N_DEBYE = 10  # terms U_0..U_9: relative error ~ U_10(p) / nu^10, below 1e-16 for nu >= 30
# A_d(kappa) as a ratio of ``ive`` values is trusted while both exceed this (else: recurrence).
_RATIO_TRUST = 1e-280


# ---- log I_nu(kappa) ---------------------------------------------------------------------------

def _debye_polynomials(n_terms: int) -> list[np.ndarray]:
    """Coefficients (ascending powers of p) of Debye's U_k(p), DLMF 10.41.10, exact rationals.

    U_0 = 1, U_{k+1}(p) = p^2 (1 - p^2) U_k'(p) / 2 + (1/8) int_0^p (1 - 5 t^2) U_k(t) dt.
    """
    polys = [[Fraction(1)]]
    for _ in range(n_terms - 1):
        u = polys[-1]
        new = [Fraction(0)] * (len(u) + 3)
        for j, c in enumerate(u):  # c * p^j
            if j:  # p^2 (1 - p^2) * j c p^(j-1) / 2
                new[j + 1] += Fraction(j) * c / 2
                new[j + 3] -= Fraction(j) * c / 2
            new[j + 1] += c / (8 * (j + 1))  # (1/8) int t^j
            new[j + 3] -= 5 * c / (8 * (j + 3))  # -(5/8) int t^(j+2)
        polys.append(new)
    return [np.array([float(c) for c in u]) for u in polys]


_DEBYE_U = _debye_polynomials(_N_DEBYE)


def _log_iv_debye(nu: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """Uniform asymptotic expansion of log I_nu(nu z), DLMF 10.41.3 (large nu, any z > 0)."""
    z = kappa / nu
    sq = np.sqrt(1.0 + z * z)
    p = 1.0 / sq
    eta = sq + np.log(z / (1.0 + sq))
    series = sum(np.polynomial.polynomial.polyval(p, u) / nu**k for k, u in enumerate(_DEBYE_U))
    return nu * eta - 0.5 * np.log(2.0 * np.pi * nu) - 0.5 * np.log(sq) + np.log(series)


def _log_iv_series(nu: np.ndarray, kappa: np.ndarray, n_terms: int = 60) -> np.ndarray:
    """Power series DLMF 10.25.2 in log space; all terms positive, so no cancellation.

    Term ratio is (kappa/2)^2 / (m (nu + m)); used only where (kappa/2)^2 <= nu + 1, where
    60 terms reach double precision.
    """
    m = np.arange(n_terms)[:, None]
    x = 2.0 * np.log(kappa / 2.0)
    log_terms = m * x - sc.gammaln(m + 1.0) - sc.gammaln(nu + m + 1.0)
    return nu * np.log(kappa / 2.0) + sc.logsumexp(log_terms, axis=0)


def _log_iv(nu: ArrayLike, kappa: ArrayLike, *, scaled: bool) -> np.ndarray | float:
    """``log I_nu(kappa)`` (``scaled=False``) or ``log I_nu(kappa) - kappa`` (``scaled=True``).

    The scaled form takes ``log ive`` as it is in the ``ive`` regime, so large ``kappa`` is
    never added and subtracted again; the other two regimes subtract ``kappa`` once.
    """
    nu_arr = check_array(nu, "nu")
    k_arr = check_array(kappa, "kappa")
    if np.any(nu_arr < 0):
        raise ValueError(f"nu must be >= 0, got {nu!r}")
    if np.any(k_arr <= 0):
        raise ValueError(f"kappa must be > 0, got {kappa!r}")
    nu_b, k_b = (np.array(a, dtype=np.float64) for a in np.broadcast_arrays(nu_arr, k_arr))
    out = np.empty_like(nu_b)
    # the positive power series is exact to rounding where it converges fast; ive near
    # kappa -> 0 loses digits to the cancellation in log(ive) + kappa.
    series = (k_b / 2.0) ** 2 <= nu_b + 1.0
    if np.any(series):
        val = _log_iv_series(nu_b[series], k_b[series])
        out[series] = val - k_b[series] if scaled else val
    rest = ~series
    if np.any(rest):
        with np.errstate(divide="ignore", under="ignore"):
            ive = np.asarray(sc.ive(nu_b[rest], k_b[rest]))
            val = np.log(ive) if scaled else np.log(ive) + k_b[rest]
        under = ~(ive > _IVE_TRUST)  # large nu only: Debye is accurate to ~nu^-10 there
        if np.any(under):
            deb = _log_iv_debye(nu_b[rest][under], k_b[rest][under])
            val[under] = deb - k_b[rest][under] if scaled else deb
        out[rest] = val
    return float(out) if out.ndim == 0 else out


def log_bessel_iv(nu: ArrayLike, kappa: ArrayLike) -> np.ndarray | float:
    r"""Natural log of the modified Bessel function of the first kind, :math:`\log I_\nu(\kappa)`.

    Parameters
    ----------
    nu : float or array_like
        Order, ``nu >= 0`` (any real order, e.g. ``d/2 - 1`` for the vMF on :math:`S^{d-1}`).
    kappa : float or array_like
        Argument, ``kappa > 0``. Broadcast against ``nu``.

    Returns
    -------
    float or numpy.ndarray
        :math:`\log I_\nu(\kappa)`, exact up to float64 rounding (tested against mpmath to
        relative ``1e-10`` for ``nu`` up to 999 and ``kappa`` in [0.1, 1000]).

    Raises
    ------
    ValueError
        If ``nu < 0``, ``kappa <= 0`` or either is not finite.

    Notes
    -----
    Three regimes, chosen per element:

    1. where :math:`(\kappa/2)^2 \le \nu + 1`, the power series
       :math:`I_\nu(\kappa) = \sum_m (\kappa/2)^{2m+\nu} / (m!\,\Gamma(\nu+m+1))`
       (DLMF 10.25.2), 60 positive terms summed in log space;
    2. otherwise :math:`\log I_\nu(\kappa) = \log \mathrm{ive}(\nu, \kappa) + \kappa` with
       scipy's exponentially scaled ``ive`` wherever it does not underflow (value > 1e-290);
    3. where it underflows (only for large :math:`\nu`), Debye's uniform asymptotic
       expansion (DLMF 10.41.3), with
       :math:`z = \kappa/\nu`, :math:`\eta = \sqrt{1+z^2} + \log(z / (1 + \sqrt{1+z^2}))`:

    .. math::

        I_\nu(\nu z) \sim \frac{e^{\nu\eta}}{(2\pi\nu)^{1/2}(1+z^2)^{1/4}}
        \sum_{k\ge 0} \frac{U_k\big((1+z^2)^{-1/2}\big)}{\nu^k},

    with the polynomials :math:`U_0..U_9` generated exactly from the DLMF 10.41.10 recursion.

    This is a float64 numpy function (``kappa`` is a fixed hyperparameter in the losses, so
    the normaliser is a constant and carries no gradient); :func:`log_vmf_normalizer_torch`
    is the differentiable version.

    Examples
    --------
    >>> round(float(log_bessel_iv(0.5, 1.0)), 12) == round(math.log(math.sqrt(2 / math.pi)
    ...     * math.sinh(1.0)), 12)
    True
    """
    return _log_iv(nu, kappa, scaled=False)


def log_bessel_ive(nu: ArrayLike, kappa: ArrayLike) -> np.ndarray | float:
    r""":math:`\log I_\nu(\kappa) - \kappa` (the log of scipy's ``ive``), stable for any order.

    Same regimes, inputs and errors as :func:`log_bessel_iv`; in the ``ive`` regime the value
    is ``log(ive)`` itself, so for large ``kappa`` nothing of size ``kappa`` cancels.

    Examples
    --------
    >>> abs(log_bessel_ive(3.0, 1e4) - math.log(sc.ive(3.0, 1e4))) < 1e-15
    True
    """
    return _log_iv(nu, kappa, scaled=True)


# ---- the vMF law -------------------------------------------------------------------------------

def log_vmf_normalizer(dim: int, kappa: ArrayLike) -> np.ndarray | float:
    r"""Log-normaliser :math:`\log C_d(\kappa)` of the von Mises-Fisher density on :math:`S^{d-1}`.

    Parameters
    ----------
    dim : int
        Ambient dimension ``d >= 2`` (the sphere :math:`S^{d-1} \subset \mathbb{R}^d`).
    kappa : float or array_like
        Concentration, ``kappa > 0``.

    Returns
    -------
    float or numpy.ndarray
        Exact (float64) value, in nats, of

        .. math::

            \log C_d(\kappa) = (d/2 - 1)\log\kappa - (d/2)\log(2\pi)
            - \log I_{d/2-1}(\kappa),

        so that :math:`\mathrm{vMF}(x;\mu,\kappa) = C_d(\kappa)\exp(\kappa\mu^\top x)` integrates
        to 1 over the sphere's surface measure.

    Notes
    -----
    The released ER code (apple/ml-entropy-reconstruction, ``entropy_reconstruction.py``) uses
    ``log(iv(d/2-1, kappa) + 1e-7)`` in place of :math:`\log I`; that constant saturates at
    :math:`\log 10^{-7}` once :math:`I_{d/2-1}(\kappa) < 10^{-7}` (``d >= 64`` at
    ``kappa = 10``). See ``mitheory.objectives._er._log_vmf_normalizer_official``.

    Examples
    --------
    >>> k = 2.0  # d = 3: C_3 = kappa / (4 pi sinh kappa)
    >>> abs(log_vmf_normalizer(3, k) - math.log(k / (4 * math.pi * math.sinh(k)))) < 1e-12
    True
    """
    d = check_int(dim, "dim", minimum=2)
    lk = np.log(check_array(kappa, "kappa"))
    out = (d / 2 - 1) * lk - (d / 2) * math.log(2 * math.pi) - log_bessel_iv(d / 2 - 1, kappa)
    return float(out) if np.ndim(out) == 0 else out


def vmf_mean_resultant_length(dim: int, kappa: float) -> float:
    """Mean resultant length :math:`A_d(\\kappa) = E[\\mu^\\top x]` of vMF(mu, kappa) on S^{d-1}.

    Parameters
    ----------
    dim : int
        Ambient dimension ``d`` (>= 2).
    kappa : float
        Concentration (> 0).

    Returns
    -------
    float
        Exact value (to float64 round-off) of

        .. math:: A_d(\\kappa) = \\frac{I_{d/2}(\\kappa)}{I_{d/2-1}(\\kappa)}.

    Notes
    -----
    Computed as a ratio of exponentially scaled Bessel functions (``scipy.special.ive``), so large
    ``kappa`` does not overflow. When ``ive`` underflows (large ``d`` with small ``kappa``,
    e.g. ``d = 2000, kappa = 1``) the ratio is evaluated instead by the backward recurrence
    :math:`R_\\nu = 1 / (2\\nu/\\kappa + R_{\\nu+1})` with :math:`R_\\nu = I_\\nu / I_{\\nu-1}`
    (Gauss continued fraction), started far above ``nu = d/2`` from the Amos (1974) bound.
    A direct ratio keeps float64 relative precision, where ``exp`` of a difference of two
    log-Bessel values of size ``L`` loses about ``L`` ulps.

    References
    ----------
    Mardia & Jupp (2000), *Directional Statistics*, Eq. (9.3.9).

    Examples
    --------
    >>> round(vmf_mean_resultant_length(3, 10.0), 6)  # coth(10) - 1/10
    0.9
    """
    dim = check_int(dim, "dim", minimum=2)
    kappa = check_positive(kappa, "kappa")
    nu = dim / 2.0
    num, den = sc.ive(nu, kappa), sc.ive(nu - 1.0, kappa)
    if np.isfinite(num) and np.isfinite(den) and den > _RATIO_TRUST and num > _RATIO_TRUST:
        return float(num / den)
    return _bessel_ratio_recurrence(nu, kappa)


def _bessel_ratio_recurrence(nu: float, kappa: float, n_terms: int = 2000) -> float:
    """I_nu(kappa) / I_{nu-1}(kappa) by backward recurrence (stable where ``ive`` underflows)."""
    top = nu + n_terms
    r = kappa / (top + np.sqrt(top**2 + kappa**2))  # Amos bound, tight for large order
    for k in range(n_terms, 0, -1):
        r = 1.0 / (2.0 * (nu + k) / kappa + r)  # R_{nu+k} from R_{nu+k+1}
    return float(1.0 / (2.0 * nu / kappa + r))


def log_sphere_area(dim: int) -> float:
    r"""Log surface area :math:`\log|S^{d-1}| = \log 2 + (d/2)\log\pi - \log\Gamma(d/2)`, exact.

    Examples
    --------
    >>> abs(log_sphere_area(3) - math.log(4 * math.pi)) < 1e-15
    True
    """
    dim = check_int(dim, "dim", minimum=2)
    return math.log(2.0) + 0.5 * dim * math.log(math.pi) - float(sc.gammaln(dim / 2.0))


def vmf_entropy(dim: int, kappa: float) -> float:
    r"""Differential entropy in nats of vMF(mu, kappa) on :math:`S^{d-1}` (surface measure), exact.

    .. math:: H = -\log C_d(\kappa) - \kappa A_d(\kappa),

    evaluated as :math:`-(d/2-1)\log\kappa + (d/2)\log 2\pi + \log\mathrm{ive}_{d/2-1}(\kappa)
    + \kappa(1 - A_d(\kappa))`, the two :math:`\kappa` terms merged so nothing of size
    :math:`\kappa` cancels. ``kappa = 0`` is the uniform law, :func:`log_sphere_area`.

    Examples
    --------
    >>> vmf_entropy(4, 0.0) == log_sphere_area(4)
    True
    """
    dim = check_int(dim, "dim", minimum=2)
    kappa = check_positive(kappa, "kappa", strict=False)
    if kappa == 0.0:
        return log_sphere_area(dim)
    nu = dim / 2.0 - 1.0
    return (-nu * math.log(kappa) + 0.5 * dim * math.log(2.0 * math.pi)
            + float(log_bessel_ive(nu, kappa))
            + kappa * (1.0 - vmf_mean_resultant_length(dim, kappa)))


# ---- torch: log I_nu with a gradient in kappa --------------------------------------------------

class LogIv(torch.autograd.Function):
    """log I_nu(kappa) (:func:`log_bessel_iv`, float64) with a gradient in kappa:
    d/dk log I_nu(k) = I_{nu+1}(k) / I_nu(k) + nu / k."""

    @staticmethod
    def forward(ctx, kappa: torch.Tensor, nu: float) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(kappa)
        ctx.nu = nu
        out = log_bessel_iv(nu, kappa.detach().cpu().double().numpy())
        return torch.as_tensor(out, dtype=kappa.dtype, device=kappa.device)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        (kappa,) = ctx.saved_tensors
        k = kappa.detach().cpu().double().numpy()
        d = np.exp(log_bessel_iv(ctx.nu + 1, k) - log_bessel_iv(ctx.nu, k)) + ctx.nu / k
        return grad * torch.as_tensor(d, dtype=kappa.dtype, device=kappa.device), None


def log_vmf_normalizer_torch(dim: int, kappa: torch.Tensor) -> torch.Tensor:
    r"""log C_d(kappa) = (d/2-1) log k - (d/2) log 2 pi - log I_{d/2-1}(k), differentiable in k.

    The torch twin of :func:`log_vmf_normalizer` (same float64 Bessel values, through
    :class:`LogIv`), for a learned concentration such as the ER bound's vMF decoder.
    """
    nu = dim / 2.0 - 1.0
    return nu * torch.log(kappa) - (dim / 2.0) * math.log(2 * math.pi) - LogIv.apply(kappa, nu)
