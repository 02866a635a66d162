"""MEC against the official loss_func re-typed; Taylor vs exact log det; lambda schedule."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mitheory.objectives import mec_lamda_inv, mec_lamda_inv_schedule, mec_loss


def _official_loss_func(p, z, lamda_inv, order=4):
    # xinliu20/MEC@35045dc main_pretrain.py::loss_func without gather_from_all, re-typed
    p, z = F.normalize(p), F.normalize(z)
    c = p @ z.T / lamda_inv
    power, total = c, torch.zeros_like(c)
    for k in range(1, order + 1):
        if k > 1:
            power = torch.matmul(power, c)
        total = total + power / k if (k + 1) % 2 == 0 else total - power / k
    return torch.trace(total)


def _official_total(p1, p2, z1, z2, lamda_inv, m):
    mec = (_official_loss_func(p1, z2, lamda_inv)
           + _official_loss_func(p2, z1, lamda_inv)) * 0.5 / m
    return -1 * mec * lamda_inv


def _views(m, d, seed):
    g = torch.Generator().manual_seed(seed)
    base = torch.randn(m, d, generator=g, dtype=torch.float64)
    return [base + 0.5 * torch.randn(m, d, generator=g, dtype=torch.float64) for _ in range(4)]


def test_matches_official_values_and_gradients():
    m, d = 12, 16
    p1, p2, z1, z2 = _views(m, d, 0)
    p1.requires_grad_(True)
    p2.requires_grad_(True)
    lam_inv = mec_lamda_inv(m, d)  # = m * 64 / d = 48
    ours = mec_loss(p1, p2, z1, z2)
    ref = _official_total(p1, p2, z1, z2, lam_inv, m)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-14)
    for g1, g2 in zip(torch.autograd.grad(ours, (p1, p2)), torch.autograd.grad(ref, (p1, p2))):
        torch.testing.assert_close(g1, g2, rtol=1e-10, atol=1e-14)


def test_lamda_inv_matches_official_arithmetic_and_schedule():
    m, d, eps = 1024, 2048, 64.0
    eps_d = eps / d
    lamda = 1 / (m * eps_d)  # main_pretrain.py
    assert mec_lamda_inv(m, d, eps_sq=eps) == pytest.approx(1 / lamda, rel=1e-15)
    sched = mec_lamda_inv_schedule(20, base=1 / lamda, warmup_steps=5)
    want = np.concatenate([np.linspace(8 / lamda, 1 / lamda, 5), np.ones(15) / lamda])
    np.testing.assert_allclose(sched, want, rtol=1e-15, atol=0)


def test_taylor_converges_to_exact_logdet():
    m, d = 10, 8
    p1, p2, z1, z2 = _views(m, d, 1)
    lam_inv = 4.0 * m  # ||C||_2 <= m / lam_inv = 0.25: well inside the convergence region
    exact = float(mec_loss(p1, p2, z1, z2, lamda_inv=lam_inv, method="exact"))
    errs = [abs(float(mec_loss(p1, p2, z1, z2, lamda_inv=lam_inv, order=k)) - exact)
            for k in (1, 2, 4, 30)]
    assert errs[0] > errs[1] > errs[2] > errs[3]
    assert errs[3] < 1e-12  # geometric tail 0.25^31 times a bounded factor


def test_hand_order2_two_samples():
    p1 = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    z2 = torch.tensor([[1.0, 1.0], [0.0, 1.0]], dtype=torch.float64)
    c = p1.numpy() @ (z2.numpy() / np.linalg.norm(z2.numpy(), axis=1, keepdims=True)).T / 4.0
    trace_series = np.trace(c) - np.trace(c @ c) / 2
    # symmetric pair (p2, z1) = (p1, z2) doubles nothing: mean of two equal traces
    want = -4.0 * trace_series / 2  # -lamda_inv * (2 * trace) * 0.5 / m, m = 2
    got = mec_loss(p1, p1, z2, z2, lamda_inv=4.0, order=2)
    assert float(got) == pytest.approx(want, abs=1e-14)


def test_teacher_detached_and_bad_inputs():
    p1, p2, z1, z2 = _views(6, 4, 2)
    z1.requires_grad_(True)
    loss = mec_loss(p1.requires_grad_(True), p2, z1, z2)
    (gz,) = torch.autograd.grad(loss, z1, allow_unused=True)
    assert gz is None
    with pytest.raises(ValueError, match="z_b must have the shape"):
        mec_loss(p1, p2, z1, z2[:, :3])
    with pytest.raises(ValueError, match="method"):
        mec_loss(p1, p2, z1, z2, method="svd")
    with pytest.raises(ValueError, match="warmup_steps"):
        mec_lamda_inv_schedule(3, base=1.0, warmup_steps=4)
