"""MINC pieces: alpha f-MI bound, second-moment EMA, non-contrastive loss, GHA."""

import numpy as np
import pytest
import torch

from mitheory.objectives import (
    GHA,
    SecondMomentEMA,
    f_alpha,
    f_mi_alpha_loss,
    gha_step,
    minc_loss,
)
from mitheory.objectives import spectral_contrastive_loss


def _randn(*shape, seed, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(*shape, generator=g, dtype=torch.float64)


def test_f_alpha_closed_forms_and_limits():
    u = torch.tensor([0.2, 0.9, 1.0, 2.5], dtype=torch.float64)
    torch.testing.assert_close(f_alpha(u, 2.0), (u - 1) ** 2 / 2, rtol=0, atol=1e-15)
    torch.testing.assert_close(f_alpha(u, 1.0), u * torch.log(u) - u + 1, rtol=0, atol=1e-15)
    # the general formula approaches the KL / reverse-KL branches (O(|alpha - limit|) gap)
    torch.testing.assert_close(f_alpha(u, 1.0 + 1e-7), f_alpha(u, 1.0), rtol=0, atol=1e-6)
    torch.testing.assert_close(f_alpha(u, 1e-7), f_alpha(u, 0.0), rtol=0, atol=1e-6)
    assert float(f_alpha(torch.tensor(1.0), 0.5)) == 0.0


def test_alpha2_equals_half_spectral_plus_half():
    z_a, z_b = _randn(12, 4, seed=0, scale=0.2), _randn(12, 4, seed=1, scale=0.2)
    assert float(torch.linalg.vector_norm(z_a, dim=1).max()) < 1  # no clipping at mu = 1
    got = f_mi_alpha_loss(z_a, z_b, alpha=2.0)
    want = 0.5 * spectral_contrastive_loss(z_a, z_b, mu=1.0) + 0.5
    torch.testing.assert_close(got, want, rtol=0, atol=1e-13)


def test_hand_loop_alpha_half_exp_ratio():
    z_a, z_b = _randn(4, 3, seed=2, scale=0.5), _randn(4, 3, seed=3, scale=0.5)
    a = 0.5
    r = np.exp(z_a.numpy() @ z_b.numpy().T)
    joint = np.mean([(r[i, i] ** (a - 1) - 1) / (a - 1) for i in range(4)])
    marg = np.mean([(r[i, j] ** a - 1) / a for i in range(4) for j in range(4) if i != j])
    got = float(f_mi_alpha_loss(z_a, z_b, alpha=a, ratio="exp"))
    assert got == pytest.approx(-(joint - marg), abs=1e-13)
    # alpha = 1: E_P[log r] - E_Q[r - 1]  (the KL / NWJ form)
    joint1 = np.mean(np.log(np.diag(r)))
    marg1 = np.mean([r[i, j] - 1 for i in range(4) for j in range(4) if i != j])
    got1 = float(f_mi_alpha_loss(z_a, z_b, alpha=1.0, ratio="exp"))
    assert got1 == pytest.approx(-(joint1 - marg1), abs=1e-13)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0, 3.0])
def test_bound_is_tight_at_true_ratio_monte_carlo(alpha):
    # discrete joint p(x, y); z_a = row of the true ratio R, z_b = one-hot(y), so r_ij = R[x_i, y_j]
    p = np.array([[0.20, 0.05, 0.05], [0.05, 0.25, 0.05], [0.02, 0.08, 0.25]])
    px, py = p.sum(1), p.sum(0)
    ratio = p / np.outer(px, py)
    true_if = float(np.sum(np.outer(px, py) * f_alpha(torch.tensor(ratio), alpha).numpy()))
    rng = np.random.default_rng(int(alpha * 10))
    reps = []
    for _ in range(20):
        idx = rng.choice(9, size=400, p=p.ravel())
        x, y = idx // 3, idx % 3
        z_a = torch.tensor(ratio[x])
        z_b = torch.eye(3, dtype=torch.float64)[y]
        reps.append(-float(f_mi_alpha_loss(z_a, z_b, alpha=alpha)))
    se = np.std(reps, ddof=1) / np.sqrt(len(reps))
    assert abs(np.mean(reps) - true_if) < 5 * se  # unbiased estimate of I_f; 5 standard errors
    assert true_if > 0.1  # a non-trivial dependence


