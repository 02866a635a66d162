"""VICReg with entropy estimators: numpy hand computation of every term and the VICReg limit."""
import math

import numpy as np
import pytest
import torch

from mitheory.objectives import vicreg_entropy_loss, vicreg_loss


def _views(n, d, seed):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, d, generator=g, dtype=torch.float64)
    return a, a + 0.4 * torch.randn(n, d, generator=g, dtype=torch.float64)


def _logdet_np(z, beta):
    zc = z - z.mean(0)
    return 0.5 * np.linalg.slogdet(np.eye(z.shape[1]) + beta * zc.T @ zc / z.shape[0])[1]


def _pairwise_np(z, sigma, method):
    n, d = z.shape
    s2 = 2 * sigma**2 if method == "kl" else 8 * sigma**2
    inner = [math.log(sum(math.exp(-np.sum((z[i] - z[j]) ** 2) / s2) for j in range(n)) / n)
             for i in range(n)]
    return 0.5 * d * math.log(2 * math.pi * math.e * sigma**2) - np.mean(inner)


@pytest.mark.parametrize("estimator", ["logdet", "kl", "bhattacharyya"])
def test_hand_computation(estimator):
    z_a, z_b = _views(9, 4, 0)
    a, b = z_a.numpy(), z_b.numpy()
    lam, alpha, beta, sigma = 3.0, 0.5, 2.0, 0.8
    inv = np.mean((a - b) ** 2)  # official convention: F.mse_loss
    if estimator == "logdet":
        ent = _logdet_np(a, beta) + _logdet_np(b, beta)
    else:
        ent = _pairwise_np(a, sigma, estimator) + _pairwise_np(b, sigma, estimator)
    got = vicreg_entropy_loss(z_a, z_b, estimator=estimator, sim_weight=lam,
                              entropy_weight=alpha, beta=beta, sigma=sigma)
    assert float(got) == pytest.approx(lam * inv - alpha * ent, abs=1e-10)


@pytest.mark.parametrize("convention", ["official", "paper"])
def test_without_entropy_is_vicreg_without_covariance(convention):
    z_a, z_b = _views(12, 5, 1)
    z_b = 0.5 * z_b  # std below gamma = 1 so the variance hinge is active
    ours = vicreg_entropy_loss(z_a, z_b, entropy_weight=0.0, var_weight=25.0,
                               convention=convention)
    ref = vicreg_loss(z_a, z_b, cov_weight=0.0, convention=convention)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-12)


def test_entropy_term_rewards_spread_and_bad_inputs():
    z_a, z_b = _views(16, 3, 2)
    for est in ("logdet", "kl", "bhattacharyya"):
        base = vicreg_entropy_loss(z_a, z_a, estimator=est, sim_weight=0.0)
        wide = vicreg_entropy_loss(3 * z_a, 3 * z_a, estimator=est, sim_weight=0.0)
        assert float(wide) < float(base)  # scaling up the batch raises each entropy estimate
    with pytest.raises(ValueError, match="estimator"):
        vicreg_entropy_loss(z_a, z_b, estimator="knn")
    with pytest.raises(ValueError, match="sigma"):
        vicreg_entropy_loss(z_a, z_b, estimator="kl", sigma=0.0)
