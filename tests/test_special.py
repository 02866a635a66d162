"""mitheory._special: log I_nu, log C_d and A_d(kappa) against mpmath, scipy, quadrature and
closed forms; the torch twin; A_d's ratio/recurrence regimes against the log-Bessel route."""
import ast
import math
from pathlib import Path

import mpmath
import numpy as np
import pytest
import torch
from scipy import integrate

import mitheory
from mitheory import _special, generative, objectives
from mitheory._special import (
    LogIv,
    _bessel_ratio_recurrence,
    log_bessel_iv,
    log_bessel_ive,
    log_sphere_area,
    log_vmf_normalizer,
    log_vmf_normalizer_torch,
    vmf_entropy,
    vmf_mean_resultant_length,
)

NUS = [0.5, 4, 31, 255, 999]
KAPPAS = [0.1, 1, 10, 100, 1000]


# ---- the module's place in the layout ----------------------------------------------------------

def test_imports_nothing_from_the_subpackages():
    tree = ast.parse(Path(_special.__file__).read_text())
    mods = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
    mods += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    ours = {m for m in mods if m.startswith("mitheory")}
    assert ours <= {"mitheory._types", "mitheory._validate"}, ours


def test_old_public_names_are_the_same_objects():
    assert objectives.log_bessel_iv is log_bessel_iv
    assert objectives.log_vmf_normalizer is log_vmf_normalizer
    assert generative.vmf_mean_resultant_length is vmf_mean_resultant_length


def test_info_does_not_import_objectives():
    # the info <-> objectives cycle ends here: no module of mitheory.info names objectives
    info_dir = Path(mitheory.__file__).parent / "info"
    for path in info_dir.glob("*.py"):
        tree = ast.parse(path.read_text())
        for n in ast.walk(tree):
            names = ([n.module or ""] if isinstance(n, ast.ImportFrom)
                     else [a.name for a in n.names] if isinstance(n, ast.Import) else [])
            assert not any(m.startswith("mitheory.objectives") for m in names), path.name


# ---- log I_nu(kappa) ---------------------------------------------------------------------------

@pytest.mark.parametrize("nu", NUS)
def test_log_bessel_vs_mpmath(nu):
    mpmath.mp.dps = 40
    got = log_bessel_iv(nu, np.array(KAPPAS, dtype=float))
    for k, v in zip(KAPPAS, got):
        ref = float(mpmath.log(mpmath.besseli(nu, k)))
        # brief's target: rel 1e-10 (measured worst ~1e-15 over this grid)
        assert v == pytest.approx(ref, rel=1e-10), (nu, k)


@pytest.mark.parametrize("nu", NUS)
def test_log_bessel_ive_vs_mpmath(nu):
    mpmath.mp.dps = 40
    got = log_bessel_ive(nu, np.array(KAPPAS, dtype=float))
    for k, v in zip(KAPPAS, got):
        ref = float(mpmath.log(mpmath.besseli(nu, k)) - k)
        # same target as log_bessel_iv: rel 1e-10; abs 1e-12 where the value crosses 0
        assert v == pytest.approx(ref, rel=1e-10, abs=1e-12), (nu, k)


def test_log_bessel_ive_is_log_iv_minus_kappa():
    nu, k = np.meshgrid(np.array(NUS, dtype=float), np.array(KAPPAS, dtype=float))
    # one subtraction of kappa (<= 1000) apart: a few ulps of kappa, 1e-12 absolute
    np.testing.assert_allclose(log_bessel_ive(nu, k), log_bessel_iv(nu, k) - k, rtol=0,
                               atol=1e-12)


@pytest.mark.parametrize("x", [1e-3, 0.1, 1.0, 10.0, 300.0])
def test_half_order_closed_form(x):
    # I_{1/2}(x) = sqrt(2/(pi x)) sinh x; in log form to avoid overflow at x = 300
    ref = 0.5 * math.log(2 / (math.pi * x)) + x + math.log1p(-math.exp(-2 * x)) - math.log(2)
    assert log_bessel_iv(0.5, x) == pytest.approx(ref, rel=1e-13)  # float64 rounding


