"""VICReg terms by hand, official main_vicreg.py re-typed, and the paper/code factors."""
import math

import pytest
import torch
import torch.nn.functional as F

from mitheory.objectives import (
    vicreg_covariance,
    vicreg_invariance,
    vicreg_loss,
    vicreg_variance,
)

RTOL = 1e-12  # float64, summation order only

ZA = [[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]]
ZB = [[1.5, 2.0], [-0.5, -0.5], [2.0, 1.0]]


def _t(x):
    return torch.tensor(x, dtype=torch.float64)


def _col(z, j):
    return [row[j] for row in z]


def _var_unbiased(x):
    m = sum(x) / len(x)
    return sum((v - m) ** 2 for v in x) / (len(x) - 1)


def _hand_v(z, gamma=1.0, eps=1e-4):
    d = len(z[0])
    return sum(max(0.0, gamma - math.sqrt(_var_unbiased(_col(z, j)) + eps)) for j in range(d)) / d


def _hand_c(z):
    n, d = len(z), len(z[0])
    means = [sum(_col(z, j)) / n for j in range(d)]
    total = 0.0
    for i in range(d):
        for j in range(d):
            if i != j:
                cij = sum((r[i] - means[i]) * (r[j] - means[j]) for r in z) / (n - 1)
                total += cij ** 2
    return total / d


def _hand_s(za, zb):
    return sum(sum((x - y) ** 2 for x, y in zip(a, b)) for a, b in zip(za, zb)) / len(za)


def test_terms_hand():
    za, zb = _t(ZA), _t(ZB)
    assert float(vicreg_invariance(za, zb, convention="paper")) == pytest.approx(
        _hand_s(ZA, ZB), rel=RTOL)
    assert float(vicreg_invariance(za, zb)) == pytest.approx(_hand_s(ZA, ZB) / 2, rel=RTOL)
    # both columns of ZA and ZB have std ~1.5: gamma=1 checks the inactive hinge, gamma=2 the active
    for z, zt in ((ZA, za), (ZB, zb)):
        assert float(vicreg_variance(zt)) == pytest.approx(_hand_v(z), rel=RTOL)
        assert float(vicreg_variance(zt, gamma=2.0, eps=0.1)) == pytest.approx(
            _hand_v(z, 2.0, 0.1), rel=RTOL)
        assert float(vicreg_covariance(zt)) == pytest.approx(_hand_c(z), rel=RTOL)


def test_loss_hand_both_conventions():
    za, zb = _t(ZA), _t(ZB)
    lam, mu, nu = 25.0, 25.0, 1.0
    s, va, vb = _hand_s(ZA, ZB), _hand_v(ZA, 2.0), _hand_v(ZB, 2.0)
    c = _hand_c(ZA) + _hand_c(ZB)
    paper = lam * s + mu * (va + vb) + nu * c
    official = lam * s / 2 + mu * (va + vb) / 2 + nu * c  # d = 2
    assert float(vicreg_loss(za, zb, gamma=2.0, convention="paper")) == pytest.approx(paper,
                                                                                     rel=RTOL)
    assert float(vicreg_loss(za, zb, gamma=2.0)) == pytest.approx(official, rel=RTOL)


def _official_forward(x, y, sim_coeff=25.0, std_coeff=25.0, cov_coeff=1.0):
    # facebookresearch/vicreg main_vicreg.py VICReg.forward (single process), re-typed
    batch_size, num_features = x.shape

    def off_diagonal(m):
        n, _ = m.shape
        return m.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()

    repr_loss = F.mse_loss(x, y)
    x = x - x.mean(dim=0)
    y = y - y.mean(dim=0)
    std_x = torch.sqrt(x.var(dim=0) + 0.0001)
    std_y = torch.sqrt(y.var(dim=0) + 0.0001)
    std_loss = torch.mean(F.relu(1 - std_x)) / 2 + torch.mean(F.relu(1 - std_y)) / 2
    cov_x = (x.T @ x) / (batch_size - 1)
    cov_y = (y.T @ y) / (batch_size - 1)
    cov_loss = off_diagonal(cov_x).pow_(2).sum().div(num_features) + off_diagonal(
        cov_y).pow_(2).sum().div(num_features)
    return sim_coeff * repr_loss + std_coeff * std_loss + cov_coeff * cov_loss


def test_matches_official_code():
    g = torch.Generator().manual_seed(0)
    x = 0.7 * torch.randn(16, 8, generator=g, dtype=torch.float64)  # std < 1: hinge active
    y = x + 0.3 * torch.randn(16, 8, generator=g, dtype=torch.float64)
    assert float(vicreg_loss(x, y)) == pytest.approx(float(_official_forward(x, y)), rel=RTOL)


def test_official_vs_paper_factors():
    g = torch.Generator().manual_seed(1)
    x, y = 0.5 * torch.randn(2, 10, 6, generator=g, dtype=torch.float64)
    _, off = vicreg_loss(x, y, return_terms=True)
    _, pap = vicreg_loss(x, y, convention="paper", return_terms=True)
    d = x.shape[1]
    assert float(pap["invariance"]) == pytest.approx(d * float(off["invariance"]), rel=RTOL)
    assert float(pap["variance"]) == pytest.approx(2 * float(off["variance"]), rel=RTOL)
    assert float(pap["covariance"]) == pytest.approx(float(off["covariance"]), rel=RTOL)
    assert float(off["variance"]) > 0  # the halving is actually exercised


def test_gradients_and_bad_input():
    x = _t(ZA).requires_grad_()
    vicreg_loss(x, _t(ZB)).backward()
    assert bool(torch.isfinite(x.grad).all())
    with pytest.raises(ValueError, match="convention"):
        vicreg_loss(_t(ZA), _t(ZB), convention="solo")
    with pytest.raises(ValueError, match="same shape"):
        vicreg_loss(_t(ZA), _t(ZB)[:2])
    with pytest.raises(ValueError, match="sim_weight"):
        vicreg_loss(_t(ZA), _t(ZB), sim_weight=-1.0)
    with pytest.raises(ValueError, match="gamma"):
        vicreg_variance(_t(ZA), gamma=0.0)
    with pytest.raises(ValueError, match="at least 2"):
        vicreg_covariance(_t(ZA)[:1])
