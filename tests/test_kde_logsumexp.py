"""``mitheory._kde.logsumexp``: torch.logsumexp's value and gradient, with the floored terms."""
import math

import pytest
import torch

from mitheory._kde import logsumexp


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("spread", [1.0, 300.0, 1e5])
def test_matches_torch_logsumexp(dtype, spread):
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(64, 257, generator=g, dtype=dtype) * spread).requires_grad_()
    ours, ref = logsumexp(x, 1), torch.logsumexp(x, 1)
    # value: the floored terms are below half an ulp of the sum, so only summation-order
    # rounding differs: a few ulps of the result
    eps = torch.finfo(dtype).eps
    torch.testing.assert_close(ours, ref, rtol=8 * eps, atol=8 * eps)
    (g_ours,) = torch.autograd.grad(ours.sum(), x)
    (g_ref,) = torch.autograd.grad(ref.sum(), x)
    # gradient = softmax weights; the floored ones are < exp(-80) and set to 0. torch computes
    # a weight as exp(x - lse): the rounding of lse is amplified by |x - lse| <= 2 max|x|
    cond = 2 * float(x.detach().abs().max())
    torch.testing.assert_close(g_ours, g_ref, rtol=8 * eps * (1 + cond), atol=2 * math.exp(-80))


def test_other_dim_and_infinite_entries():
    x = torch.tensor([[0.0, -math.inf, 1.0], [-math.inf, -math.inf, -math.inf]])
    out = logsumexp(x, 1)
    assert out[0].item() == pytest.approx(math.log(1 + math.e), rel=1e-6)
    assert out[1].item() == -math.inf  # as torch.logsumexp of an all -inf row
    torch.testing.assert_close(logsumexp(x[:1].T, 0), out[:1])


def _chain(x, dim, floor=-80.0):
    """The same floored log-sum-exp through autograd's chain (the reference backward)."""
    m = x.detach().amax(dim, keepdim=True)
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    return m.squeeze(dim) + torch.log(torch.exp((x - m).clamp_min(floor)).sum(dim))


def test_written_backward_is_autograds_chain_outside_the_floor():
    g = torch.Generator().manual_seed(1)
    x = (torch.randn(32, 300, generator=g) * 40).requires_grad_()  # many floored terms
    w = torch.randn(32, generator=g)
    ours, ref = logsumexp(x, 1), _chain(x, 1)
    assert torch.equal(ours, ref)  # the same operations in the same order
    (g_ours,) = torch.autograd.grad((ours * w).sum(), x)
    (g_ref,) = torch.autograd.grad((ref * w).sum(), x)
    floored = (x - x.amax(1, keepdim=True)).detach() < -80.0
    assert floored.any() and (~floored).any()
    assert torch.equal(g_ours[~floored], g_ref[~floored])
    # floored terms: their softmax weight exp(floor) / sum times |w|, instead of the clamp's 0
    bound = math.exp(-80.0) * w.abs().max().item()
    assert g_ref[floored].abs().max() == 0 and g_ours[floored].abs().max() <= bound


def test_an_all_minus_inf_row_has_zero_gradient():
    x = torch.tensor([[0.0, -math.inf, 1.0], [-math.inf, -math.inf, -math.inf]],
                     requires_grad=True)
    # gradient 1 on both rows: the finite row's is its softmax, the all -inf row's is 0
    (grad,) = torch.autograd.grad(logsumexp(x, 1), x, grad_outputs=torch.ones(2))
    torch.testing.assert_close(grad[0], torch.softmax(x.detach()[0], 0))
    assert torch.equal(grad[1], torch.zeros(3))
