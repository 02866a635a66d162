"""NT-Xent against a loop over the 2N anchors (cosine similarity, self excluded)."""
import math

import pytest
import torch

from mitheory.objectives import nt_xent_loss

RTOL = 1e-12  # float64, summation order only

ZA = [[3.0, 4.0], [1.0, 0.0], [0.0, -2.0]]
ZB = [[4.0, 3.0], [0.5, -0.5], [-1.0, -1.0]]


def _hand(za, zb, tau):
    def unit(v):
        r = math.sqrt(sum(x * x for x in v))
        return [x / r for x in v]

    u = [unit(v) for v in za] + [unit(v) for v in zb]
    n = len(za)
    total = 0.0
    for k in range(2 * n):
        pk = k + n if k < n else k - n
        s = [sum(x * y for x, y in zip(u[k], u[m])) / tau for m in range(2 * n)]
        total += -s[pk] + math.log(sum(math.exp(s[m]) for m in range(2 * n) if m != k))
    return total / (2 * n)


@pytest.mark.parametrize("tau", [0.5, 1.0, 0.1])
def test_nt_xent_hand(tau):
    za = torch.tensor(ZA, dtype=torch.float64)
    zb = torch.tensor(ZB, dtype=torch.float64)
    assert float(nt_xent_loss(za, zb, tau=tau)) == pytest.approx(_hand(ZA, ZB, tau), rel=RTOL)


def test_symmetric_and_scale_invariant():
    g = torch.Generator().manual_seed(0)
    za, zb = torch.randn(2, 5, 3, generator=g, dtype=torch.float64)
    # swapping views permutes the 2N anchors; rescaling rows is undone by the normalisation
    assert float(nt_xent_loss(za, zb)) == pytest.approx(float(nt_xent_loss(zb, za)), rel=RTOL)
    assert float(nt_xent_loss(3 * za, zb)) == pytest.approx(float(nt_xent_loss(za, zb)), rel=RTOL)


def test_gradient_finite():
    za = torch.tensor(ZA, dtype=torch.float64, requires_grad=True)
    nt_xent_loss(za, torch.tensor(ZB, dtype=torch.float64), tau=0.1).backward()
    assert bool(torch.isfinite(za.grad).all())


def test_bad_input():
    za = torch.tensor(ZA)
    with pytest.raises(ValueError, match="same shape"):
        nt_xent_loss(za, za[:, :1])
    with pytest.raises(ValueError, match="tau"):
        nt_xent_loss(za, za, tau=-1.0)
