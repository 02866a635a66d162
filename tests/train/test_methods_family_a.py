"""The issue-5 methods: registry builds them, and each loss is its objective on the same embeddings."""
import pytest
import torch

from mitheory import objectives as obj
from mitheory import train as tr
from mitheory.train._methods_family_a import ERBYOL, ERSimCLR, VICRegEntropy

NEW = ("vicreg_logdet", "vicreg_kl", "vicreg_bhattacharyya", "er_simclr", "er_byol")


def _batch(seed=0, n=16, d=6):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randn(n, d, generator=g)


@pytest.mark.parametrize("name", NEW)
def test_registered_and_built(name):
    assert name in tr.method_names()
    m = tr.make_method(name, dim_in=6, dim_out=4, hidden=(8,))
    assert isinstance(m, (VICRegEntropy, ERSimCLR, ERBYOL)) and m.name == name


@pytest.mark.parametrize("est", ("logdet", "kl", "bhattacharyya"))
def test_vicreg_entropy_loss_equals_objective(est):
    m = tr.make_method(f"vicreg_{est}", dim_in=6, dim_out=4, hidden=(8,), sigma=0.7)
    xa, xb = _batch()
    with torch.no_grad():
        want = obj.vicreg_entropy_loss(m.encoder(xa), m.encoder(xb), estimator=est, sigma=0.7)
        got = m.loss(xa, xb)
    # same function on the same float32 embeddings: equal up to float32 rounding
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)


def test_er_simclr_loss_equals_objective_on_sphere():
    m = tr.make_method("er_simclr", dim_in=6, dim_out=4, hidden=(8,), kappa=5.0)
    xa, xb = _batch(1)
    with torch.no_grad():
        za, zb = m.encoder(xa), m.encoder(xb)
        want = obj.er_simclr_loss(za, zb, kappa=5.0)
        got = m.loss(xa, xb)
    torch.testing.assert_close(za.norm(dim=1), torch.ones(len(za)))  # sphere output layer
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)


def test_er_byol_loss_equals_objective_and_ema_moves_target():
    m = tr.make_method("er_byol", dim_in=6, dim_out=4, hidden=(8,), base_momentum=0.5)
    xa, xb = _batch(2)
    with torch.no_grad():
        za, zb = m.encoder(xa), m.encoder(xb)
        want = obj.er_byol_loss(m.predictor(za), m.predictor(zb), m.target(xa), m.target(xb),
                                online_a=za, online_b=zb)
        got = m.loss(xa, xb)
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)
    # EMA at momentum m: target <- m*target + (1-m)*online (cosine schedule at step 0 = base)
    with torch.no_grad():
        for p in m.encoder.parameters():
            p.add_(1.0)
    before = [p.clone() for p in m.target.parameters()]
    m.after_step(0, 10)
    mom = obj.cosine_momentum(0.5, 0, 10)
    for t0, t1, o in zip(before, m.target.parameters(), m.encoder.parameters()):
        torch.testing.assert_close(t1, mom * t0 + (1 - mom) * o)
    assert all(not p.requires_grad for p in m.target.parameters())


def test_bad_estimator_rejected():
    enc = torch.nn.Linear(3, 2)
    with pytest.raises(ValueError, match="estimator"):
        VICRegEntropy(enc, estimator="renyi")
