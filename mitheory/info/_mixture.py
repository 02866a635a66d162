r"""Entropy of Gaussian mixtures: Monte Carlo with a confidence interval, and deterministic bounds.

Bounds: Kolchinsky & Tracey (2017) pairwise-distance family (KL upper, Chernoff-:math:`\alpha` /
Bhattacharyya lower), Huber et al. (2008) ELK lower bound, moment-matched Gaussian upper bound.
All pairwise work runs in row x column blocks, so memory stays bounded for any number of
components (claims C6-C10; the Gaussian-mixture law of CPA outputs).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.linalg import solve_triangular
from scipy.stats import norm

from mitheory._rng import as_generator
from mitheory._types import InfoValue, Seed, Unit
from mitheory._validate import (check_array, check_covariance, check_int, check_option,
                                check_positive, check_probability)
from mitheory.info._common import check_unit, info_value

BoundMethod = Literal["kl_upper", "bhattacharyya_lower", "chernoff_lower", "elk_lower",
                      "moment_upper", "conditional_lower", "label_upper"]
BOUND_METHODS: tuple[str, ...] = ("kl_upper", "bhattacharyya_lower", "chernoff_lower",
                                  "elk_lower", "moment_upper", "conditional_lower", "label_upper")
_PAIRWISE = ("kl_upper", "bhattacharyya_lower", "chernoff_lower", "elk_lower")
_LOG_2PI = math.log(2.0 * math.pi)
_BLOCK_ELEMS = 1 << 20  # float64 elements in one block of pairwise terms (8 MiB)


# ---- the mixture, in internal coordinates -------------------------------------------------------
@dataclass
class _Mixture:
    """A validated mixture. Means are centred at their weighted mean and, for a shared full
    covariance ``S = L L^T``, whitened by ``L^{-1}`` (``offset = log|det L|`` is added back to
    every entropy, Cover & Thomas Eq. 8.71); all formulas below are translation/affine
    equivariant, so nothing else changes."""

    means: np.ndarray  # (N, d) internal coordinates
    weights: np.ndarray  # (N,)
    var: np.ndarray | None  # (N,) isotropic variances, or None
    chol: np.ndarray | None  # (N, d, d) lower Cholesky factors (full covariances), or None
    center: np.ndarray  # (d,)
    whiten: np.ndarray | None  # (d, d) Cholesky factor of a shared covariance, or None
    offset: float

    @property
    def n(self) -> int:
        return self.means.shape[0]

    @property
    def d(self) -> int:
        return self.means.shape[1]

    @property
    def logdet(self) -> np.ndarray:  # (N,) log det of each internal covariance
        if self.var is not None:
            return self.d * np.log(self.var)
        return 2.0 * np.sum(np.log(np.diagonal(self.chol, axis1=1, axis2=2)), axis=1)

    @cached_property
    def cov(self) -> np.ndarray:  # (N, d, d) full covariances (full case only)
        return self.chol @ np.swapaxes(self.chol, 1, 2)

    @cached_property
    def prec(self) -> np.ndarray:  # (N, d, d) precision matrices (full case only)
        return np.linalg.inv(self.cov)

    @property
    def log_w(self) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.weights)

    def to_internal(self, z: np.ndarray) -> np.ndarray:
        zc = z - self.center
        return zc if self.whiten is None else solve_triangular(self.whiten, zc.T, lower=True).T

    def from_internal(self, zi: np.ndarray) -> np.ndarray:
        return (zi if self.whiten is None else zi @ self.whiten.T) + self.center

    def sample_internal(self, n: int, rng: np.random.Generator) -> np.ndarray:
        labels = rng.choice(self.n, size=n, p=self.weights)
        eps = rng.standard_normal((n, self.d))
        if self.var is not None:
            return self.means[labels] + np.sqrt(self.var[labels])[:, None] * eps
        out = np.empty((n, self.d))
        step = max(1, _BLOCK_ELEMS // (self.d * self.d))
        for s in range(0, n, step):  # (step, d, d) gathered factors per block
            lab = labels[s: s + step]
            out[s: s + step] = self.means[lab] + np.einsum("rde,re->rd", self.chol[lab],
                                                           eps[s: s + step])
        return out

    def logpdf_internal(self, zi: np.ndarray) -> np.ndarray:
        """``log p(z)`` of internal points ``zi`` (n, d), streaming over component blocks."""
        d, log_w, logdet = self.d, self.log_w, self.logdet
        if self.var is None:
            inv_chol = np.linalg.inv(self.chol)  # (N, d, d), lower triangular
            w_mu = np.einsum("nde,ne->nd", inv_chol, self.means)  # (N, d)

        def block(r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
            z = zi[r0:r1]
            if self.var is not None:
                d2 = _sqdist(z, self.means[c0:c1])
                q = d2 / self.var[c0:c1]
            else:  # ||L_j^{-1}(z - mu_j)||^2 by one GEMM: (c*d, d) @ (d, r)
                c = c1 - c0
                wz = (inv_chol[c0:c1].reshape(c * d, d) @ z.T).reshape(c, d, -1)
                q = np.sum((wz - w_mu[c0:c1, :, None]) ** 2, axis=1).T  # (r, c)
            return [log_w[c0:c1] - 0.5 * (d * _LOG_2PI + logdet[c0:c1] + q)]

        per = d if self.var is None else 1
        return _streaming_lse(block, zi.shape[0], self.n, _BLOCK_ELEMS // per)[0]


def _check_weights(weights: ArrayLike | None, n: int) -> np.ndarray:
    if weights is None:
        return np.full(n, 1.0 / n)
    w = check_array(weights, "weights", ndim=1)
    if w.shape != (n,):
        raise ValueError(f"weights must have shape ({n},) to match means, got {w.shape}")
    if np.any(w < 0):
        raise ValueError(f"weights must be >= 0, got minimum {w.min()!r}")
    if abs(w.sum() - 1.0) > 1e-8:
        raise ValueError(f"weights must sum to 1, got sum {w.sum()!r}")
    return w / w.sum()  # removes rounding only (|sum - 1| <= 1e-8 was checked)


def _check_cov_stack(c: np.ndarray, n: int, d: int) -> np.ndarray:
    """Validate (N, d, d) covariances; return their lower Cholesky factors."""
    if c.shape != (n, d, d):
        raise ValueError(f"covs must have shape ({n}, {d}, {d}) to match means, got {c.shape}")
    asym = np.max(np.abs(c - np.swapaxes(c, 1, 2)), axis=(1, 2))
    scale = np.maximum(1.0, np.max(np.abs(c), axis=(1, 2)))
    try:
        if np.any(asym > 1e-10 * scale):
            raise np.linalg.LinAlgError
        return np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        for i in range(n):  # locate the first bad one; check_covariance writes the message
            check_covariance(c[i], f"covs[{i}]")
        raise  # pragma: no cover  (unreachable: some matrix failed above)


def _mixture(means: ArrayLike, covs: ArrayLike | float, weights: ArrayLike | None) -> _Mixture:
    mu = check_array(means, "means", ndim=2)
    n, d = mu.shape
    if n == 0 or d == 0:
        raise ValueError(f"means must have >= 1 component and >= 1 dimension, got {mu.shape}")
    w = _check_weights(weights, n)
    c = check_array(covs, "covs", ndim=(0, 1, 2, 3))
    center = w @ mu
    mu = mu - center
    var = chol = whiten = None
    offset = 0.0
    if c.ndim == 0:
        var = np.full(n, check_positive(c, "covs"))
    elif c.ndim == 1:
        if c.shape != (n,):
            raise ValueError(f"covs as variances must have shape ({n},), got {c.shape}")
        if np.any(c <= 0):
            i = int(np.argmin(c))
            raise ValueError(f"covs[{i}] must be a variance > 0, got {c[i]!r}")
        var = c.copy()
    elif c.ndim == 2:
        whiten = np.linalg.cholesky(check_covariance(c, "covs", dim=d))
        mu = solve_triangular(whiten, mu.T, lower=True).T
        var = np.ones(n)
        offset = float(np.sum(np.log(np.diag(whiten))))
    else:
        chol = _check_cov_stack(c, n, d)
    return _Mixture(mu, w, var, chol, center, whiten, offset)


# ---- blocked kernels ----------------------------------------------------------------------------
def _sqdist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances (r, c) by one GEMM; rounding below 0 is set to 0."""
    d2 = (-2.0 * a) @ b.T
    d2 += np.sum(a * a, 1)[:, None]
    d2 += np.sum(b * b, 1)[None, :]
    return np.maximum(d2, 0.0, out=d2)


