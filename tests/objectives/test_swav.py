"""SwAV: Sinkhorn-Knopp and the swapped loss against the official code re-typed (1 process)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mitheory.objectives import SwAVQueue, sinkhorn_knopp, swav_loss


def _official_sinkhorn(out, epsilon=0.05, iters=3):
    # facebookresearch/swav@5e073db main_swav.py::distributed_sinkhorn, world_size 1, re-typed
    q = torch.exp(out / epsilon).t()
    b, k = q.shape[1], q.shape[0]
    q /= torch.sum(q)
    for _ in range(iters):
        q /= torch.sum(q, dim=1, keepdim=True)
        q /= k
        q /= torch.sum(q, dim=0, keepdim=True)
        q /= b
    q *= b
    return q.t()


def _official_loss(output_a, output_b, temperature=0.1, **kw):
    # main_swav.py train(): crops_for_assign [0, 1], nmb_crops [2], no queue
    outputs = [output_a, output_b]
    loss = 0
    for crop_id in (0, 1):
        q = _official_sinkhorn(outputs[crop_id].detach(), **kw)
        v = 1 - crop_id
        loss = loss - torch.mean(torch.sum(q * F.log_softmax(outputs[v] / temperature, dim=1), 1))
    return loss / 2


def _scores(n, k, seed):
    g = torch.Generator().manual_seed(seed)
    z = F.normalize(torch.randn(n, 6, generator=g, dtype=torch.float64), dim=1)
    c = F.normalize(torch.randn(k, 6, generator=g, dtype=torch.float64), dim=1)
    return z @ c.T


def test_sinkhorn_matches_official_and_hand_computation():
    s = _scores(12, 5, 0)
    torch.testing.assert_close(sinkhorn_knopp(s), _official_sinkhorn(s), rtol=1e-12, atol=1e-14)
    # one iteration by hand (numpy loops), epsilon 0.5
    small = np.array([[0.2, -0.1, 0.5], [0.0, 0.3, -0.4]])
    q = np.exp(small / 0.5).T
    q /= q.sum()
    for r in range(3):
        q[r] /= q[r].sum() * 3
    for c in range(2):
        q[:, c] /= q[:, c].sum() * 2
    want = (q * 2).T
    got = sinkhorn_knopp(torch.tensor(small), epsilon=0.5, n_iters=1).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def test_sinkhorn_properties():
    s = _scores(40, 8, 1)
    q = sinkhorn_knopp(s, n_iters=500)
    # rows sum to 1 exactly (last step); columns reach B/K as the iterations converge
    # (linear convergence: measured max error 1.4 at 3 iterations, 2.6e-4 at 100, ~1e-15 at 500)
    torch.testing.assert_close(q.sum(1), torch.ones(40, dtype=torch.float64), rtol=0, atol=1e-12)
    torch.testing.assert_close(q.sum(0), torch.full((8,), 5.0, dtype=torch.float64),
                               rtol=0, atol=1e-10)
    errs = [float((sinkhorn_knopp(s, n_iters=k).sum(0) - 5).abs().max()) for k in (1, 3, 30)]
    assert errs[0] > errs[1] > errs[2]
    # the max shift keeps float32 codes finite where exp(s / eps) overflows (s > 88 * eps)
    big = 5.0 * s.float()
    assert torch.isfinite(sinkhorn_knopp(big)).all()
    assert not torch.isfinite(_official_sinkhorn(big)).all()
    with pytest.raises(ValueError, match="underflow"):
        sinkhorn_knopp(torch.tensor([[0.0, -10.0], [0.0, -10.0]]), epsilon=0.05)
    assert not sinkhorn_knopp(s.requires_grad_(True)).requires_grad


@pytest.mark.parametrize("temperature", [0.1, 0.5])
def test_loss_matches_official_values_and_gradients(temperature):
    a = _scores(10, 7, 2).requires_grad_(True)
    b = _scores(10, 7, 3).requires_grad_(True)
    ours = swav_loss(a, b, temperature=temperature)
    ref = _official_loss(a, b, temperature=temperature)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-14)
    for g1, g2 in zip(torch.autograd.grad(ours, (a, b)), torch.autograd.grad(ref, (a, b))):
        torch.testing.assert_close(g1, g2, rtol=1e-12, atol=1e-14)


def test_hand_loss_one_sample_two_prototypes():
    a = torch.tensor([[0.3, -0.2]], dtype=torch.float64)
    b = torch.tensor([[0.1, 0.4]], dtype=torch.float64)
    # with one sample, the final column normalisation makes each code the row-normalised q
    qa = _official_sinkhorn(a)[0].numpy()
    qb = _official_sinkhorn(b)[0].numpy()
    lpa = a[0].numpy() / 0.1 - np.log(np.exp(a[0].numpy() / 0.1).sum())
    lpb = b[0].numpy() / 0.1 - np.log(np.exp(b[0].numpy() / 0.1).sum())
    want = 0.5 * (-(qa * lpb).sum() - (qb * lpa).sum())
    assert float(swav_loss(a, b)) == pytest.approx(want, abs=1e-12)


def test_queue_fifo_and_scores_in_loss():
    queue = SwAVQueue(4, 3).double()
    protos = F.normalize(torch.randn(5, 3, generator=torch.Generator().manual_seed(4),
                                     dtype=torch.float64), dim=1)
    first = torch.arange(6, dtype=torch.float64).reshape(2, 3)
    second = -torch.arange(6, dtype=torch.float64).reshape(2, 3) - 1
    assert queue.scores(protos) is None
    queue.update(first)
    assert queue.scores(protos) is None  # not full yet
    queue.update(second)
    torch.testing.assert_close(queue.queue, torch.cat([second, first]))  # newest first
    queued = queue.scores(protos)
    torch.testing.assert_close(queued, torch.cat([second, first]) @ protos.T)
    a, b = _scores(3, 5, 5), _scores(3, 5, 6)
    got = swav_loss(a, b, queue_scores_a=queued, queue_scores_b=queued)
    qa = _official_sinkhorn(torch.cat([queued, a]))[-3:]
    qb = _official_sinkhorn(torch.cat([queued, b]))[-3:]
    want = 0.5 * (-(qa * F.log_softmax(b / 0.1, 1)).sum(1).mean()
                  - (qb * F.log_softmax(a / 0.1, 1)).sum(1).mean())
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="queue scores"):
        swav_loss(a, b, queue_scores_a=queued[:, :2])


def test_bad_inputs():
    s = _scores(4, 3, 7)
    with pytest.raises(ValueError, match="epsilon"):
        sinkhorn_knopp(s, epsilon=0.0)
    with pytest.raises(ValueError, match="temperature"):
        swav_loss(s, s, temperature=-1.0)
    with pytest.raises(ValueError, match="shape"):
        SwAVQueue(2, 3).update(torch.ones(3, 3))
    assert math.isfinite(float(swav_loss(s, s)))
