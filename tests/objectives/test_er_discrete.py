"""Discrete ER: hand computations and the released apple code's formulas re-typed."""
import math

import numpy as np
import pytest
import torch

from mitheory.objectives import (
    entropy_discrete,
    er_discrete_loss,
    reconstruction_discrete,
)


def _probs(n, k, seed, scale=2.0):
    g = torch.Generator().manual_seed(seed)
    return torch.softmax(scale * torch.randn(n, k, generator=g, dtype=torch.float64), dim=1)


def _released_entropy_discrete(p, reduction):
    # apple/ml-entropy-reconstruction@f523f11, entropy(support="discrete"), re-typed
    m = p.mean(0)
    if reduction == "expectation":
        return -(m * torch.log(m + 1e-7)).sum()
    return -torch.log(m + 1e-7).mean()


def _released_reconstruction_discrete(p1, p2):
    # apple/ml-entropy-reconstruction@f523f11, reconstruction(support="discrete"), re-typed
    r1 = -torch.sum(p1 * torch.log(p2 + 1e-7), dim=-1)
    r2 = -torch.sum(p2 * torch.log(p1 + 1e-7), dim=-1)
    return (0.5 * (r1 + r2)).mean()


def test_entropy_hand_computation():
    p = torch.tensor([[0.5, 0.5, 0.0], [0.1, 0.2, 0.7]], dtype=torch.float64)
    p_bar = np.array([0.3, 0.35, 0.35])
    want = -sum(q * math.log(q + 1e-7) for q in p_bar)
    want_avg = -sum(math.log(q + 1e-7) for q in p_bar) / 3
    # float64 arithmetic on 3 numbers: 1e-12
    assert float(entropy_discrete(p)) == pytest.approx(want, abs=1e-12)
    assert float(entropy_discrete(p, reduction="average")) == pytest.approx(want_avg, abs=1e-12)


@pytest.mark.parametrize("reduction", ["expectation", "average"])
def test_entropy_matches_released_formula(reduction):
    p = _probs(17, 6, seed=1)
    # identical float64 operations: 1e-12
    torch.testing.assert_close(
        entropy_discrete(p, reduction=reduction),
        _released_entropy_discrete(p, reduction),
        rtol=0,
        atol=1e-12,
    )


def test_reconstruction_hand_and_released():
    p1 = torch.tensor([[0.9, 0.1], [0.2, 0.8]], dtype=torch.float64)
    p2 = torch.tensor([[0.6, 0.4], [0.5, 0.5]], dtype=torch.float64)
    e = 1e-7
    loops = 0.0
    for i in range(2):
        ab = -sum(p1[i, c] * math.log(p2[i, c] + e) for c in range(2))
        ba = -sum(p2[i, c] * math.log(p1[i, c] + e) for c in range(2))
        loops += 0.5 * (ab + ba) / 2
    assert float(reconstruction_discrete(p1, p2)) == pytest.approx(float(loops), abs=1e-12)
    pa, pb = _probs(9, 5, 2), _probs(9, 5, 3)
    torch.testing.assert_close(
        reconstruction_discrete(pa, pb), _released_reconstruction_discrete(pa, pb),
        rtol=0, atol=1e-12,
    )


def test_entropy_extremes_and_average_reduction_quirk():
    k = 4
    uniform = torch.eye(k, dtype=torch.float64)  # batch-mean assignment is uniform
    collapsed = torch.zeros(k, k, dtype=torch.float64)
    collapsed[:, 0] = 1.0
    # expectation: log K at equipartition, ~0 at collapse (eps terms are ~1e-7 * 16)
    assert float(entropy_discrete(uniform)) == pytest.approx(math.log(k), abs=1e-6)
    assert float(entropy_discrete(collapsed)) == pytest.approx(0.0, abs=1e-6)
    # "average" as released is H(U, p_bar): log K at equipartition and LARGER at collapse,
    # ((K-1)/K) * log(1e7) up to 1e-7 -- the documented quirk
    assert float(entropy_discrete(uniform, reduction="average")) == pytest.approx(
        math.log(k), abs=1e-6
    )
    want = -(math.log(1 + 1e-7) + (k - 1) * math.log(1e-7)) / k
    assert float(entropy_discrete(collapsed, reduction="average")) == pytest.approx(want, abs=1e-9)


def test_er_discrete_loss_combination_and_gradient():
    pa = _probs(8, 5, 4).requires_grad_(True)
    pb = _probs(8, 5, 5).requires_grad_(True)
    w = 0.7
    loss = er_discrete_loss(pa, pb, entropy_weight=w)
    want = _released_reconstruction_discrete(pa, pb) - w * 0.5 * (
        _released_entropy_discrete(pa, "expectation")
        + _released_entropy_discrete(pb, "expectation")
    )
    torch.testing.assert_close(loss, want, rtol=0, atol=1e-12)
    g1 = torch.autograd.grad(loss, (pa, pb))
    g2 = torch.autograd.grad(want, (pa, pb))
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


def test_bad_inputs():
    logits = torch.randn(4, 3)
    with pytest.raises(ValueError, match="sum to 1"):
        entropy_discrete(logits.abs())
    with pytest.raises(ValueError, match="non-negative"):
        entropy_discrete(torch.tensor([[1.5, -0.5]]))
    with pytest.raises(ValueError, match="reduction"):
        entropy_discrete(torch.eye(3), reduction="mean")
    with pytest.raises(ValueError, match="same shape"):
        reconstruction_discrete(torch.eye(3), torch.eye(4)[:3])
