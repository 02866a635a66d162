"""ER versions of SimCLR, BYOL, DINO: numpy/scipy hand computations and links to the originals."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import special

from mitheory.objectives import (
    byol_loss,
    dino_loss,
    er_byol_loss,
    er_dino_loss,
    er_simclr_loss,
)


def _log_c(d, kappa):
    # vMF log-normaliser from scipy's Bessel function (independent of log_bessel_iv)
    return (d / 2 - 1) * math.log(kappa) - d / 2 * math.log(2 * math.pi) - math.log(
        special.iv(d / 2 - 1, kappa))


def _kde_entropy_plugin(z, kappa):
    k, d = z.shape
    log_p = np.array([
        math.log(sum(math.exp(kappa * z[i] @ z[j]) for j in range(k)) / k) + _log_c(d, kappa)
        for i in range(k)
    ])
    w = np.exp(log_p - log_p.max())
    w /= w.sum()
    return float(np.sum(w * -log_p))


def _unit(n, d, seed):
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(n, d, generator=g, dtype=torch.float64), dim=1)


def test_er_simclr_hand_computation():
    z_a, z_b = _unit(5, 3, 0), 2.0 * _unit(5, 3, 1)  # z_b is normalised inside
    kappa, w = 4.0, 0.7
    a, b = z_a.numpy(), F.normalize(z_b, dim=1).numpy()
    rec = -np.mean([kappa * a[i] @ b[i] + _log_c(3, kappa) for i in range(5)])
    ent = _kde_entropy_plugin(np.vstack([a, b]), kappa)
    got = er_simclr_loss(z_a, z_b, kappa=kappa, entropy_weight=w)
    assert float(got) == pytest.approx(rec - w * ent, abs=1e-10)  # float64 vs scipy iv


def test_er_byol_rec_is_rescaled_byol_and_targets_get_no_gradient():
    n, d, kappa = 6, 4, 3.0
    p_a, p_b = _unit(n, d, 2).requires_grad_(True), _unit(n, d, 3).requires_grad_(True)
    t_a, t_b = _unit(n, d, 4).requires_grad_(True), _unit(n, d, 5)
    no_ent = er_byol_loss(p_a, p_b, t_a, t_b, kappa=kappa, entropy_weight=0.0)
    byol = 0.5 * (byol_loss(p_a, t_b) + byol_loss(p_b, t_a))
    want = kappa / 2 * byol - kappa - _log_c(d, kappa)
    assert float(no_ent.detach()) == pytest.approx(float(want.detach()), abs=1e-10)
    g_p, g_t = torch.autograd.grad(no_ent, (p_a, t_a), allow_unused=True)
    assert g_t is None and float(g_p.abs().max()) > 0
    # entropy on the online projections when given, else on the predictions
    o_a, o_b = _unit(n, d, 6), _unit(n, d, 7)
    full = er_byol_loss(p_a, p_b, t_a, t_b, online_a=o_a, online_b=o_b, kappa=kappa)
    ent = 0.5 * (_kde_entropy_plugin(o_a.numpy(), kappa) + _kde_entropy_plugin(o_b.numpy(), kappa))
    assert float(full.detach()) == pytest.approx(float(want.detach()) - ent, abs=1e-10)
    with pytest.raises(ValueError, match="both online_a and online_b"):
        er_byol_loss(p_a, p_b, t_a, t_b, online_a=o_a)


def test_er_dino_hand_computation():
    g = torch.Generator().manual_seed(8)
    s = [torch.randn(4, 5, generator=g, dtype=torch.float64, requires_grad=True) for _ in range(2)]
    t = [torch.randn(4, 5, generator=g, dtype=torch.float64) for _ in range(2)]
    w = 0.5
    got = er_dino_loss(s, t, student_temp=0.2, teacher_temp=0.1, entropy_weight=w)
    ent = 0.0
    for sv in s:
        p = torch.softmax(sv.detach() / 0.2, dim=1).numpy().mean(0)
        ent += -np.sum(p * np.log(p + 1e-7)) / 2
    rec = dino_loss(s, t, torch.zeros(5, dtype=torch.float64), student_temp=0.2, teacher_temp=0.1)
    assert float(got.detach()) == pytest.approx(float(rec.detach()) - w * ent, abs=1e-12)
    centred = er_dino_loss(s, t, center=torch.full((1, 5), 0.3, dtype=torch.float64),
                           student_temp=0.2, teacher_temp=0.1, entropy_weight=w)
    # a constant center shifts all teacher logits equally: softmax unchanged
    assert float(centred.detach()) == pytest.approx(float(got.detach()), abs=1e-12)
    grads = torch.autograd.grad(got, s)
    assert all(float(gr.abs().max()) > 0 for gr in grads)