def _streaming_lse(block: Callable[[int, int, int, int], list[np.ndarray]], n_rows: int,
                   n_cols: int, budget: int, rows: int | None = None) -> list[np.ndarray]:
    """Row-wise ``logsumexp`` of K matrices (n_rows, n_cols) given by blocks, never all in memory.

    ``block(r0, r1, c0, c1)`` returns the K blocks of rows r0:r1 and columns c0:c1 (sharing any
    common work, e.g. one distance GEMM). One-pass logsumexp: running maximum and rescaled sum.
    """
    rows = rows or max(1, min(n_rows, budget // n_cols))
    cols = max(1, min(n_cols, budget // rows))
    out: list[np.ndarray] = []
    for r0 in range(0, n_rows, rows):
        r1 = min(n_rows, r0 + rows)
        state: list[tuple[np.ndarray, np.ndarray]] = []
        for c0 in range(0, n_cols, cols):
            for k, b in enumerate(block(r0, r1, c0, min(n_cols, c0 + cols))):  # (r, c) each
                if k == len(state):
                    state.append((np.full(r1 - r0, -np.inf), np.zeros(r1 - r0)))
                m, s = state[k]
                new = np.maximum(m, b.max(axis=1))
                ref = np.where(np.isfinite(new), new, 0.0)
                b -= ref[:, None]
                s = s * np.exp(m - ref) + np.exp(b, out=b).sum(axis=1)
                state[k] = (new, s)
        for k, (m, s) in enumerate(state):
            if k == len(out):
                out.append(np.empty(n_rows))
            with np.errstate(divide="ignore"):
                out[k][r0:r1] = np.log(s) + np.where(np.isfinite(m), m, 0.0)
    return out


def _pair_quad_logdet(s: np.ndarray, delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For batched SPD ``s`` (..., d, d) and ``delta`` (..., d): ``delta^T s^{-1} delta`` and
    ``log det s``, through one batched Cholesky factorisation."""
    chol = np.linalg.cholesky(s)
    y = np.linalg.solve(chol, delta[..., None])[..., 0]
    return np.sum(y * y, axis=-1), 2.0 * np.sum(np.log(np.diagonal(chol, axis1=-2, axis2=-1)), -1)


def _pairwise_blocks(mix: _Mixture, methods: Sequence[str], alpha: float, r0: int, r1: int,
                     c0: int, c1: int) -> list[np.ndarray]:
    """Blocks (rows i = r0:r1, cols j = c0:c1) of ``log c_j - D(p_i || p_j)`` for each pairwise
    method, or ``log c_j + log N(mu_i; mu_j, S_i + S_j)`` for ELK; shared work done once."""
    d, log_w, logdet = mix.d, mix.log_w[c0:c1], mix.logdet
    mi, mj = mix.means[r0:r1], mix.means[c0:c1]
    out = []
    if mix.var is not None:  # isotropic: every term is a function of ||mu_i - mu_j||^2
        d2 = _sqdist(mi, mj)
        if r0 < c1 and c0 < r1:  # exact zeros for self-pairs (the GEMM form leaves ~1e-16)
            k = np.arange(max(r0, c0), min(r1, c1))
            d2[k - r0, k - c0] = 0.0
        si, sj = mix.var[r0:r1, None], mix.var[None, c0:c1]
        for m in methods:
            a = 0.5 if m == "bhattacharyya_lower" else alpha
            if m == "kl_upper":
                b = log_w - 0.5 * (d * si / sj + d2 / sj - d + d * np.log(sj / si))
            elif m == "elk_lower":
                b = log_w - 0.5 * (d * np.log(2.0 * math.pi * (si + sj)) + d2 / (si + sj))
            else:
                sa = (1.0 - a) * si + a * sj
                b = log_w - (a * (1 - a) * d2 / (2.0 * sa) + 0.5 * d * (
                    np.log(sa) - (1 - a) * np.log(si) - a * np.log(sj)))
            out.append(b)
        return out
    ci, cj = mix.cov[r0:r1, None], mix.cov[None, c0:c1]
    delta = mi[:, None, :] - mj[None, :, :]  # (r, c, d)
    for m in methods:
        a = 0.5 if m == "bhattacharyya_lower" else alpha
        if m == "kl_upper":
            inv = mix.prec[c0:c1]  # (c, d, d)
            tr = np.einsum("rab,cab->rc", ci[:, 0], inv)
            quad = np.einsum("rca,cab,rcb->rc", delta, inv, delta)
            ld = logdet[None, c0:c1] - logdet[r0:r1, None]
            out.append(log_w - 0.5 * (tr + quad - d + ld))
        elif m == "elk_lower":
            quad, ld = _pair_quad_logdet(ci + cj, delta)
            out.append(log_w - 0.5 * (d * _LOG_2PI + ld + quad))
        else:
            quad, ld = _pair_quad_logdet((1.0 - a) * ci + a * cj, delta)
            out.append(log_w - (0.5 * a * (1 - a) * quad + 0.5 * (
                ld - (1 - a) * logdet[r0:r1, None] - a * logdet[None, c0:c1])))
    return out


def _equal_variance_lse(mix: _Mixture, methods: Sequence[str], alpha: float,
                        rows: int | None) -> list[np.ndarray]:
    r"""Row ``logsumexp`` of the pairwise terms when every component is N(mu_i, s I).

    Then :math:`D_{ij} = f_m \|\mu_i-\mu_j\|^2` with :math:`f = 1/(2s), 1/(8s), 1/(4s),
    \alpha(1-\alpha)/(2s)` (KL, Bhattacharyya, ELK exponent, Chernoff), every term is
    :math:`\le \max_j \log c_j` (+ the ELK constant), so a fixed reference replaces the running
    maximum, and :math:`e^{-d^2/(2s)} = (e^{-d^2/(8s)})^4` saves two of three ``exp`` passes.
    The self-term :math:`j = i` keeps every sum :math:`\ge c_i / \max_j c_j > 0`.
    """
    n, d, s0 = mix.n, mix.d, float(mix.var[0])
    rel_w = mix.weights / mix.weights.max()  # (N,) c_j / max c
    uniform = bool(np.all(rel_w == 1.0))
    fac = {"kl_upper": 0.5 / s0, "bhattacharyya_lower": 0.125 / s0, "elk_lower": 0.25 / s0,
           "chernoff_lower": 0.5 * alpha * (1.0 - alpha) / s0}
    # D is symmetric: visit square blocks (I, J) with J >= I once, add row and column sums
    size = rows or max(1, min(n, math.isqrt(_BLOCK_ELEMS)))
    sums = {m: np.zeros(n) for m in methods}
    for r0 in range(0, n, size):
        r1 = min(n, r0 + size)
        for c0 in range(r0, n, size):
            c1 = min(n, c0 + size)
            d2 = _sqdist(mix.means[r0:r1], mix.means[c0:c1])  # (r, c)
            if c0 == r0:
                k = np.arange(r1 - r0)
                d2[k, k] = 0.0  # exact self-pairs (the GEMM form leaves ~1e-16)
            cache: dict[float, np.ndarray] = {}
            for m in sorted(methods, key=lambda m: fac[m]):  # smallest factor first, then squares
                f = fac[m]
                if f / 4.0 in cache:
                    e = cache[f / 4.0] ** 2
                    e *= e
                elif f / 2.0 in cache:
                    e = cache[f / 2.0] ** 2
                else:
                    e = np.exp(np.multiply(d2, -f))
                cache[f] = e
            for m in methods:
                e = cache[fac[m]]
                sums[m][r0:r1] += e.sum(axis=1) if uniform else e @ rel_w[c0:c1]
                if c0 != r0:
                    sums[m][c0:c1] += e.sum(axis=0) if uniform else rel_w[r0:r1] @ e
    log_wmax = math.log(mix.weights.max())
    return [np.log(sums[m]) + log_wmax - (0.5 * d * math.log(4.0 * math.pi * s0)
                                          if m == "elk_lower" else 0.0) for m in methods]


def _conditional_entropy(mix: _Mixture) -> float:
    """H(Z | C) = sum_i c_i H(p_i) in internal coordinates."""
    return float(mix.weights @ (0.5 * (mix.d * (_LOG_2PI + 1.0) + mix.logdet)))


def _moment_cov(mix: _Mixture) -> np.ndarray:
    """Covariance of the mixture: sum_i c_i S_i + Cov_c(mu) (means are centred)."""
    between = (mix.means * mix.weights[:, None]).T @ mix.means
    if mix.var is not None:
        return between + float(mix.weights @ mix.var) * np.eye(mix.d)
    return between + np.einsum("n,nab->ab", mix.weights, mix.cov)


# ---- public API ---------------------------------------------------------------------------------
def entropy_mixture_bounds(
    means: ArrayLike,
    covs: ArrayLike | float,
    weights: ArrayLike | None = None,
    *,
    methods: Sequence[BoundMethod] = ("kl_upper", "bhattacharyya_lower", "chernoff_lower",
                                      "elk_lower", "moment_upper"),
    alpha: float = 0.5,
    chunk_size: int | None = None,
    unit: Unit = "nats",
) -> dict[str, InfoValue]:
    r"""Deterministic lower and upper bounds on the entropy of a Gaussian mixture.

    :math:`p(z) = \sum_i c_i\,p_i(z)`, :math:`p_i = \mathcal N(\mu_i, \Sigma_i)`.

    Parameters
    ----------
    means : array_like, shape (N, d)
        Component means (for the sample-centred case: the samples themselves).
    covs : float, array_like of shape (N,), (d, d) or (N, d, d)
        A scalar or (N,) variances: isotropic components :math:`\sigma_i^2 I` (the
        sample-centred KDE case ``N(x_i, sigma^2 I)``; pairwise terms then need only
        :math:`\|\mu_i-\mu_j\|^2`, computed block-wise by GEMM, never an N x N x d array).
        (d, d): one shared full covariance (handled by whitening, same cost as isotropic).
        (N, d, d): full per-component covariances (O(N^2 d^3) for the Chernoff/ELK terms).
    weights : array_like, shape (N,), optional
        Mixture weights :math:`c_i \ge 0` summing to 1 (uniform if omitted).
    methods : sequence of str
        Any of ``"kl_upper"``, ``"bhattacharyya_lower"``, ``"chernoff_lower"``,
        ``"elk_lower"``, ``"moment_upper"``, ``"conditional_lower"``, ``"label_upper"``.
    alpha : float
        Chernoff order :math:`\alpha\in[0, 1]` for ``"chernoff_lower"`` (0.5 = Bhattacharyya).
    chunk_size : int, optional
        Rows (components i) per block of pairwise terms; default fits a block of
        :math:`2^{20}` float64 numbers. Results do not depend on it beyond rounding.
    unit : {"nats", "bits"}

    Returns
    -------
    dict of str to InfoValue
        One entry per method, each a **lower bound** (``kind="lower_bound"``) or an **upper
        bound** (``kind="upper_bound"``) on the mixture's differential entropy :math:`H(Z)`.

    Raises
    ------
    ValueError
        NaN/inf, shapes that do not match ``means``, weights not summing to 1, a covariance
        that is not positive definite (named by index), an unknown method.

    Notes
    -----
    Kolchinsky & Tracey (2017) pairwise-distance estimator, with :math:`H(Z|C) = \sum_i c_i
    H(p_i)` (equation numbers of the paper not verified here, only its abstract and code):

    .. math:: \hat H_D = H(Z|C) - \sum_i c_i \log \sum_j c_j\, e^{-D(p_i\|p_j)}.

    :math:`D = \mathrm{KL}` gives an upper bound, :math:`D = C_\alpha` (Chernoff
    :math:`\alpha`-divergence :math:`-\log\int p_i^\alpha p_j^{1-\alpha}`) a lower bound for any
    :math:`\alpha\in[0,1]`; Bhattacharyya (:math:`\alpha=1/2`) is the tightest for symmetric
    location families. Gaussian forms, :math:`\Delta = \mu_i-\mu_j`:

    .. math::
        \mathrm{KL} &= \tfrac12\big[\mathrm{tr}(\Sigma_j^{-1}\Sigma_i)
            + \Delta^\top\Sigma_j^{-1}\Delta - d + \log|\Sigma_j| - \log|\Sigma_i|\big],\\
        C_\alpha &= \tfrac{\alpha(1-\alpha)}2\Delta^\top\Sigma_\alpha^{-1}\Delta
            + \tfrac12\big[\log|\Sigma_\alpha| - (1-\alpha)\log|\Sigma_i|
            - \alpha\log|\Sigma_j|\big], \quad \Sigma_\alpha = (1-\alpha)\Sigma_i+\alpha\Sigma_j.

    ELK / Huber et al. (2008) lower bound (Jensen's inequality on :math:`-E\log p`):
    :math:`H \ge -\sum_i c_i\log\sum_j c_j\,\mathcal N(\mu_i;\mu_j,\Sigma_i+\Sigma_j)`.
    Moment-matched Gaussian (maximum entropy at fixed covariance, Cover & Thomas Thm. 8.6.5):
    :math:`H \le \tfrac12\log((2\pi e)^d|\Sigma_Z|)`, :math:`\Sigma_Z = \sum_i c_i\Sigma_i +
    \mathrm{Cov}_c(\mu)`. Also :math:`H(Z|C)\le H(Z)\le H(Z|C) + H(C)`
    (``conditional_lower``, ``label_upper``).

    For isotropic equal variances the KL and Bhattacharyya terms are the KDE estimators
    :math:`\hat H_{KL}(\sigma^2)`, :math:`\hat H_{BD}(\sigma^2)` of ``artemyk/ibsgd`` ``kde.py``
    (self-pairs :math:`i=j` included, as there).

    References
    ----------
    A. Kolchinsky, B. D. Tracey, "Estimating mixture entropy with pairwise distances",
    Entropy 19(7):361, 2017. M. F. Huber et al., "On entropy approximation for Gaussian mixture
    random vectors", IEEE MFI 2008.

    Examples
    --------
    >>> b = entropy_mixture_bounds([[0.0], [10.0]], 1.0)
    >>> b["bhattacharyya_lower"].value <= b["kl_upper"].value
    True
    """
    check_unit(unit)
    methods = tuple(methods)
    for m in methods:
        check_option(m, "methods", BOUND_METHODS)
    alpha = check_probability(alpha, "alpha")
    mix = _mixture(means, covs, weights)
    if chunk_size is not None:
        chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    h_cond = _conditional_entropy(mix)
    out: dict[str, float] = {}
    # Chernoff at alpha = 1/2 is the Bhattacharyya bound: computed once
    same = alpha == 0.5 and "bhattacharyya_lower" in methods
    pairwise = [m for m in _PAIRWISE if m in methods and not (m == "chernoff_lower" and same)]
    if pairwise and mix.var is not None and np.all(mix.var == mix.var[0]):
        lses = _equal_variance_lse(mix, pairwise, alpha, chunk_size)
    elif pairwise:
        per = 1 if mix.var is not None else mix.d * mix.d
        lses = _streaming_lse(
            lambda r0, r1, c0, c1: _pairwise_blocks(mix, pairwise, alpha, r0, r1, c0, c1),
            mix.n, mix.n, _BLOCK_ELEMS // per, rows=chunk_size)
    pos = mix.weights > 0  # rows of zero weight contribute 0 (and their lse may be -inf)
    for m, lse in zip(pairwise, lses if pairwise else []):
        mean_lse = float(mix.weights[pos] @ lse[pos])
        out[m] = -mean_lse if m == "elk_lower" else h_cond - mean_lse
    for m in methods:
        if m == "chernoff_lower" and m not in out:
            out[m] = out["bhattacharyya_lower"]
        elif m == "moment_upper":
            c = _moment_cov(mix)
            out[m] = 0.5 * (mix.d * (_LOG_2PI + 1.0) + np.linalg.slogdet(c)[1])
        elif m == "conditional_lower":
            out[m] = h_cond
        elif m == "label_upper":  # H(Z|C) + H(C)
            w = mix.weights[mix.weights > 0]
            out[m] = h_cond - float(w @ np.log(w))
    out = {m: out[m] for m in methods}
    details = {"n_components": mix.n, "dim": mix.d,
               "covariance": "isotropic" if mix.whiten is None and mix.var is not None
               else ("shared" if mix.whiten is not None else "full")}
    return {
        m: info_value(v + mix.offset, unit=unit,
                      kind="upper_bound" if m.endswith("_upper") else "lower_bound", method=m,
                      details={**details, **({"alpha": alpha} if m == "chernoff_lower" else {})})
        for m, v in out.items()
    }


def entropy_mixture_mc(
    means: ArrayLike,
    covs: ArrayLike | float,
    weights: ArrayLike | None = None,
    *,
    n_samples: int = 100_000,
    confidence: float = 0.95,
    unit: Unit = "nats",
    seed: Seed = None,
) -> InfoValue:
    r"""Monte Carlo estimate of the entropy of a Gaussian mixture, with a confidence interval.

    Parameters
    ----------
    means, covs, weights
        As in ``entropy_mixture_bounds`` (isotropic, shared or full covariances).
    n_samples : int
        Number of draws :math:`z_k \sim p`.
    confidence : float
        Level of the two-sided normal-approximation interval (e.g. 0.95).
    unit : {"nats", "bits"}
    seed : int, Generator or None

    Returns
    -------
    InfoValue
        **Estimate** (``kind="estimate"``, unbiased) of :math:`H(Z)`; ``details`` has
        ``stderr``, ``ci_low``, ``ci_high`` (in ``unit``) and ``confidence``.

    Notes
    -----
    .. math:: \hat H = -\frac1n\sum_{k=1}^n \log p(z_k), \qquad
              \mathrm{se} = \frac{\mathrm{sd}_k(\log p(z_k))}{\sqrt n},

    interval :math:`\hat H \pm z_{(1+\gamma)/2}\,\mathrm{se}` (CLT; :math:`\log p(Z)` has finite
    variance for Gaussian mixtures). :math:`\log p` is a streamed ``logsumexp`` over blocks of
    components, so memory is bounded for any N.

    Examples
    --------
    >>> h = entropy_mixture_mc([[0.0]], 1.0, n_samples=20_000, seed=0)
    >>> h.details["ci_low"] < 1.4189385 < h.details["ci_high"]
    True
    """
    check_unit(unit)
    n_samples = check_int(n_samples, "n_samples", minimum=2)
    confidence = check_probability(confidence, "confidence")
    mix = _mixture(means, covs, weights)
    rng = as_generator(seed)
    neg_log_p = -mix.logpdf_internal(mix.sample_internal(n_samples, rng)) + mix.offset
    return _mc_value(neg_log_p, confidence, unit, "mixture_monte_carlo",
                     {"n_components": mix.n, "dim": mix.d})


def mi_mixture_mc(
    means: ArrayLike,
    covs: ArrayLike | float,
    weights: ArrayLike | None = None,
    *,
    dim_x: int,
    n_samples: int = 100_000,
    confidence: float = 0.95,
    unit: Unit = "nats",
    seed: Seed = None,
) -> InfoValue:
    r"""Monte Carlo estimate of :math:`I(X;Y)` when :math:`(X, Y)` is a Gaussian mixture.

    Parameters
    ----------
    means, covs, weights
        The joint mixture in :math:`d = d_x + d_y` dimensions (as in
        ``entropy_mixture_bounds``); ``X`` is the first ``dim_x`` coordinates.
    dim_x : int
    n_samples, confidence, unit, seed
        As in ``entropy_mixture_mc``.

    Returns
    -------
    InfoValue
        **Estimate** (``kind="estimate"``, unbiased) of the MI with ``stderr``, ``ci_low``,
        ``ci_high`` in ``details``.

    Notes
    -----
    The marginals of a Gaussian mixture are Gaussian mixtures with the same weights and the
    marginal means/covariances, so

    .. math:: \hat I = \frac1n\sum_k \log\frac{p(x_k, y_k)}{p(x_k)\,p(y_k)}

    (the pointwise-MI average used for bmi's mixture tasks, Czyz et al. 2023).
    """
    check_unit(unit)
    n_samples = check_int(n_samples, "n_samples", minimum=2)
    confidence = check_probability(confidence, "confidence")
    joint = _mixture(means, covs, weights)
    dim_x = check_int(dim_x, "dim_x", minimum=1)
    if dim_x >= joint.d:
        raise ValueError(f"dim_x must be < {joint.d} (the mixture dimension), got {dim_x}")
    c = np.asarray(covs, dtype=float)
    mu = np.asarray(means, dtype=float)
    parts = []
    for idx in (np.arange(dim_x), np.arange(dim_x, joint.d)):
        cb = c if c.ndim < 2 else (c[np.ix_(idx, idx)] if c.ndim == 2 else c[:, idx][:, :, idx])
        parts.append(_mixture(mu[:, idx], cb, joint.weights))
    z = joint.from_internal(joint.sample_internal(n_samples, as_generator(seed)))
    pmi = joint.logpdf_internal(joint.to_internal(z)) - joint.offset
    for part, idx in zip(parts, (slice(0, dim_x), slice(dim_x, None))):
        pmi -= part.logpdf_internal(part.to_internal(z[:, idx])) - part.offset
    return _mc_value(pmi, confidence, unit, "mixture_pmi_monte_carlo",
                     {"n_components": joint.n, "dim_x": dim_x, "dim_y": joint.d - dim_x})


def _mc_value(values: np.ndarray, confidence: float, unit: Unit, method: str,
              extra: dict) -> InfoValue:
    n = values.size
    mean = float(values.mean())
    se = float(values.std(ddof=1) / math.sqrt(n))
    half = float(norm.ppf(0.5 + confidence / 2.0)) * se
    return info_value(mean, unit=unit, kind="estimate", method=method, n_samples=n,
                      details={**extra, "stderr": se, "ci_low": mean - half,
                               "ci_high": mean + half, "confidence": confidence},
                      convert_keys=("stderr", "ci_low", "ci_high"))
