"""NT-Xent against a loop over the 2N anchors (cosine similarity, self excluded)."""
import math

import pytest
import torch
import torch.nn.functional as F

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


def _official_simclr(hidden1, hidden2, temperature, large_num=1e9):
    # google-research/simclr tf2/objective.py add_contrastive_loss (one replica), re-typed in
    # torch: hidden_norm=True, logits_aa/bb masked by subtracting LARGE_NUM,
    # loss = reduce_mean(loss_a + loss_b)
    hidden1 = F.normalize(hidden1, dim=-1)
    hidden2 = F.normalize(hidden2, dim=-1)
    batch_size = hidden1.shape[0]
    labels = torch.arange(batch_size)  # one_hot(range(B), 2B): positive in logits_ab
    masks = torch.eye(batch_size, dtype=hidden1.dtype)
    logits_aa = hidden1 @ hidden1.T / temperature - masks * large_num
    logits_bb = hidden2 @ hidden2.T / temperature - masks * large_num
    logits_ab = hidden1 @ hidden2.T / temperature
    logits_ba = hidden2 @ hidden1.T / temperature
    loss_a = F.cross_entropy(torch.cat([logits_ab, logits_aa], 1), labels, reduction="none")
    loss_b = F.cross_entropy(torch.cat([logits_ba, logits_bb], 1), labels, reduction="none")
    return torch.mean(loss_a + loss_b)


def test_official_code_is_twice_ours():
    g = torch.Generator().manual_seed(2)
    za, zb = torch.randn(2, 6, 4, generator=g, dtype=torch.float64)
    ours = nt_xent_loss(za, zb, tau=0.2)
    assert float(_official_simclr(za, zb, 0.2)) == pytest.approx(2 * float(ours), rel=RTOL)
