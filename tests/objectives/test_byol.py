"""BYOL pieces: loss by hand, stop-gradient, EMA update, momentum schedule, predictor shape."""
import math

import pytest
import torch
from torch import nn

from mitheory.models import make_predictor
from mitheory.objectives import byol_loss, cosine_momentum, ema_update_

RTOL = 1e-12  # float64, summation order only

PA = [[3.0, 4.0], [1.0, 0.0], [0.0, -2.0]]
ZB = [[4.0, 3.0], [0.5, -0.5], [-1.0, -1.0]]


def test_loss_hand():
    want = 0.0
    for p, z in zip(PA, ZB):
        cos = (p[0] * z[0] + p[1] * z[1]) / (math.hypot(*p) * math.hypot(*z))
        want += 2 - 2 * cos
    got = byol_loss(torch.tensor(PA, dtype=torch.float64), torch.tensor(ZB, dtype=torch.float64))
    assert float(got) == pytest.approx(want / 3, rel=RTOL)


def test_target_is_detached():
    p = torch.tensor(PA, dtype=torch.float64, requires_grad=True)
    z = torch.tensor(ZB, dtype=torch.float64, requires_grad=True)
    byol_loss(p, z).backward()
    assert z.grad is None and p.grad is not None


def test_ema_update():
    torch.manual_seed(0)
    online, target = make_predictor(3, 5), make_predictor(3, 5)
    online[1].running_mean.fill_(0.7)
    before = {k: v.clone() for k, v in target.state_dict().items()}
    ema_update_(target, online, 0.9)
    on = online.state_dict()
    for name, _ in target.named_parameters():
        want = 0.9 * before[name] + 0.1 * on[name]
        torch.testing.assert_close(target.state_dict()[name], want, rtol=1e-6, atol=1e-7)
    for name, _ in target.named_buffers():  # copied, incl. num_batches_tracked
        assert torch.equal(target.state_dict()[name], on[name])
    with pytest.raises(ValueError, match="names"):
        ema_update_(target, nn.Linear(3, 3), 0.9)
    with pytest.raises(ValueError, match="momentum"):
        ema_update_(target, online, 1.5)


def test_cosine_momentum():
    assert cosine_momentum(0.996, 0, 100) == pytest.approx(0.996, rel=1e-15)
    assert cosine_momentum(0.996, 100, 100) == pytest.approx(1.0, rel=1e-15)
    # halfway: 1 - (1 - b) / 2
    assert cosine_momentum(0.99, 50, 100) == pytest.approx(0.995, rel=1e-14)
    with pytest.raises(ValueError, match="step"):
        cosine_momentum(0.99, 101, 100)
    with pytest.raises(ValueError, match="base"):
        cosine_momentum(1.2, 0, 100)
