"""MMI (Chang et al. 2024): mutual information from second-order statistics (log det of the two
views' covariances and of the joint), the Taylor-series log det with a rescaling beta, and the
exact log det it approximates. The Taylor series is shared with MEC (``_mec.py``).
"""
from __future__ import annotations

import math
from typing import Literal, Union

import numpy as np
import torch

from mitheory._validate import (check_embeddings, check_finite_tensor, check_int, check_option,
                                check_positive, check_positive_definite)
from mitheory.objectives._distributed import gather_with_grad

BetaRule = Literal["trace", "frobenius", "spectral"]
Beta = Union[float, BetaRule]
LogdetMethod = Literal["exact", "taylor"]


def _check_square(mat: torch.Tensor, name: str) -> None:
    if not isinstance(mat, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(mat).__name__}")
    if mat.ndim != 2 or mat.shape[0] != mat.shape[1] or mat.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty square matrix, got shape {tuple(mat.shape)}")
    check_finite_tensor(mat, name)


def logdet_exact(mat: torch.Tensor) -> torch.Tensor:
    r"""Exact :math:`\log\det S` of a symmetric positive-definite matrix, via Cholesky.

    Parameters
    ----------
    mat : torch.Tensor, shape (n, n)
        Symmetric positive definite.

    Returns
    -------
    torch.Tensor, shape ()
        :math:`2\sum_i \log L_{ii}` with :math:`S = LL^\top`; differentiable.

    Raises
    ------
    ValueError
        If ``mat`` is not square, not finite, or not positive definite (e.g. a covariance of
        fewer samples than dimensions).
    """
    _check_square(mat, "mat")
    chol, info = torch.linalg.cholesky_ex(mat)
    if int(info) != 0:
        raise ValueError(
            f"mat is not positive definite (Cholesky failed at order {int(info)}; "
            f"shape {tuple(mat.shape)}): a singular covariance needs more samples or eps > 0"
        )
    return 2.0 * torch.log(torch.diagonal(chol)).sum()


def _rescaling(mat: torch.Tensor, beta: Beta) -> torch.Tensor:
    """Beta as a 0-d tensor in the autograd graph of ``mat`` (rules) or a constant (numbers)."""
    if not isinstance(beta, str):
        b = check_positive(beta, "beta")
        return torch.tensor(b, dtype=mat.dtype, device=mat.device)
    check_option(beta, "beta", ("trace", "frobenius", "spectral"))
    if beta == "trace":
        value = mat.shape[0] / torch.trace(mat)
    elif beta == "frobenius":
        value = 1.0 / torch.linalg.matrix_norm(mat)
    else:
        eig = torch.linalg.eigvalsh((mat + mat.T) / 2)
        value = 2.0 / (eig[0] + eig[-1])
    v = float(value.detach())
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"beta rule {beta!r} gave {v!r}: mat must have a positive spectrum")
    return value


def taylor_rescaling(mat: torch.Tensor, *, beta: Beta = "trace") -> float:
    r"""The factor :math:`\beta` that moves the spectrum of :math:`S` towards 1.

    Parameters
    ----------
    mat : torch.Tensor, shape (n, n)
        Symmetric positive semi-definite.
    beta : float or {"trace", "frobenius", "spectral"}, default "trace"
        A positive number is returned as is. The rules:

        - ``"trace"``: :math:`\beta = n/\operatorname{tr} S`, mean eigenvalue of
          :math:`\beta S` is 1 (cheap; convergence not guaranteed for a spread spectrum);
        - ``"frobenius"``: :math:`\beta = 1/\|S\|_F`, so :math:`\beta\lambda_{\max}\le 1` and
          all eigenvalues of :math:`\beta S - I` lie in :math:`(-1, 0]`: always convergent,
          slow for small eigenvalues;
        - ``"spectral"``: :math:`\beta = 2/(\lambda_{\min}+\lambda_{\max})`, which minimises
          the spectral radius :math:`(\kappa-1)/(\kappa+1)` of :math:`\beta S - I`
          (needs an eigendecomposition).

    Returns
    -------
    float
        The value (inside :func:`logdet_taylor` a rule's beta stays in the autograd graph, so
        the gradient is that of the returned approximation).
    """
    _check_square(mat, "mat")
    check_positive_definite(mat, "mat")
    with torch.no_grad():
        return float(_rescaling(mat.detach().double(), beta))


