"""InfoNCE forms against hand computations and the cl-ica / ssl_identifiability formulas."""
import math

import numpy as np
import pytest
import torch

from mitheory.objectives import infonce_loss

# float64 throughout: the only error is summation order, ~1e-15 relative; 1e-12 leaves margin.
RTOL = 1e-12

ZA = [[0.6, 0.8], [1.0, 0.0], [0.0, -1.0]]
ZB = [[0.8, 0.6], [0.6, -0.8], [-0.6, -0.8]]
ZN = [[-1.0, 0.0], [0.0, 1.0]]


def _t(x):
    return torch.tensor(x, dtype=torch.float64)


def _hand(za, zb, zneg, tau, sim, mean_denominator):
    """Per-anchor loss written out with loops: -s(a_i, b_i) + log sum_{v in negs + pos} e^s."""
    def s(u, v):
        if sim == "dot":
            return sum(x * y for x, y in zip(u, v)) / tau
        return -sum((x - y) ** 2 for x, y in zip(u, v)) / tau

    losses = []
    for i, a in enumerate(za):
        cands = [zb[i]] + (list(zneg) if zneg is not None else [zb[j] for j in range(len(zb))
                                                                 if j != i])
        total = sum(math.exp(s(a, v)) for v in cands)
        denom = math.log(total / len(cands)) if mean_denominator else math.log(total)
        losses.append(-s(a, zb[i]) + denom)
    return sum(losses) / len(losses)


@pytest.mark.parametrize("sim", ["dot", "l2sq"])
@pytest.mark.parametrize("denominator", ["logsumexp", "logmeanexp"])
@pytest.mark.parametrize("tau", [1.0, 0.3])
@pytest.mark.parametrize("with_neg", [False, True])
def test_infonce_hand(sim, denominator, tau, with_neg):
    zneg = ZN if with_neg else None
    got = infonce_loss(_t(ZA), _t(ZB), None if zneg is None else _t(zneg), tau=tau,
                       similarity=sim, denominator=denominator)
    want = _hand(ZA, ZB, zneg, tau, sim, denominator == "logmeanexp")
    assert float(got) == pytest.approx(want, rel=RTOL)


def _clica_simclr(z1, z2, z3, tau, alpha=0.5):
    # brendel-group/cl-ica losses.py SimCLRLoss.loss (normalize=False), re-typed
    neg = torch.einsum("ij,kj -> ik", z1, z3)
    pos = torch.einsum("ij,ij -> i", z1, z2)
    neg_and_pos = torch.cat((neg, pos.unsqueeze(1)), dim=1)
    loss_pos = -pos / tau
    loss_neg = torch.logsumexp(neg_and_pos / tau, dim=1)
    return torch.mean(2 * (alpha * loss_pos + (1.0 - alpha) * loss_neg))


def _lp_simclr(z1, z2, z3, tau, compat, alpha=0.5):
    # cl-ica LpSimCLRLoss(p=2, pow=True, simclr_compatibility_mode=True) and
    # ssl_identifiability LpSimCLRLoss() (compat False, simclr_denominator True), re-typed
    neg = torch.pow(z1.unsqueeze(1) - z3.unsqueeze(0), 2.0).sum(dim=-1)
    pos = torch.pow(z1 - z2, 2.0).sum(dim=-1)
    neg_and_pos = torch.cat((neg, pos.unsqueeze(1)), dim=1)
    loss_pos = pos / tau
    if compat:
        loss_neg = torch.logsumexp(-neg_and_pos / tau, dim=1)
    else:
        x = -neg_and_pos / tau
        loss_neg = torch.logsumexp(x, dim=1) - math.log(x.shape[1])
    return torch.mean(2 * (alpha * loss_pos + (1.0 - alpha) * loss_neg))


@pytest.mark.parametrize("tau", [1.0, 0.5])
def test_matches_official_formulas(tau):
    g = torch.Generator().manual_seed(0)
    z1 = torch.nn.functional.normalize(torch.randn(7, 4, generator=g, dtype=torch.float64), dim=1)
    z2 = torch.nn.functional.normalize(z1 + 0.3 * torch.randn(7, 4, generator=g,
                                                              dtype=torch.float64), dim=1)
    z3 = torch.roll(z1, 1, 0)  # cl-ica's negatives
    assert float(infonce_loss(z1, z2, z3, tau=tau)) == pytest.approx(
        float(_clica_simclr(z1, z2, z3, tau)), rel=RTOL)
    h1, h2 = 2 * z1, 2 * z2 + 0.1  # non-normalised outputs for the Lp forms
    h3 = torch.randn(5, 4, generator=g, dtype=torch.float64)  # fresh marginal negatives
    for compat, den in ((True, "logsumexp"), (False, "logmeanexp")):
        got = infonce_loss(h1, h2, h3, tau=tau, similarity="l2sq", denominator=den)
        assert float(got) == pytest.approx(float(_lp_simclr(h1, h2, h3, tau, compat)), rel=RTOL)


def test_in_batch_equals_cross_entropy():
    # in-batch form = cross-entropy of logits z_a z_b^T / tau with the diagonal as label
    g = torch.Generator().manual_seed(1)
    za, zb = torch.randn(2, 6, 3, generator=g, dtype=torch.float64)
    ce = torch.nn.functional.cross_entropy(za @ zb.T / 0.7, torch.arange(6))
    assert float(infonce_loss(za, zb, tau=0.7)) == pytest.approx(float(ce), rel=RTOL)


def test_logmeanexp_shift_is_log_candidates():
    za, zb, zn = _t(ZA), _t(ZB), _t(ZN)
    for neg, n_cand in ((None, 3), (zn, 3)):
        d = infonce_loss(za, zb, neg) - infonce_loss(za, zb, neg, denominator="logmeanexp")
        assert float(d) == pytest.approx(math.log(n_cand), rel=RTOL)


def test_gradient_flows():
    za = _t(ZA).requires_grad_()
    zb = _t(ZB).requires_grad_()
    infonce_loss(za, zb, similarity="l2sq").backward()
    assert za.grad is not None and zb.grad is not None
    assert np.all(np.isfinite(za.grad.numpy())) and float(za.grad.abs().sum()) > 0


def test_bad_input():
    za, zb = _t(ZA), _t(ZB)
    with pytest.raises(ValueError, match="same shape"):
        infonce_loss(za, zb[:2])
    with pytest.raises(ValueError, match="similarity"):
        infonce_loss(za, zb, similarity="cos")
    with pytest.raises(ValueError, match="denominator"):
        infonce_loss(za, zb, denominator="mean")
    with pytest.raises(ValueError, match="tau"):
        infonce_loss(za, zb, tau=0.0)
    with pytest.raises(ValueError, match="z_neg"):
        infonce_loss(za, zb, torch.zeros(4, 3, dtype=torch.float64))
    bad = za.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match="z_a"):
        infonce_loss(bad, zb)
    with pytest.raises(ValueError, match="at least 2"):
        infonce_loss(za[:1], zb[:1])
    with pytest.raises(TypeError):
        infonce_loss(np.asarray(ZA), zb)