def test_regimes_continuous_across_switch():
    # the series/ive/Debye switches must not jump: compare with mpmath on a fine grid across
    # (kappa/2)^2 = nu + 1 and across ive underflow (nu = 400, kappa ~ 40-60)
    mpmath.mp.dps = 40
    for nu in (3.0, 400.0):
        for k in np.linspace(2 * math.sqrt(nu + 1) * 0.9, 2 * math.sqrt(nu + 1) * 1.3, 7):
            ref = float(mpmath.log(mpmath.besseli(nu, k)))
            # float64 rounding of a value of size ~nu: rel 1e-12
            assert log_bessel_iv(nu, k) == pytest.approx(ref, rel=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="kappa"):
        log_bessel_iv(1.0, 0.0)
    with pytest.raises(ValueError, match="nu"):
        log_bessel_iv(-1.0, 1.0)
    with pytest.raises(ValueError, match="NaN"):
        log_bessel_iv(1.0, float("nan"))
    with pytest.raises(ValueError, match="kappa"):
        log_bessel_ive(1.0, -1.0)
    with pytest.raises(ValueError, match="dim"):
        log_vmf_normalizer(1, 1.0)
    with pytest.raises(TypeError, match="dim"):
        log_vmf_normalizer(3.0, 1.0)
    with pytest.raises(ValueError, match="kappa"):
        vmf_mean_resultant_length(3, -1.0)
    with pytest.raises(ValueError, match="kappa"):
        vmf_mean_resultant_length(3, 0.0)
    with pytest.raises(ValueError, match="dim"):
        vmf_mean_resultant_length(1, 1.0)
    with pytest.raises(ValueError, match="kappa must be >= 0"):
        vmf_entropy(3, -1.0)


# ---- log C_d(kappa), numpy and torch -----------------------------------------------------------

@pytest.mark.parametrize("kappa", [0.1, 1.0, 10.0, 100.0])
def test_vmf_normalizer_d3(kappa):
    # C_3(k) = k / (4 pi sinh k)
    ref = math.log(kappa) - math.log(4 * math.pi) - (kappa + math.log1p(-math.exp(-2 * kappa))
                                                     - math.log(2))
    assert log_vmf_normalizer(3, kappa) == pytest.approx(ref, rel=1e-12)  # float64 rounding


def test_vmf_normalizer_d2_circle():
    # d = 2: C_2(k) = 1 / (2 pi I_0(k))
    mpmath.mp.dps = 30
    ref = -math.log(2 * math.pi) - float(mpmath.log(mpmath.besseli(0, 5.0)))
    assert log_vmf_normalizer(2, 5.0) == pytest.approx(ref, rel=1e-12)  # float64 rounding


@pytest.mark.parametrize("nu, kappa", [(0.5, 2.0), (50, 10.0), (499, 10.0), (2047, 100.0)])
def test_log_iv_torch_value_against_mpmath_including_the_underflow_region(nu, kappa):
    ref = float(mpmath.log(mpmath.besseli(nu, kappa)))
    k = torch.tensor([kappa], dtype=torch.float64)
    # float64 evaluation of log_bessel_iv, tested above to rel 1e-10
    assert float(LogIv.apply(k, float(nu))) == pytest.approx(ref, rel=1e-10)


@pytest.mark.parametrize("nu", [0.5, 10.0, 499.0])
def test_log_iv_torch_gradient(nu):
    k = torch.tensor([0.3, 5.0, 40.0], dtype=torch.float64, requires_grad=True)
    # finite differences in float64 (gradcheck defaults: eps 1e-6, atol 1e-5)
    assert torch.autograd.gradcheck(lambda t: LogIv.apply(t, nu), (k,))


def test_vmf_normaliser_torch_closed_form_d3_and_integral_d2():
    k = torch.tensor([0.5, 2.0, 20.0], dtype=torch.float64)
    closed = torch.log(k) - torch.log(4 * math.pi * torch.sinh(k))  # C_3 = k / (4 pi sinh k)
    # float64 rounding of values of size <= 20
    assert torch.allclose(log_vmf_normalizer_torch(3, k), closed, atol=1e-12, rtol=0)
    for kappa in (0.5, 5.0):
        c2 = math.exp(float(log_vmf_normalizer_torch(2, torch.tensor([kappa],
                                                                      dtype=torch.float64))))
        total = integrate.quad(lambda t: c2 * math.exp(kappa * math.cos(t)), 0, 2 * math.pi)[0]
        # quad accuracy on a smooth periodic integrand
        assert total == pytest.approx(1.0, abs=1e-10)


def test_vmf_normaliser_torch_equals_numpy():
    k = np.array([0.1, 3.0, 50.0, 700.0])
    got = log_vmf_normalizer_torch(64, torch.tensor(k, dtype=torch.float64)).numpy()
    # same float64 Bessel values; the two log(kappa) terms are computed by numpy vs torch
    np.testing.assert_allclose(got, log_vmf_normalizer(64, k), rtol=1e-14, atol=0)


# ---- A_d(kappa) --------------------------------------------------------------------------------

def _a_quadrature(dim, kappa):
    """Independent A_d: E[w] under the marginal density of w = mu^T x,
    p(w) ~ exp(kappa w) (1 - w^2)^((d-3)/2) on [-1, 1] (Mardia & Jupp 2000, 9.3.12)."""
    logf = lambda w: kappa * (w - 1.0) + 0.5 * (dim - 3) * np.log1p(-w * w)  # noqa: E731
    num = integrate.quad(lambda w: w * np.exp(logf(w)), -1, 1, limit=500, epsabs=0, epsrel=1e-12)
    den = integrate.quad(lambda w: np.exp(logf(w)), -1, 1, limit=500, epsabs=0, epsrel=1e-12)
    return num[0] / den[0]


