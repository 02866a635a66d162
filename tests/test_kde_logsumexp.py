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
