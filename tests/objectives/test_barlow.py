"""Barlow Twins against a loop computation and the official main.py formula re-typed."""
import math

import pytest
import torch
from torch import nn

from mitheory.objectives import barlow_twins_loss

RTOL = 1e-12  # float64, summation order only

ZA = [[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]]
ZB = [[1.5, 2.0], [-0.5, -0.5], [2.0, 1.0]]


def _hand(za, zb, lam, eps=1e-5):
    n, d = len(za), len(za[0])

    def standardise(z):
        out = [[0.0] * d for _ in range(n)]
        for j in range(d):
            col = [r[j] for r in z]
            m = sum(col) / n
            v = sum((c - m) ** 2 for c in col) / n  # biased, as BatchNorm in training mode
            for i in range(n):
                out[i][j] = (z[i][j] - m) / math.sqrt(v + eps)
        return out

    a, b = standardise(za), standardise(zb)
    loss = 0.0
    for i in range(d):
        for j in range(d):
            cij = sum(a[k][i] * b[k][j] for k in range(n)) / n
            loss += (1 - cij) ** 2 if i == j else lam * cij ** 2
    return loss


@pytest.mark.parametrize("lam", [0.0051, 1.0])
def test_hand(lam):
    got = barlow_twins_loss(torch.tensor(ZA, dtype=torch.float64),
                            torch.tensor(ZB, dtype=torch.float64), lambda_offdiag=lam)
    assert float(got) == pytest.approx(_hand(ZA, ZB, lam), rel=RTOL)


def test_matches_official_code():
    # facebookresearch/barlowtwins main.py BarlowTwins.forward (single process), re-typed
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(2, 12, 5, generator=g, dtype=torch.float64)
    bn = nn.BatchNorm1d(5, affine=False).double()

    def off_diagonal(x):
        n, m = x.shape
        return x.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()

    c = bn(z1).T @ bn(z2)
    c.div_(12)
    on_diag = torch.diagonal(c).add_(-1).pow_(2).sum()
    off_diag = off_diagonal(c).pow_(2).sum()
    ref = on_diag + 0.0051 * off_diag
    assert float(barlow_twins_loss(z1, z2)) == pytest.approx(float(ref), rel=RTOL)


def test_bad_input():
    z = torch.tensor(ZA)
    with pytest.raises(ValueError, match="lambda_offdiag"):
        barlow_twins_loss(z, z, lambda_offdiag=-0.1)
    with pytest.raises(ValueError, match="same shape"):
        barlow_twins_loss(z, z[:2])
