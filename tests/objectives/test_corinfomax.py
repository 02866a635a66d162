"""CorInfoMax against the official cifars-tiny CovarianceLoss re-typed, over several steps."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mitheory.objectives import CorInfoMaxCovariance, corinfomax_loss


class _OfficialCovarianceLoss:
    """serdarozsoy/corinfomax-ssl@bd3f9eb cifars-tiny/loss.py::CovarianceLoss, CPU, re-typed."""

    def __init__(self, d, la_r, la_mu, r_ini, r_eps):
        self.R1 = r_ini * torch.eye(d, dtype=torch.float64)
        self.mu1 = torch.zeros(d, dtype=torch.float64)
        self.R2 = r_ini * torch.eye(d, dtype=torch.float64)
        self.mu2 = torch.zeros(d, dtype=torch.float64)
        self.la_R, self.la_mu = la_r, la_mu
        self.R_eps = r_eps * torch.eye(d, dtype=torch.float64)

    def __call__(self, z1, z2):
        n, d = z1.size()
        new_mu1 = self.la_mu * self.mu1 + (1 - self.la_mu) * torch.mean(z1, 0)
        new_mu2 = self.la_mu * self.mu2 + (1 - self.la_mu) * torch.mean(z2, 0)
        z1h, z2h = z1 - new_mu1, z2 - new_mu2
        new_r1 = self.la_R * self.R1 + (1 - self.la_R) * (z1h.T @ z1h) / n
        new_r2 = self.la_R * self.R2 + (1 - self.la_R) * (z2h.T @ z2h) / n
        cov_loss = -(torch.logdet(new_r1 + self.R_eps) + torch.logdet(new_r2 + self.R_eps)) / d
        self.R1, self.mu1 = new_r1.detach(), new_mu1.detach()
        self.R2, self.mu2 = new_r2.detach(), new_mu2.detach()
        return cov_loss


@pytest.mark.parametrize("la", [0.01, 0.5])
def test_matches_official_over_three_steps(la):
    d, n = 5, 16
    official = _OfficialCovarianceLoss(d, la_r=la, la_mu=la, r_ini=1.0, r_eps=1e-6)
    state = CorInfoMaxCovariance(d, lambda_r=la, lambda_mu=la, r_init=1.0, r_eps=1e-6)
    g = torch.Generator().manual_seed(0)
    for _ in range(3):
        z_a = torch.randn(n, d, generator=g, dtype=torch.float64, requires_grad=True)
        z_b = (z_a.detach() + 0.3 * torch.randn(n, d, generator=g, dtype=torch.float64)
               ).requires_grad_(True)
        ref = 500.0 * F.mse_loss(z_a, z_b) + official(z_a, z_b)
        ours = corinfomax_loss(z_a, z_b, state)
        state.update(z_a, z_b)
        torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)
        for g1, g2 in zip(torch.autograd.grad(ours, (z_a, z_b)),
                          torch.autograd.grad(ref, (z_a, z_b))):
            torch.testing.assert_close(g1, g2, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(state.r_a, official.R1, rtol=0, atol=1e-14)
        torch.testing.assert_close(state.mu_b, official.mu2, rtol=0, atol=1e-14)


def test_first_step_hand_computation():
    z_a = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]], dtype=torch.float64)
    z_b = torch.tensor([[0.5, 0.5], [0.0, 1.0], [2.0, 0.0]], dtype=torch.float64)
    lam = 0.25
    state = CorInfoMaxCovariance(2, lambda_r=lam, lambda_mu=lam, r_init=2.0, r_eps=0.0)
    want = 0.0
    for z in (z_a.numpy(), z_b.numpy()):
        mu = (1 - lam) * z.mean(0)  # old mean is 0
        zc = z - mu
        r = lam * 2.0 * np.eye(2) + (1 - lam) * zc.T @ zc / 3
        want -= np.linalg.slogdet(r)[1] / 2
    mse = np.mean((z_a.numpy() - z_b.numpy()) ** 2)
    got = corinfomax_loss(z_a, z_b, state, sim_weight=3.0, cov_weight=1.0)
    assert float(got) == pytest.approx(3.0 * mse + want, abs=1e-13)
    # logdet_loss does not move the state; update does
    torch.testing.assert_close(state.r_a, 2.0 * torch.eye(2, dtype=torch.float64))
    state.update(z_a, z_b)
    assert not torch.allclose(state.r_a, 2.0 * torch.eye(2, dtype=torch.float64))


def test_bad_inputs():
    state = CorInfoMaxCovariance(3)
    with pytest.raises(ValueError, match="columns"):
        state.logdet_loss(torch.randn(4, 2), torch.randn(4, 2))
    with pytest.raises(ValueError, match="lambda_r"):
        CorInfoMaxCovariance(3, lambda_r=1.5)
    # a singular covariance with no ridge and no memory is reported, not returned as -inf/NaN
    flat = CorInfoMaxCovariance(3, lambda_r=0.0, lambda_mu=0.0, r_eps=0.0)
    with pytest.raises(ValueError, match="not positive definite"):
        flat.logdet_loss(torch.ones(4, 3), torch.ones(4, 3))
    assert math.isfinite(float(corinfomax_loss(torch.randn(4, 3), torch.randn(4, 3), state)))
