"""Gradient spread of a method over independent mini-batches, encoder fixed."""
import pytest

from mitheory import generative, train as tr


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
