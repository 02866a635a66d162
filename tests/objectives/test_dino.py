"""DINO loss, center EMA and temperature schedule against the official DINOLoss re-typed."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mitheory.objectives import DINOCenter, dino_loss, teacher_temp_schedule


class _OfficialDINOLoss:
    """facebookresearch/dino main_dino.py::DINOLoss, re-typed for one process."""

    def __init__(self, out_dim, ncrops, teacher_temp, student_temp=0.1, center_momentum=0.9):
        self.student_temp, self.center_momentum, self.ncrops = student_temp, center_momentum, ncrops
        self.teacher_temp = teacher_temp
        self.center = torch.zeros(1, out_dim, dtype=torch.float64)

    def __call__(self, student_output, teacher_output):
        student_out = (student_output / self.student_temp).chunk(self.ncrops)
        teacher_out = F.softmax((teacher_output - self.center) / self.teacher_temp, dim=-1)
        teacher_out = teacher_out.detach().chunk(2)
        total, n = 0, 0
        for iq, q in enumerate(teacher_out):
            for v in range(len(student_out)):
                if v == iq:
                    continue
                total += torch.sum(-q * F.log_softmax(student_out[v], dim=-1), dim=-1).mean()
                n += 1
        total /= n
        with torch.no_grad():
            batch_center = torch.sum(teacher_output, dim=0, keepdim=True) / len(teacher_output)
            self.center = self.center * self.center_momentum + batch_center * (
                1 - self.center_momentum)
        return total


@pytest.mark.parametrize("n_local", [0, 2])
def test_matches_official_over_three_steps(n_local):
    out_dim, n, ncrops = 7, 5, 2 + n_local
    g = torch.Generator().manual_seed(0)
    official = _OfficialDINOLoss(out_dim, ncrops, teacher_temp=0.04)
    center = DINOCenter(out_dim).double()
    for _ in range(3):
        s = torch.randn(ncrops * n, out_dim, generator=g, dtype=torch.float64, requires_grad=True)
        t = torch.randn(2 * n, out_dim, generator=g, dtype=torch.float64)
        ref = official(s, t)
        ours = dino_loss(list(s.chunk(ncrops)), list(t.chunk(2)), center.center)
        center.update(list(t.chunk(2)))
        torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-13)
        (g1,) = torch.autograd.grad(ours, s)
        (g2,) = torch.autograd.grad(ref, s)
        torch.testing.assert_close(g1, g2, rtol=1e-12, atol=1e-13)
        torch.testing.assert_close(center.center, official.center, rtol=0, atol=1e-14)


def test_hand_computation_two_views():
    s_a = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    s_b = torch.tensor([[0.0, 0.5]], dtype=torch.float64)
    t_a = torch.tensor([[0.2, 0.1]], dtype=torch.float64)
    t_b = torch.tensor([[-0.1, 0.3]], dtype=torch.float64)
    c = torch.tensor([[0.05, -0.05]], dtype=torch.float64)

    def softmax(x):
        e = np.exp(x - x.max())
        return e / e.sum()

    qa = softmax((t_a[0].numpy() - c[0].numpy()) / 0.04)
    qb = softmax((t_b[0].numpy() - c[0].numpy()) / 0.04)
    pa, pb = softmax(s_a[0].numpy() / 0.1), softmax(s_b[0].numpy() / 0.1)
    want = 0.5 * (-(qa * np.log(pb)).sum() - (qb * np.log(pa)).sum())
    assert float(dino_loss([s_a, s_b], [t_a, t_b], c)) == pytest.approx(want, abs=1e-12)
    center = DINOCenter(2, momentum=0.9).double()
    center.update([t_a, t_b])
    want_c = 0.1 * (t_a + t_b) / 2
    torch.testing.assert_close(center.center, want_c, rtol=0, atol=1e-15)


def test_teacher_temp_schedule():
    sched = teacher_temp_schedule(10, warmup_teacher_temp=0.04, teacher_temp=0.07, warmup_epochs=4)
    want = np.concatenate((np.linspace(0.04, 0.07, 4), np.ones(6) * 0.07))  # official formula
    np.testing.assert_allclose(sched, want, rtol=0, atol=0)
    np.testing.assert_allclose(teacher_temp_schedule(3), [0.04] * 3, rtol=0, atol=0)
    with pytest.raises(ValueError, match="warmup_epochs"):
        teacher_temp_schedule(3, warmup_epochs=5)


def test_bad_inputs():
    x = torch.randn(3, 4)
    with pytest.raises(TypeError, match="sequence"):
        dino_loss(x, [x], torch.zeros(4))
    with pytest.raises(ValueError, match="at least two views"):
        dino_loss([x], [x], torch.zeros(4))
    with pytest.raises(ValueError, match="student_temp"):
        dino_loss([x, x], [x, x], torch.zeros(4), student_temp=0.0)
    with pytest.raises(ValueError, match="columns"):
        DINOCenter(5).update([x])
    assert math.isfinite(float(dino_loss([x, x], [x, x], torch.zeros(4))))
