import numpy as np
import pytest
import torch

from mitheory import generative, objectives as obj, train as tr


def _x(seed, n=64, d=6):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name,kw,fn", [
    ("mmi", {"order": 3, "beta": "frobenius"},
     lambda a, b: obj.mmi_loss(a, b, method="taylor", order=3, beta="frobenius")),
    ("mmi", {"logdet": "exact"}, lambda a, b: obj.mmi_loss(a, b, method="exact")),
    ("spectral", {"mu": 2.0}, lambda a, b: obj.spectral_contrastive_loss(a, b, mu=2.0)),
    ("fmi_alpha", {"alpha": 1.5}, lambda a, b: obj.f_mi_alpha_loss(a, b, alpha=1.5, ratio="exp")),
])
def test_registry_loss_equals_objective(name, kw, fn):
    m = tr.make_method(name, dim_in=6, dim_out=3, hidden=(8,), **kw)
    xa, xb = _x(0), _x(1)
    with torch.no_grad():
        expected = fn(m.encoder(xa), m.encoder(xb))
        # same inputs, same modules: identical up to float32 summation order (none here)
        assert float(m.loss(xa, xb)) == pytest.approx(float(expected), rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("decorrelation", ["full", "gha"])
def test_minc_loss_equals_objective_with_updated_moment(decorrelation):
    m = tr.make_method("minc", dim_in=6, dim_out=3, hidden=(8,), decorrelation=decorrelation,
                       moment_decay=0.5)
    xa, xb = _x(0), _x(1)
    m.loss(_x(2), _x(3))  # first batch fills the moment EMA
    prev = m.moment.moment.clone()
    with torch.no_grad():
        got = m.loss(xa, xb)
        ta, tb = m.target(xa), m.target(xb)
        t = torch.cat([ta, tb])
        c = 0.5 * prev + 0.5 * t.T @ t / t.shape[0]  # EMA update by hand, decay 0.5
        za, zb = m.encoder(xa), m.encoder(xb)
        want = 0.5 * (obj.minc_loss(za, tb, c, decorrelation=decorrelation)
                      + obj.minc_loss(zb, ta, c, decorrelation=decorrelation))
    torch.testing.assert_close(m.moment.moment, c, rtol=1e-6, atol=1e-7)  # float32 rounding
    assert float(got) == pytest.approx(float(want), rel=1e-6, abs=1e-7)


def test_minc_target_ema_and_options():
    m = tr.make_method("minc", dim_in=4, dim_out=2, hidden=(5,), base_momentum=0.9)
    with torch.no_grad():
        for p in m.encoder.parameters():
            p.add_(1.0)
    before = [p.clone() for p in m.target.parameters()]
    m.after_step(0, 10)  # cosine schedule at step 0 gives the base momentum 0.9
    for t, o, b in zip(m.target.parameters(), m.encoder.parameters(), before):
        torch.testing.assert_close(t, 0.9 * b + 0.1 * o)
    with pytest.raises(ValueError, match="decorrelation"):
        tr.make_method("minc", dim_in=4, dim_out=2, decorrelation="lower")
    with pytest.raises(ValueError, match="logdet"):
        tr.make_method("mmi", dim_in=4, dim_out=2, logdet="cholesky")


def test_effective_rank_isotropic_rank_one_and_closed_form():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((4000, 8))
    # sample eigenvalues of an isotropic 8-dim covariance at n=4000 spread by ~sqrt(8/4000)
    # ~ 4.5%: the entropy loss is second order, well under 1% of dim
    assert tr.effective_rank(z) == pytest.approx(8.0, rel=0.01)
    rank1 = rng.standard_normal((500, 1)) @ rng.standard_normal((1, 8))
    assert tr.effective_rank(rank1) == pytest.approx(1.0, abs=1e-6)  # eigh round-off only
    # closed form on a known spectrum (1, 1, 2): p = (1/4, 1/4, 1/2)
    w = rng.standard_normal((3000, 3))
    w = (w - w.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(w, rowvar=False))).T
    z3 = w * np.sqrt([1.0, 1.0, 2.0])
    p = np.array([0.25, 0.25, 0.5])
    assert tr.effective_rank(z3) == pytest.approx(np.exp(-(p * np.log(p)).sum()), rel=1e-9)
    with pytest.raises(ValueError, match="zero covariance"):
        tr.effective_rank(np.ones((10, 3)))


def test_gradient_variance_shrinks_like_one_over_batch():
    proc = generative.make_process("cs_p1.0", seed=0)
    m = tr.make_method("spectral", dim_in=proc.dim_x, dim_out=3, hidden=(16,))
    small = tr.gradient_variance(m, proc, batch_size=32, n_batches=24, seed=0)
    big = tr.gradient_variance(m, proc, batch_size=256, n_batches=24, seed=1)
    # a mean of B roughly independent terms: tr Cov ~ 1/B, so x8 batch -> /8; the spread of a
    # 24-batch variance estimate (~ sqrt(2/23) ~ 30% each) allows a factor in [3, 20]
    assert 3.0 < small["total_variance"] / big["total_variance"] < 20.0
    assert small["mean_grad"].shape == (sum(p.numel() for p in m.encoder.parameters()),)
    with pytest.raises(ValueError, match="n_batches"):
        tr.gradient_variance(m, proc, batch_size=32, n_batches=1)
