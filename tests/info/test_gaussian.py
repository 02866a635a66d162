"""Exact Gaussian entropy / MI against scipy, numerical integration and mpmath."""
import math

import mpmath
import numpy as np
import pytest
from scipy import integrate, stats

from mitheory._types import InfoValue
from mitheory.info import entropy_affine, entropy_gaussian, mi_gaussian, mi_gaussian_cca


def _random_spd(d, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((d, d))
    return a @ a.T + 0.5 * np.eye(d)


def _canonical_correlations(cov, dx):
    """Independent CCA: singular values of Sxx^{-1/2} Sxy Syy^{-1/2} (eigh square roots)."""
    def inv_sqrt(m):
        w, v = np.linalg.eigh(m)
        return v @ np.diag(w**-0.5) @ v.T
    k = inv_sqrt(cov[:dx, :dx]) @ cov[:dx, dx:] @ inv_sqrt(cov[dx:, dx:])
    return np.linalg.svd(k, compute_uv=False)


@pytest.mark.parametrize("d", [1, 2, 5, 12])
def test_entropy_gaussian_matches_scipy(d):
    cov = _random_spd(d, d)
    h = entropy_gaussian(cov)
    assert isinstance(h, InfoValue) and h.kind == "exact" and h.unit == "nats"
    # both are closed forms evaluated in float64: agreement to rounding
    assert h.value == pytest.approx(stats.multivariate_normal(cov=cov).entropy(), rel=1e-12)


def test_entropy_gaussian_scalar_and_bits():
    h = entropy_gaussian(2.0)
    assert h.value == pytest.approx(0.5 * math.log(2 * math.pi * math.e * 2.0), rel=1e-14)
    # bits = nats / ln 2, exactly the single conversion helper
    assert entropy_gaussian(2.0, unit="bits").value == pytest.approx(h.value / math.log(2), rel=1e-14)


@pytest.mark.parametrize("dx,dy", [(1, 1), (2, 3), (4, 4)])
def test_mi_gaussian_three_independent_forms(dx, dy):
    cov = _random_spd(dx + dy, 10 + dx)
    mi = mi_gaussian(cov, dx).value
    # H(X) + H(Y) - H(X,Y) with scipy entropies (cancellation of O(10) numbers: 1e-12 abs)
    ent = lambda c: stats.multivariate_normal(cov=c).entropy()  # noqa: E731
    assert mi == pytest.approx(ent(cov[:dx, :dx]) + ent(cov[dx:, dx:]) - ent(cov), abs=1e-12)
    # canonical-correlation form with an eigh-based CCA
    assert mi == pytest.approx(mi_gaussian_cca(_canonical_correlations(cov, dx)).value, rel=1e-10)


def test_mi_gaussian_symmetric_in_blocks():
    cov, dx = _random_spd(5, 3), 2
    perm = np.r_[dx:5, 0:dx]
    # I(X;Y) = I(Y;X): swap the blocks; same closed form up to rounding
    assert mi_gaussian(cov, dx).value == pytest.approx(
        mi_gaussian(cov[np.ix_(perm, perm)], 5 - dx).value, rel=1e-12)


def test_mi_gaussian_numerical_integration_1d():
    rho = 0.6
    s = 1.0 - rho * rho

    def integrand(y, x):  # p(x, y) log p(x, y) / (p(x) p(y)), written out for speed
        q = (x * x - 2 * rho * x * y + y * y) / (2 * s)
        p = math.exp(-q) / (2 * math.pi * math.sqrt(s))
        return p * (-0.5 * math.log(s) - q + 0.5 * (x * x + y * y))
    val, _ = integrate.dblquad(integrand, -9, 9, -9, 9, epsabs=1e-11)
    # quadrature error (epsabs 1e-11) plus the mass outside [-9, 9]^2 (< 1e-17)
    assert mi_gaussian([[1, rho], [rho, 1]], 1).value == pytest.approx(val, abs=1e-9)


def test_mi_gaussian_high_correlation_against_mpmath():
    rho = 0.999999
    mpmath.mp.dps = 50
    exact = float(-mpmath.mpf(1) / 2 * mpmath.log(1 - mpmath.mpf(rho) ** 2))
    # condition number ~1e6: Cholesky/solve lose ~6 digits of 16, so rel 1e-9
    assert mi_gaussian([[1, rho], [rho, 1]], 1).value == pytest.approx(exact, rel=1e-9)
    assert mi_gaussian_cca([rho]).value == pytest.approx(exact, rel=1e-12)


def test_entropy_affine_matches_transformed_gaussian():
    cov = _random_spd(3, 7)
    a = np.random.default_rng(1).standard_normal((3, 3))
    h = entropy_affine(entropy_gaussian(cov), a)
    # H(AX) is the entropy of N(0, A S A^T): both exact, agreement to rounding
    assert h.value == pytest.approx(entropy_gaussian(a @ cov @ a.T).value, rel=1e-11)
    assert h.kind == "exact"
    est = InfoValue(1.0, unit="bits", kind="estimate", method="x", n_samples=10)
    out = entropy_affine(est, 2.0)
    assert out.kind == "estimate" and out.n_samples == 10
    # 1 bit + log 2 nats
    assert out.value == pytest.approx(math.log(2) + math.log(2), rel=1e-14)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="cov_joint is not positive definite"):
        mi_gaussian([[1.0, 2.0], [2.0, 1.0]], 1)
    with pytest.raises(ValueError, match="cov contains 2 NaN"):
        entropy_gaussian([[1.0, np.nan], [np.nan, 1.0]])
    with pytest.raises(ValueError, match="dim_x must be < 2"):
        mi_gaussian(np.eye(2), 2)
    with pytest.raises(ValueError, match="canonical_correlations must lie strictly"):
        mi_gaussian_cca([0.5, 1.0])
    with pytest.raises(ValueError, match="matrix must be invertible"):
        entropy_affine(1.0, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="unit must be one of"):
        entropy_gaussian(1.0, unit="bans")
