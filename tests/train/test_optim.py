"""LARS, the parameter groups and the warmup + cosine schedule against hand computations."""
import math

import pytest
import torch
from torch import nn

from mitheory.train import LARS, param_groups, warmup_cosine


def _linear(w, b):
    m = nn.Linear(1, 1)
    with torch.no_grad():
        m.weight.fill_(w)
        m.bias.fill_(b)
    return m


def _step(opt, m, x=2.0):
    opt.zero_grad()
    m(torch.tensor([[x]])).sum().backward()  # d/dw = x, d/db = 1
    opt.step()


def test_lars_two_steps_by_hand():
    # w = 3, b = 1, loss = 2 w + b: grad_w = 2, grad_b = 1; lr 0.1, wd 0.5, eta 0.01, mom 0.9.
    # w: d = 2 + 0.5*3 = 3.5, trust = 0.01*3/3.5, so d -> 0.03; mu = 0.03; w = 3 - 0.003
    # b (1-D: no decay, no trust ratio): mu = 1; b = 1 - 0.1 = 0.9
    m = _linear(3.0, 1.0)
    opt = LARS(m.parameters(), lr=0.1, weight_decay=0.5, eta=0.01, momentum=0.9)
    _step(opt, m)
    # float32 parameters: 1e-6 relative
    assert m.weight.item() == pytest.approx(2.997, rel=1e-6)
    assert m.bias.item() == pytest.approx(0.9, rel=1e-6)
    # second step: d_w -> 0.01 * 2.997 (trust times |d| = eta |w|); mu = 0.027 + 0.02997
    # b: mu = 0.9 + 1 = 1.9; b = 0.9 - 0.19
    _step(opt, m)
    assert m.weight.item() == pytest.approx(2.997 - 0.1 * (0.9 * 0.03 + 0.01 * 2.997), rel=1e-6)
    assert m.bias.item() == pytest.approx(0.71, rel=1e-6)


def test_lars_trust_ratio_on_a_vector_and_at_zero_norm():
    w = nn.Parameter(torch.tensor([3.0, 4.0]).reshape(1, 2))  # ||w|| = 5
    z = nn.Parameter(torch.zeros(1, 2))  # ||w|| = 0: trust ratio 1
    opt = LARS([w, z], lr=1.0, weight_decay=0.0, eta=0.01, momentum=0.0)
    ((w * torch.tensor([[1.0, 2.0]])).sum() + (z * torch.tensor([[1.0, 2.0]])).sum()).backward()
    opt.step()
    # g = (1, 2), ||g|| = sqrt 5: step = eta * 5 / sqrt 5 * g = 0.01 sqrt 5 (1, 2)
    r5 = math.sqrt(5.0)
    # float32: 1e-6 relative
    assert w.detach().flatten().tolist() == pytest.approx([3 - 0.01 * r5, 4 - 0.02 * r5], rel=1e-6)
    assert z.detach().flatten().tolist() == pytest.approx([-1.0, -2.0], rel=1e-6)


def test_lars_group_exclusion_flag():
    # lars_exclude=True on a group: plain momentum SGD even for a 2-D weight
    w = nn.Parameter(torch.tensor([[3.0]]))
    opt = LARS([{"params": [w], "lars_exclude": True}], lr=0.1, weight_decay=0.5, eta=0.01)
    (2 * w).sum().backward()
    opt.step()
    assert w.item() == pytest.approx(3.0 - 0.1 * 2.0, rel=1e-6)  # float32


def test_param_groups_split_biases_and_norms():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.LayerNorm(4), nn.Linear(4, 2))
    decay, no_decay = param_groups(model, 0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert {id(p) for p in decay["params"]} == {id(model[0].weight), id(model[3].weight)}
    assert len(no_decay["params"]) == 6  # two biases, BN weight+bias, LN weight+bias
    assert all(p.ndim == 1 for p in no_decay["params"])
    torch.optim.AdamW(param_groups(model, 0.1), lr=1e-3)  # AdamW accepts the groups
    with pytest.raises(ValueError, match="weight_decay"):
        param_groups(model, -1.0)


def test_warmup_cosine_by_hand():
    kw = {"total": 10, "warmup": 2, "base_lr": 1.0, "final_lr": 0.1}
    # exact arithmetic in float64: 1e-12
    assert warmup_cosine(0, **kw) == 0.0
    assert warmup_cosine(1, **kw) == pytest.approx(0.5, abs=1e-12)
    assert warmup_cosine(2, **kw) == pytest.approx(1.0, abs=1e-12)  # warmup end: base_lr
    assert warmup_cosine(6, **kw) == pytest.approx(0.55, abs=1e-12)  # middle: cos(pi/2) = 0
    assert warmup_cosine(9, **kw) == pytest.approx(
        0.1 + 0.9 * 0.5 * (1 + math.cos(7 * math.pi / 8)), abs=1e-12)  # last step taken
    assert warmup_cosine(10, **kw) == pytest.approx(0.1, abs=1e-12)
    assert warmup_cosine(0, 5, 0, 2.0) == 2.0  # no warmup: starts at base_lr


@pytest.mark.parametrize("bad, match", [({"step": 11}, "step"), ({"warmup": 10}, "warmup"),
                                        ({"base_lr": 0.0}, "base_lr")])
def test_warmup_cosine_rejects_bad_input(bad, match):
    kw = {"step": 0, "total": 10, "warmup": 2, "base_lr": 1.0, **bad}
    with pytest.raises(ValueError, match=match):
        warmup_cosine(**kw)


def test_minimise_adam_matches_a_hand_written_adam_loop_and_records():
    from mitheory.train import minimise

    def quad(w):
        return ((w - torch.tensor([1.0, -2.0], dtype=torch.float64)) ** 2).sum()

    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    recs = minimise(lambda: quad(w), [w], steps=7, lr=0.1, record_every=3,
                    record=lambda s, v: {"step": s, "loss": float(v)})
    ref = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt, want = torch.optim.Adam([ref], lr=0.1), []
    for s in range(8):  # the independent loop: record before the update at 0, 3, 6
        loss = quad(ref)
        if s % 3 == 0:
            want.append({"step": s, "loss": float(loss)})
        if s < 7:
            opt.zero_grad()
            loss.backward()
            opt.step()
    assert torch.equal(w, ref) and recs == want  # same operations in the same order: exact


def test_minimise_lbfgs_solves_a_quadratic():
    from mitheory.train import minimise

    a = torch.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
    b = torch.tensor([1.0, -1.0], dtype=torch.float64)
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    assert minimise(lambda: 0.5 * w @ a @ w - b @ w, [w], steps=50, lr=1,
                    optimiser="lbfgs") == []
    # the minimiser A^{-1} b; L-BFGS on a 2-d quadratic converges to round-off
    assert torch.allclose(w.detach(), torch.linalg.solve(a, b), atol=1e-10)
    with pytest.raises(ValueError, match="record"):
        minimise(lambda: (w ** 2).sum(), [w], steps=2, lr=1, optimiser="lbfgs",
                 record=lambda s, v: {})