def _trace_log1p_series(a: torch.Tensor, order: int) -> torch.Tensor:
    r""":math:`\sum_{k=1}^{K} \frac{(-1)^{k+1}}{k}\operatorname{tr}(A^k)`, the order-K Taylor
    series of :math:`\operatorname{tr}\log(I + A)` (any square A; MEC's ``loss_func`` loop)."""
    power = a
    total = torch.trace(a)
    for k in range(2, order + 1):
        power = power @ a
        total = total + ((-1) ** (k + 1) / k) * torch.trace(power)
    return total


def logdet_taylor(mat: torch.Tensor, *, order: int = 4, beta: Beta = "trace") -> torch.Tensor:
    r"""Order-``order`` Taylor approximation of :math:`\log\det S` after rescaling by beta.

    Parameters
    ----------
    mat : torch.Tensor, shape (n, n)
        Symmetric positive definite (a covariance).
    order : int, default 4
        Number of series terms :math:`K` (4 as in MEC / Matrix-SSL; MMI's order is unverified).
    beta : float or {"trace", "frobenius", "spectral"}, default "trace"
        Rescaling, see :func:`taylor_rescaling`. A rule's beta is differentiated through, so
        the gradient is exactly that of the returned value (the truncated series depends on
        beta, the exact log det does not).

    Returns
    -------
    torch.Tensor, shape ()
        An *approximation* of :math:`\log\det S` (neither bound in general; see
        :func:`logdet_taylor_error_bound`); differentiable.

    Raises
    ------
    ValueError
        If ``mat`` is not a finite square matrix, not positive definite, or ``order``/``beta``
        is invalid (the same for :func:`taylor_rescaling` and
        :func:`logdet_taylor_error_bound`).

    Notes
    -----
    .. math::

        \log\det S = n\log\tfrac1\beta + \operatorname{tr}\log(I + A)
          \approx -n\log\beta + \sum_{k=1}^{K}\frac{(-1)^{k+1}}{k}\operatorname{tr}(A^k),
          \qquad A = \beta S - I,

    exact for :math:`K\to\infty` iff every eigenvalue of :math:`A` lies in :math:`(-1, 1]`.
    Rescaling leaves the exact value unchanged (the :math:`-n\log\beta` term) and only moves
    the spectrum into the convergence region; in the MI of :func:`mi_second_order` the
    :math:`\log\beta` terms cancel when one beta is shared. ``reconstructed``: MMI's own
    rule for beta and its order are not verified (dossier mmi_minc.md section 1.4).
    """
    _check_square(mat, "mat")
    check_positive_definite(mat, "mat")
    return _logdet_taylor(mat, order, beta)


def _logdet_taylor(mat: torch.Tensor, order: int, beta: Beta) -> torch.Tensor:
    """:func:`logdet_taylor` without the positive-definiteness check (callers build ``mat``)."""
    order = check_int(order, "order", minimum=1)
    b = _rescaling(mat, beta)
    n = mat.shape[0]
    a = b * mat - torch.eye(n, dtype=mat.dtype, device=mat.device)
    return _trace_log1p_series(a, order) - n * torch.log(b)


def logdet_taylor_error_bound(
    mat: torch.Tensor, *, order: int = 4, beta: Beta = "trace"
) -> float:
    r"""Upper bound on :math:`|\log\det S - \text{logdet\_taylor}(S)|` (``inf`` if divergent).

    Parameters
    ----------
    mat, order, beta
        As in :func:`logdet_taylor`.

    Returns
    -------
    float
        :math:`\sum_i r_K(a_i)` over the eigenvalues :math:`a_i` of :math:`\beta S - I`, with
        :math:`r_K(a) = a^{K+1}/(K+1)` for :math:`0 \le a \le 1` (alternating series) and
        :math:`r_K(a) = |a|^{K+1}/((K+1)(1-|a|))` for :math:`-1 < a < 0` (geometric tail);
        ``inf`` when some :math:`a_i \notin (-1, 1]` (the series diverges there).
    """
    _check_square(mat, "mat")
    check_positive_definite(mat, "mat")
    order = check_int(order, "order", minimum=1)
    b = taylor_rescaling(mat, beta=beta)
    with torch.no_grad():
        m = mat.detach().double()
        a = torch.linalg.eigvalsh(b * (m + m.T) / 2) - 1.0
    a = a.cpu().numpy()
    if np.any(a <= -1.0) or np.any(a > 1.0):
        return math.inf
    k1 = order + 1
    pos = a[a >= 0]
    neg = -a[a < 0]
    return float(np.sum(pos**k1) / k1 + np.sum(neg**k1 / (k1 * (1.0 - neg))))