@pytest.mark.parametrize("dim,kappa", [(2, 1.0), (3, 10.0), (10, 10.0), (10, 100.0), (64, 10.0)])
def test_mean_resultant_length_matches_quadrature(dim, kappa):
    # both are deterministic float64 computations; 1e-7 covers the quadrature's error
    assert vmf_mean_resultant_length(dim, kappa) == pytest.approx(_a_quadrature(dim, kappa),
                                                                  rel=1e-7)


def test_mean_resultant_length_closed_form_d3():
    # d = 3: A_3(k) = coth(k) - 1/k exactly; float64 round-off
    for k in (0.1, 1.0, 10.0, 700.0):
        assert vmf_mean_resultant_length(3, k) == pytest.approx(1 / np.tanh(k) - 1 / k, rel=1e-12)


def test_bessel_recurrence_agrees_with_ive_and_covers_underflow():
    # where ive works both are float64-exact ratios; 1e-10 covers the recurrence's truncation
    for d, k in [(50, 3.0), (10, 10.0), (200, 0.5)]:
        assert _bessel_ratio_recurrence(d / 2, k) == pytest.approx(
            vmf_mean_resultant_length(d, k), rel=1e-10)
    # d = 4000, kappa = 1: ive underflows; small-kappa series A_d ~ kappa/d (1 - kappa^2/(d(d+2)))
    d, k = 4000, 1.0
    expected = k / d * (1 - k**2 / (d * (d + 2)))
    # the dropped series term is O(kappa^4 / d^4) ~ 1e-15 relative; 1e-9 as before
    assert vmf_mean_resultant_length(d, k) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("d,kappa", [(2, 3.0), (3, 10.0), (16, 5.0), (50, 1.0), (1000, 10.0),
                                     (4000, 0.1), (4000, 1000.0), (10, 1e4)])
def test_mean_resultant_length_matches_the_log_bessel_route(d, kappa):
    # the direct ive ratio / recurrence against exp(log I_{d/2} - log I_{d/2-1}) from the
    # log-Bessel regimes (series, ive, Debye): independent code paths for the same A_d.
    # exp of a difference of two values of size L costs ~L ulps: L <= 1.2e4 here, so 1e-11
    nu = d / 2 - 1
    via_logs = math.exp(log_bessel_ive(nu + 1, kappa) - log_bessel_ive(nu, kappa))
    assert vmf_mean_resultant_length(d, kappa) == pytest.approx(via_logs, rel=1e-11)


@pytest.mark.parametrize("d,kappa", [(1000, 1.0), (4000, 10.0), (4000, 1000.0), (3, 1e4)])
def test_mean_resultant_length_extreme_against_mpmath(d, kappa):
    mpmath.mp.dps = 50
    ref = float(mpmath.besseli(d / 2, kappa) / mpmath.besseli(d / 2 - 1, kappa))
    # a ratio of two float64-exact values, or the converged recurrence: rel 1e-13
    assert vmf_mean_resultant_length(d, kappa) == pytest.approx(ref, rel=1e-13)


# ---- sphere entropies --------------------------------------------------------------------------

def test_log_sphere_area_closed_forms():
    # circle: 2 pi, S^2: 4 pi, S^3: 2 pi^2; float64 rounding
    assert log_sphere_area(2) == pytest.approx(math.log(2 * math.pi), rel=1e-15)
    assert log_sphere_area(3) == pytest.approx(math.log(4 * math.pi), rel=1e-15)
    assert log_sphere_area(4) == pytest.approx(math.log(2 * math.pi**2), rel=1e-15)


@pytest.mark.parametrize("d,kappa", [(3, 1e4), (500, 1.0), (200, 50.0), (4000, 1000.0)])
def test_vmf_entropy_against_mpmath(d, kappa):
    mpmath.mp.dps = 60
    k, nu = mpmath.mpf(kappa), mpmath.mpf(d) / 2 - 1
    log_c = nu * mpmath.log(k) - mpmath.mpf(d) / 2 * mpmath.log(2 * mpmath.pi) - mpmath.log(
        mpmath.besseli(nu, k))
    exact = float(-log_c - k * mpmath.besseli(nu + 1, k) / mpmath.besseli(nu, k))
    # float64 evaluation of terms of size up to ~|log C| (~1e4): rel 1e-11
    assert vmf_entropy(d, kappa) == pytest.approx(exact, rel=1e-11, abs=1e-9)


def test_vmf_entropy_kappa_zero_is_the_uniform_law():
    assert vmf_entropy(5, 0.0) == log_sphere_area(5)
