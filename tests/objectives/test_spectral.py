"""Spectral contrastive loss against the official formula re-typed and a loop computation."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mitheory.objectives import clip_norm, spectral_contrastive_loss


def _official_D(z1, z2, mu=1.0):
    # jhaochenz96/spectral_contrastive_learning@ee745a2 models/spectral.py::D, re-typed
    m1 = (torch.norm(z1, p=2, dim=1) < np.sqrt(mu)).float().unsqueeze(1).to(z1.dtype)
    m2 = (torch.norm(z2, p=2, dim=1) < np.sqrt(mu)).float().unsqueeze(1).to(z2.dtype)
    z1 = m1 * z1 + (1 - m1) * F.normalize(z1, dim=1) * np.sqrt(mu)
    z2 = m2 * z2 + (1 - m2) * F.normalize(z2, dim=1) * np.sqrt(mu)
    part1 = -2 * torch.mean(z1 * z2) * z1.shape[1]
    sq = torch.matmul(z1, z2.T) ** 2
    part2 = torch.mean(torch.triu(sq, diagonal=1) + torch.tril(sq, diagonal=-1)) * (
        z1.shape[0] / (z1.shape[0] - 1)
    )
    return (part1 + part2) / mu


def _mixed_norm_batch(n, d, seed, mu):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, d, generator=g, dtype=torch.float64)
    scales = torch.linspace(0.3, 2.0, n, dtype=torch.float64).unsqueeze(1) * math.sqrt(mu)
    return F.normalize(z, dim=1) * scales  # half the rows inside sqrt(mu), half outside


@pytest.mark.parametrize("mu", [1.0, 10.0])
def test_matches_official_formula_values_and_gradients(mu):
    z_a = _mixed_norm_batch(10, 6, 0, mu).requires_grad_(True)
    z_b = _mixed_norm_batch(10, 6, 1, mu).requires_grad_(True)
    ours = spectral_contrastive_loss(z_a, z_b, mu=mu)
    ref = _official_D(z_a, z_b, mu=mu)
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-12)  # float64, same operations
    for g1, g2 in zip(torch.autograd.grad(ours, (z_a, z_b)), torch.autograd.grad(ref, (z_a, z_b))):
        torch.testing.assert_close(g1, g2, rtol=0, atol=1e-12)


def test_hand_loop_computation_and_symmetry():
    z_a = torch.tensor([[0.1, 0.2], [0.3, -0.1], [-0.2, 0.4]], dtype=torch.float64)
    z_b = torch.tensor([[0.2, 0.1], [0.1, -0.3], [-0.1, 0.5]], dtype=torch.float64)
    n = 3
    pos = -2 / n * sum(float(z_a[i] @ z_b[i]) for i in range(n))
    neg = sum(float(z_a[i] @ z_b[j]) ** 2 for i in range(n) for j in range(n) if i != j)
    want = pos + neg / (n * (n - 1))
    assert float(spectral_contrastive_loss(z_a, z_b)) == pytest.approx(want, abs=1e-14)
    assert float(spectral_contrastive_loss(z_b, z_a)) == pytest.approx(want, abs=1e-14)


def test_clip_norm():
    z = torch.tensor([[3.0, 4.0], [0.3, 0.4], [0.0, 2.0]], dtype=torch.float64)
    out = clip_norm(z, mu=4.0)  # sqrt(mu) = 2
    want = torch.tensor([[1.2, 1.6], [0.3, 0.4], [0.0, 2.0]], dtype=torch.float64)
    torch.testing.assert_close(out, want, rtol=0, atol=1e-15)


def test_bad_inputs():
    with pytest.raises(ValueError, match="mu"):
        spectral_contrastive_loss(torch.randn(4, 2), torch.randn(4, 2), mu=0.0)
    with pytest.raises(ValueError, match="same shape"):
        spectral_contrastive_loss(torch.randn(4, 2), torch.randn(5, 2))
    with pytest.raises(ValueError, match="not finite"):
        spectral_contrastive_loss(torch.full((4, 2), float("nan")), torch.randn(4, 2))