def _mggd_entropy_constant(dim: int, shape: float) -> float:
    r""":math:`c(n,\beta) = H(X) - \tfrac12\log\det\operatorname{Cov}X` for an n-dim
    multivariate generalised Gaussian :math:`f \propto \exp(-\tfrac12(x^\top\Sigma^{-1}x)^\beta)`.

    Uses the normaliser :math:`\frac{\Gamma(n/2)\,\beta}{\pi^{n/2}\Gamma(n/(2\beta))
    2^{n/(2\beta)}}|\Sigma|^{-1/2}`, :math:`E[\tfrac12 u^\beta] = n/(2\beta)` and
    :math:`\operatorname{Cov}X =
    \frac{2^{1/\beta}\Gamma((n+2)/(2\beta))}{n\Gamma(n/(2\beta))}\Sigma`
    (Pascal et al. 2013); at :math:`\beta = 1` it is :math:`\frac n2\log(2\pi e)`.
    """
    n, b = float(dim), float(shape)
    log_norm = (
        math.lgamma(n / 2) + math.log(b) - (n / 2) * math.log(math.pi)
        - math.lgamma(n / (2 * b)) - (n / (2 * b)) * math.log(2.0)
    )
    log_cov_factor = (
        math.log(2.0) / b + math.lgamma((n + 2) / (2 * b)) - math.log(n) - math.lgamma(n / (2 * b))
    )
    return -log_norm + n / (2 * b) - (n / 2) * log_cov_factor


def mi_ggd_offset(dim_a: int, dim_b: int, *, shape: float) -> float:
    r"""Constant added to the Gaussian log-det MI under a generalised-Gaussian assumption (nats).

    Parameters
    ----------
    dim_a, dim_b : int
        Dimensions of the two views.
    shape : float
        GGD shape :math:`\beta > 0` (1 = Gaussian, < 1 super-Gaussian, > 1 sub-Gaussian).

    Returns
    -------
    float
        :math:`c(d_a,\beta) + c(d_b,\beta) - c(d_a+d_b,\beta)` with :math:`c` the MGGD entropy
        minus half the log det of the covariance; exactly 0 at ``shape=1``.

    Notes
    -----
    ``reconstructed``: MMI's Theorem 2 final formula was not readable (dossier mmi_minc.md
    section 1.3). This assumes the two marginals and the joint are MGGDs with one shared shape,
    so that each entropy is :math:`\tfrac12\log\det\operatorname{Cov} + c(n,\beta)`. (The
    marginal of an MGGD is not an MGGD of the same shape unless :math:`\beta = 1`, so this is an
    assumption, not an identity.) The offset does not depend on the data and does not change
    gradients.
    """
    da = check_int(dim_a, "dim_a", minimum=1)
    db = check_int(dim_b, "dim_b", minimum=1)
    b = check_positive(shape, "shape")
    return (
        _mggd_entropy_constant(da, b) + _mggd_entropy_constant(db, b)
        - _mggd_entropy_constant(da + db, b)
    )


