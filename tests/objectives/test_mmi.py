"""MMI: exact / Taylor log det, rescaling beta, error bound, second-order MI, GGD offset."""
import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from mitheory.objectives import (
    logdet_exact,
    logdet_taylor,
    logdet_taylor_error_bound,
    mi_ggd_offset,
    mi_second_order,
    mmi_loss,
    taylor_rescaling,
)
from mitheory.objectives._mmi import _mggd_entropy_constant


def _spd_with_eigs(eigs, seed=0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((len(eigs), len(eigs))))
    return torch.tensor(q @ np.diag(eigs) @ q.T, dtype=torch.float64)


def _with_exact_covariance(cov, n, seed=0):
    """n samples whose unbiased sample covariance is exactly ``cov`` (whitened then coloured)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, cov.shape[0]))
    x -= x.mean(0)
    x = x @ np.linalg.inv(np.linalg.cholesky(np.cov(x, rowvar=False))).T
    return x @ np.linalg.cholesky(cov).T


def test_logdet_exact_vs_numpy_and_errors():
    s = _spd_with_eigs([0.3, 1.0, 4.0, 9.0])
    assert float(logdet_exact(s)) == pytest.approx(np.linalg.slogdet(s.numpy())[1], abs=1e-12)
    with pytest.raises(ValueError, match="not positive definite"):
        logdet_exact(_spd_with_eigs([1.0, 0.0, 2.0]) - 0.1 * torch.eye(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="square"):
        logdet_exact(torch.ones(2, 3))


def test_taylor_hand_computation_order2():
    s = torch.tensor([[1.2, 0.3], [0.3, 0.9]], dtype=torch.float64)
    a = s.numpy() - np.eye(2)
    want = np.trace(a) - np.trace(a @ a) / 2  # order 2, beta = 1: log det(I + A) series
    assert float(logdet_taylor(s, order=2, beta=1.0)) == pytest.approx(want, abs=1e-14)
    # with beta = 2: series of 2S - I, minus n log 2
    a2 = 2 * s.numpy() - np.eye(2)
    want2 = np.trace(a2) - np.trace(a2 @ a2) / 2 + np.trace(a2 @ a2 @ a2) / 3 - 2 * math.log(2)
    assert float(logdet_taylor(s, order=3, beta=2.0)) == pytest.approx(want2, abs=1e-13)


@pytest.mark.parametrize("eigs", [[0.15, 0.5, 1.0, 1.4, 1.8], [0.1, 0.5, 1.0, 1.7, 2.0]])
def test_taylor_converges_within_error_bound(eigs):
    # beta = 1: eigenvalues of S - I lie in (-1, 1]; the second case includes a = 1 exactly
    s = _spd_with_eigs(eigs, seed=3)
    exact = float(logdet_exact(s))
    prev_bound = math.inf
    for order in (1, 2, 3, 4, 8, 16, 64, 256):
        err = abs(float(logdet_taylor(s, order=order, beta=1.0)) - exact)
        bound = logdet_taylor_error_bound(s, order=order, beta=1.0)
        assert err <= bound + 1e-12  # float64 rounding of 5 eigen-terms
        assert bound <= prev_bound
        prev_bound = bound
    # a = 1 converges like 1/K (alternating harmonic), otherwise geometrically
    final = abs(float(logdet_taylor(s, order=256, beta=1.0)) - exact)
    assert final < (1 / 257 + 1e-12 if max(eigs) == 2.0 else 1e-10)


def test_taylor_diverges_without_rescaling_and_beta_rules_fix_it():
    s = _spd_with_eigs([0.5, 1.0, 3.5], seed=4)  # beta = 1 puts a = 2.5 outside (-1, 1]
    exact = float(logdet_exact(s))
    assert logdet_taylor_error_bound(s, order=4, beta=1.0) == math.inf
    errs = [abs(float(logdet_taylor(s, order=k, beta=1.0)) - exact) for k in (4, 8, 16)]
    assert errs[0] < errs[1] < errs[2] and errs[2] > 1e3  # diverging series
    # frobenius: a_min = 0.5/||S||_F - 1 = -0.864, bound 0.864^129 / (129 * 0.136) ~ 3e-9
    for rule in ("frobenius", "spectral"):
        assert logdet_taylor_error_bound(s, order=128, beta=rule) < 1e-6
        approx = float(logdet_taylor(s, order=128, beta=rule))
        assert approx == pytest.approx(exact, abs=1e-6)  # within the bound just asserted


def test_beta_rules_definitions():
    s = _spd_with_eigs([0.2, 0.7, 2.0, 5.0], seed=5)
    eig = np.array([0.2, 0.7, 2.0, 5.0])
    # closed forms of the three rules; 1e-12 = float64 eigen/trace rounding
    assert taylor_rescaling(s, beta="trace") == pytest.approx(4 / eig.sum(), rel=1e-12)
    assert taylor_rescaling(s, beta="frobenius") == pytest.approx(
        1 / np.sqrt((eig**2).sum()), rel=1e-12
    )
    assert taylor_rescaling(s, beta="spectral") == pytest.approx(2 / (0.2 + 5.0), rel=1e-12)
    assert taylor_rescaling(s, beta=0.5) == 0.5
    with pytest.raises(ValueError, match="beta"):
        taylor_rescaling(s, beta="median")
    with pytest.raises(ValueError, match="beta"):
        taylor_rescaling(s, beta=-1.0)


def test_rescaling_leaves_exact_value_unchanged():
    # with high order every convergent beta gives the same log det (the -n log beta term)
    s = _spd_with_eigs([0.6, 0.9, 1.3], seed=6)
    exact = float(logdet_exact(s))
    for beta in (0.8, 1.0, 1.2, "trace", "spectral"):
        assert logdet_taylor_error_bound(s, order=200, beta=beta) < 1e-9
        assert float(logdet_taylor(s, order=200, beta=beta)) == pytest.approx(exact, abs=1e-9)


@pytest.mark.parametrize("rhos", [[0.6], [0.9, 0.3, 0.0]])
def test_mi_closed_form_canonical_correlations(rhos):
    d = len(rhos)
    r = np.diag(rhos)
    cov = np.block([[np.eye(d), r], [r, np.eye(d)]])
    z = torch.tensor(_with_exact_covariance(cov, n=50, seed=7))
    mi = mi_second_order(z[:, :d], z[:, d:])
    want = -0.5 * sum(math.log(1 - p**2) for p in rhos)
    assert float(mi) == pytest.approx(want, abs=1e-10)  # exact sample covariance, float64


def test_mi_invariant_under_invertible_linear_maps():
    g = torch.Generator().manual_seed(8)
    z_a = torch.randn(200, 3, generator=g, dtype=torch.float64)
    z_b = 0.8 * z_a + 0.5 * torch.randn(200, 3, generator=g, dtype=torch.float64)
    z_b = torch.cat([z_b, torch.randn(200, 1, generator=g, dtype=torch.float64)], dim=1)
    a = torch.randn(3, 3, generator=g, dtype=torch.float64) + 3 * torch.eye(3, dtype=torch.float64)
    b = torch.randn(4, 4, generator=g, dtype=torch.float64) + 3 * torch.eye(4, dtype=torch.float64)
    base = float(mi_second_order(z_a, z_b))
    moved = float(mi_second_order(z_a @ a + 5.0, z_b @ b - 2.0))
    assert base > 0.5  # strongly dependent views
    assert moved == pytest.approx(base, rel=1e-10)  # exact invariance, float64 rounding


def test_taylor_mi_converges_to_exact_mi():
    g = torch.Generator().manual_seed(9)
    z_a = torch.randn(400, 3, generator=g, dtype=torch.float64)
    z_b = 0.5 * z_a + torch.randn(400, 3, generator=g, dtype=torch.float64)
    exact = float(mi_second_order(z_a, z_b))
    errs = [
        abs(float(mi_second_order(z_a, z_b, method="taylor", order=k, beta="spectral")) - exact)
        for k in (2, 4, 16, 64)
    ]
    assert errs[-1] < 1e-8 and errs[-1] < errs[1] < errs[0]
    loss = mmi_loss(z_a, z_b, order=64, beta="spectral")
    assert float(loss) == pytest.approx(-exact, abs=1e-8)


def test_mi_gradient_and_bad_inputs():
    g = torch.Generator().manual_seed(10)
    z_a = torch.randn(12, 2, generator=g, dtype=torch.float64, requires_grad=True)
    z_b = torch.randn(12, 2, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: mi_second_order(a, b), (z_a, z_b))
    assert torch.autograd.gradcheck(
        lambda a, b: mmi_loss(a, b, order=4, beta="trace"), (z_a, z_b)
    )
    with pytest.raises(ValueError, match="singular"):
        mi_second_order(torch.randn(4, 2), torch.randn(4, 2))
    with pytest.raises(ValueError, match="method"):
        mi_second_order(z_a, z_b, method="svd")
    with pytest.raises(ValueError, match="same number of rows"):
        mi_second_order(torch.randn(12, 2), torch.randn(11, 2))
    # eps > 0 makes a small batch usable
    assert torch.isfinite(mi_second_order(torch.randn(4, 2), torch.randn(4, 2), eps=1e-3))


def test_ggd_offset_gaussian_is_zero_and_constant_matches_scipy():
    assert mi_ggd_offset(3, 5, shape=1.0) == pytest.approx(0.0, abs=1e-12)
    for n in (1, 4):
        gauss = 0.5 * n * math.log(2 * math.pi * math.e)
        assert _mggd_entropy_constant(n, 1.0) == pytest.approx(gauss, abs=1e-12)
    for shape in (0.5, 2.0):
        # 1-D MGGD exp(-|x|^(2b)/2) is scipy's gennorm(2b, scale=2^(1/(2b)))
        dist = stats.gennorm(2 * shape, scale=2 ** (1 / (2 * shape)))
        want = dist.entropy() - 0.5 * math.log(dist.var())
        assert _mggd_entropy_constant(1, shape) == pytest.approx(want, abs=1e-10)


@pytest.mark.parametrize("shape", [0.5, 3.0])
def test_ggd_constant_by_radial_quadrature(shape):
    n = 3
    # X = r U, density of r: S_{n-1} r^{n-1} exp(-r^{2b}/2) / Z; independent of the closed form
    w = lambda r, p: r ** (n - 1 + p) * math.exp(-0.5 * r ** (2 * shape))  # noqa: E731
    m0 = integrate.quad(lambda r: w(r, 0), 0, np.inf)[0]
    surface = 2 * math.pi ** (n / 2) / math.gamma(n / 2)
    log_norm = -math.log(surface * m0)
    e_half_u = integrate.quad(lambda r: 0.5 * r ** (2 * shape) * w(r, 0), 0, np.inf)[0] / m0
    var = integrate.quad(lambda r: w(r, 2), 0, np.inf)[0] / m0 / n
    want = -log_norm + e_half_u - 0.5 * n * math.log(var)
    assert _mggd_entropy_constant(n, shape) == pytest.approx(want, abs=1e-8)  # quad accuracy
    off = mi_ggd_offset(1, 2, shape=shape)
    parts = [_mggd_entropy_constant(k, shape) for k in (1, 2, 3)]
    assert off == pytest.approx(parts[0] + parts[1] - parts[2], abs=1e-14)