def test_linear_ratio_needs_positive_products_unless_alpha2():
    z_a, z_b = _randn(6, 3, seed=4), _randn(6, 3, seed=5)
    assert torch.isfinite(f_mi_alpha_loss(z_a, z_b, alpha=2.0))
    with pytest.raises(ValueError, match="positive inner products"):
        f_mi_alpha_loss(z_a, z_b, alpha=1.5)
    with pytest.raises(ValueError, match="ratio"):
        f_mi_alpha_loss(z_a, z_b, ratio="softplus")


def test_second_moment_ema_updates():
    ema = SecondMomentEMA(3, decay=0.8).double()
    z1, z2 = _randn(10, 3, seed=6), _randn(7, 3, seed=7)
    c1, c2 = z1.T @ z1 / 10, z2.T @ z2 / 7
    ema.update(z1)
    torch.testing.assert_close(ema.moment, c1, rtol=0, atol=1e-14)  # first update copies
    ema.update(z2)
    torch.testing.assert_close(ema.moment, 0.8 * c1 + 0.2 * c2, rtol=0, atol=1e-14)
    assert int(ema.n_updates) == 2
    with pytest.raises(ValueError, match="columns"):
        ema.update(_randn(4, 2, seed=8))
    with pytest.raises(ValueError, match="decay"):
        SecondMomentEMA(3, decay=1.5)


def test_minc_full_value_and_gradient_vs_spectral():
    n = 8
    z_a = _randn(n, 4, seed=9, scale=0.2).requires_grad_(True)
    z_b = _randn(n, 4, seed=10, scale=0.2)
    c = z_b.T @ z_b / n
    loss = minc_loss(z_a, z_b, c)
    za = z_a.detach()
    want = sum(-2 * float(za[i] @ z_b[i]) + float(za[i] @ c @ za[i]) for i in range(n)) / n
    assert float(loss.detach()) == pytest.approx(want, abs=1e-14)
    (g_minc,) = torch.autograd.grad(loss, z_a)
    (g_spec,) = torch.autograd.grad(spectral_contrastive_loss(z_a, z_b, mu=1.0), z_a)
    # spectral gradient for anchor i uses the leave-one-out moment (n C - z_b,i z_b,i^T)/(n-1)
    for i in range(n):
        loo = (n * c - torch.outer(z_b[i], z_b[i])) / (n - 1)
        diff = 2 / n * ((c - loo) @ z_a[i])
        torch.testing.assert_close(g_minc[i] - g_spec[i], diff.detach(), rtol=0, atol=1e-14)


def test_minc_gha_value_and_field():
    n = 6
    z = _randn(n, 3, seed=11).requires_grad_(True)
    t = _randn(n, 3, seed=12)
    c = t.T @ t / n
    lt = torch.tril(c)
    loss = minc_loss(z, t, c, decorrelation="gha")
    want = (-2 * (z * t).sum(1) + ((z @ lt.T) * z).sum(1)).mean()
    torch.testing.assert_close(loss, want, rtol=0, atol=1e-14)
    (g,) = torch.autograd.grad(loss, z)
    torch.testing.assert_close(g, (2 / n * (-t + z @ lt.T)).detach(), rtol=0, atol=1e-14)
    with pytest.raises(ValueError, match="moment must have shape"):
        minc_loss(z, t, torch.eye(2, dtype=torch.float64))


def test_gha_step_hand_and_convergence_to_ordered_eigenvectors():
    w = torch.tensor([[1.0, 0.0], [0.5, 0.5]], dtype=torch.float64)
    x = torch.tensor([[1.0, 2.0], [-1.0, 0.5]], dtype=torch.float64)
    y = x @ w.T
    want = w + 0.1 * (y.T @ x / 2 - torch.tril(y.T @ y / 2) @ w)
    torch.testing.assert_close(gha_step(w, x, lr=0.1), want, rtol=0, atol=1e-15)

    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    sd = np.sqrt([4.0, 2.0, 1.0, 0.3, 0.1])
    gha = GHA(5, 3, lr=0.05, seed=0)
    g = torch.Generator().manual_seed(1)
    qt = torch.tensor(q, dtype=torch.float32)
    for _ in range(600):
        x = (torch.randn(256, 5, generator=g) * torch.tensor(sd, dtype=torch.float32)) @ qt.T
        gha.update(x)
    w = gha.weights.double().numpy()
    for k in range(3):  # row k -> k-th eigenvector (column k of q), unit norm
        cos = abs(w[k] @ q[:, k]) / np.linalg.norm(w[k])
        assert cos > 0.99, (k, cos)  # sampling noise of 256-sample moments, lr 0.05
        assert np.linalg.norm(w[k]) == pytest.approx(1.0, abs=0.05)
