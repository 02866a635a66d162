"""Exact sphere entropies against scipy, 1-D quadrature and mpmath; the vMF sampler's moments."""
import math

import mpmath
import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import gammaln

from mitheory.info import entropy_uniform_sphere, entropy_vmf


def _vmf_entropy_quadrature(kappa, d):
    """H = log(|S^{d-2}| Z) - kappa E[t], t = mu.x with density prop. to e^{kt}(1-t^2)^{(d-3)/2}."""
    w = lambda t: math.exp(kappa * (t - 1)) * (1 - t * t) ** ((d - 3) / 2)  # noqa: E731
    z, _ = integrate.quad(w, -1, 1, epsabs=0, epsrel=1e-13, limit=200)
    m, _ = integrate.quad(lambda t: t * w(t), -1, 1, epsabs=1e-14 * z, epsrel=1e-12, limit=200)
    log_area = math.log(2) + (d - 1) / 2 * math.log(math.pi) - gammaln((d - 1) / 2)
    return log_area + math.log(z) + kappa - kappa * m / z


def test_uniform_sphere_closed_forms():
    # circle: log(2 pi); S^2: log(4 pi); both exact
    assert entropy_uniform_sphere(2).value == pytest.approx(math.log(2 * math.pi), rel=1e-15)
    assert entropy_uniform_sphere(3).value == pytest.approx(math.log(4 * math.pi), rel=1e-15)


@pytest.mark.parametrize("d", [3, 5, 10])
@pytest.mark.parametrize("kappa", [0.1, 1.0, 10.0, 100.0])
def test_vmf_entropy_matches_quadrature_and_scipy(d, kappa):
    h = entropy_vmf(kappa, d).value
    # adaptive quadrature at epsrel 1e-13; the log/ratio keeps ~1e-11 absolute
    assert h == pytest.approx(_vmf_entropy_quadrature(kappa, d), abs=1e-9)
    # scipy's own closed form (scipy.stats.vonmises_fisher, independent code)
    mu = np.zeros(d)
    mu[0] = 1.0
    assert h == pytest.approx(stats.vonmises_fisher(mu, kappa).entropy(), abs=1e-9)


@pytest.mark.parametrize("d,kappa", [(3, 1e4), (500, 1.0), (200, 50.0)])
def test_vmf_entropy_extreme_against_mpmath(d, kappa):
    mpmath.mp.dps = 60
    k, nu = mpmath.mpf(kappa), mpmath.mpf(d) / 2 - 1
    log_c = nu * mpmath.log(k) - mpmath.mpf(d) / 2 * mpmath.log(2 * mpmath.pi) - mpmath.log(
        mpmath.besseli(nu, k))
    a = mpmath.besseli(nu + 1, k) / mpmath.besseli(nu, k)
    exact = float(-log_c - k * a)
    # float64 evaluation of terms of size up to ~|log C| (~1e3): rel 1e-11
    assert entropy_vmf(kappa, d).value == pytest.approx(exact, rel=1e-11, abs=1e-9)


def test_vmf_kappa_zero_is_uniform_and_continuous():
    assert entropy_vmf(0.0, 4).value == entropy_uniform_sphere(4).value
    # H(kappa) = H(0) - O(kappa^2): at kappa = 1e-6 the gap is ~1e-13
    assert entropy_vmf(1e-6, 4).value == pytest.approx(entropy_uniform_sphere(4).value, abs=1e-10)


def test_sphere_bad_input():
    with pytest.raises(ValueError, match="dim must be >= 2"):
        entropy_uniform_sphere(1)
    with pytest.raises(ValueError, match="kappa must be >= 0"):
        entropy_vmf(-1.0, 3)