def _second_order_stats(
    z_a: torch.Tensor, z_b: torch.Tensor, eps: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Covariances of view a, view b and of the joint ``[z_a, z_b]`` (unbiased, + eps I)."""
    z = torch.cat([z_a, z_b], dim=1)  # (n_samples, dim_a + dim_b)
    z = z - z.mean(dim=0, keepdim=True)
    cov = z.T @ z / (z.shape[0] - 1)
    if eps > 0:
        cov = cov + eps * torch.eye(cov.shape[0], dtype=cov.dtype, device=cov.device)
    da = z_a.shape[1]
    return cov[:da, :da], cov[da:, da:], cov


def mi_second_order(
    z_a: torch.Tensor,
    z_b: torch.Tensor,
    *,
    method: LogdetMethod = "exact",
    order: int = 4,
    beta: Beta = "trace",
    shape: float = 1.0,
    eps: float = 0.0,
    gather: bool = False,
) -> torch.Tensor:
    r"""MI between two views from second-order statistics (Gaussian / GGD log-det MI, nats).

    Parameters
    ----------
    z_a : torch.Tensor, shape (n_samples, dim_a)
    z_b : torch.Tensor, shape (n_samples, dim_b)
        Embeddings of the two views (row i of both from the same source sample).
    method : {"exact", "taylor"}, default "exact"
        :func:`logdet_exact` or :func:`logdet_taylor` for the three log dets.
    order, beta
        Taylor order and rescaling (``method="taylor"`` only); beta is chosen per matrix by the
        rule, and the :math:`-n\log\beta` corrections keep the value consistent.
    shape : float, default 1.0
        GGD shape; adds :func:`mi_ggd_offset` (0 for the Gaussian).
    eps : float, default 0.0
        Ridge :math:`\epsilon I` added to the covariances (breaks exact invariance if > 0).
    gather : bool, default False
        Under ``torch.distributed``, use the all-gathered batch for the covariances.

    Returns
    -------
    torch.Tensor, shape ()
        With ``method="exact"`` and ``shape=1``: the *exact* Gaussian MI of the sample
        covariance (a plug-in *estimate* of :math:`I(Z_a;Z_b)` for Gaussian data, and of the
        MI after the best invertible map to a Gaussian pair by MMI's Theorem 1).
        ``"taylor"``: an approximation of that value. Differentiable.

    Raises
    ------
    ValueError
        ``n_samples <= dim_a + dim_b`` with ``eps == 0`` (the joint covariance is singular),
        or a covariance that is not positive definite.

    Notes
    -----
    .. math::

        I(Z_a;Z_b) = \tfrac12\big[\log\det\Sigma_a + \log\det\Sigma_b
                      - \log\det\Sigma_{ab}\big] + \text{offset}(\beta_{\rm GGD}),

    with :math:`\Sigma_{ab}` the :math:`(d_a+d_b)^2` joint covariance; for Gaussians this is
    :math:`-\tfrac12\sum_i\log(1-\rho_i^2)` over canonical correlations. It is invariant
    under invertible affine maps of each view (tested), which is MMI's argument for using it
    on non-Gaussian embeddings (Theorem 1, supplement). Covariances use :math:`1/(n-1)`; any
    common factor cancels.

    References
    ----------
    Chang, Liu, Guo, Wen, "Explicit mutual information maximization for self-supervised
    learning", arXiv 2409.04747 (v3), Theorems 1-2.
    """
    check_embeddings(z_a, "z_a")
    check_embeddings(z_b, "z_b")
    if z_a.shape[0] != z_b.shape[0]:
        raise ValueError(
            f"z_a and z_b must have the same number of rows, got {z_a.shape[0]} and {z_b.shape[0]}"
        )
    check_option(method, "method", ("exact", "taylor"))
    eps = check_positive(eps, "eps", strict=False)
    check_int(order, "order", minimum=1)
    if isinstance(beta, str):
        check_option(beta, "beta", ("trace", "frobenius", "spectral"))
    else:
        check_positive(beta, "beta")
    if gather:
        z_a, z_b = gather_with_grad(z_a), gather_with_grad(z_b)
    n, dim = z_a.shape[0], z_a.shape[1] + z_b.shape[1]
    if n <= dim and eps == 0:
        raise ValueError(
            f"the joint covariance of {n} samples in dim_a + dim_b = {dim} dimensions is "
            f"singular: need n_samples > {dim} or eps > 0"
        )
    cov_a, cov_b, cov_ab = _second_order_stats(z_a, z_b, eps)
    if method == "exact":
        ld = logdet_exact
    else:
        def ld(c: torch.Tensor) -> torch.Tensor:
            return _logdet_taylor(c, order, beta)
    mi = 0.5 * (ld(cov_a) + ld(cov_b) - ld(cov_ab))
    if shape != 1.0:
        mi = mi + mi_ggd_offset(z_a.shape[1], z_b.shape[1], shape=shape)
    return mi


def mmi_loss(
    z_a: torch.Tensor,
    z_b: torch.Tensor,
    *,
    method: LogdetMethod = "taylor",
    order: int = 4,
    beta: Beta = "trace",
    eps: float = 0.0,
    gather: bool = False,
) -> torch.Tensor:
    r"""MMI loss: minus the second-order (log-det) MI of the two views.

    Parameters
    ----------
    z_a, z_b, method, order, beta, eps, gather
        As in :func:`mi_second_order` (``method="taylor"`` by default, as the paper trains with
        a Taylor-approximated log det).

    Returns
    -------
    torch.Tensor, shape ()
        :math:`-\hat I(Z_a;Z_b)` in nats (to be minimised).

    Notes
    -----
    ``reconstructed``: the final MMI loss, beta rule, Taylor order and the embedding
    normalisation were not readable (dossier mmi_minc.md section 1.4); this is the exact
    objective of the paper's Theorem 1 with the Taylor log det of MEC / Matrix-SSL. The GGD
    offset is omitted (a constant).
    """
    return -mi_second_order(
        z_a, z_b, method=method, order=order, beta=beta, eps=eps, gather=gather
    )
