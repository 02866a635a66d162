"""Invertible MLP mixing (cl-ica construct_invertible_mlp)."""
import numpy as np
import pytest
import torch

from mitheory._rng import as_generator
from mitheory.generative import MixingMLP, make_mixing_mlp

DIM = 6


@pytest.fixture(scope="module")
def g64():
    return make_mixing_mlp(DIM, n_layers=3, n_iter_cond_thresh=2000, cond_thresh_ratio=0.01,
                           seed=0, dtype=torch.float64)


def test_inverse_is_exact_float64(g64):
    z = torch.randn(500, DIM, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    # float64 with condition numbers ~5: round-off ~1e-15, far below 1e-10
    torch.testing.assert_close(g64.inverse(g64(z)), z, rtol=0, atol=1e-10)
    x = torch.randn(500, DIM, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(g64(g64.inverse(x)), x, rtol=0, atol=1e-10)


def test_log_abs_det_jacobian_matches_autograd(g64):
    z = torch.randn(20, DIM, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    ours = g64.log_abs_det_jacobian(z)
    for i in range(len(z)):
        jac = torch.autograd.functional.jacobian(lambda v: g64(v[None])[0], z[i])
        # the Jacobian is exact (piecewise linear); float64 round-off
        assert ours[i].item() == pytest.approx(torch.linalg.slogdet(jac)[1].item(), abs=1e-10)


def test_structure_matches_lin_act_lin_act_lin(g64):
    # slow twin: explicit W3 act(W2 act(W1 z)) with LeakyReLU(0.2) between layers only
    w = [lin.weight for lin in g64.layers]
    assert len(w) == 3 and all(lin.bias is None for lin in g64.layers)

    def act(h):
        return torch.where(h > 0, h, 0.2 * h)

    z = torch.randn(50, DIM, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    ref = act(act(z @ w[0].T) @ w[1].T) @ w[2].T
    torch.testing.assert_close(g64(z), ref, rtol=0, atol=1e-12)
    assert not any(p.requires_grad for p in g64.parameters())


def test_columns_normalised_and_conditioned(g64):
    for lin in g64.layers:
        w = lin.weight.numpy()
        # column L2 norms are 1 up to float64 round-off
        np.testing.assert_allclose(np.linalg.norm(w, axis=0), 1.0, atol=1e-12)
    assert max(g64.cond_numbers) <= g64.cond_threshold
    np.testing.assert_allclose(g64.cond_numbers,
                               [np.linalg.cond(lin.weight.numpy()) for lin in g64.layers])


@pytest.mark.parametrize("ratio", [0.0, 0.01, 0.25])
def test_threshold_is_pool_quantile_like_cl_ica(ratio):
    n_iter, dim = 300, 4
    g = make_mixing_mlp(dim, n_iter_cond_thresh=n_iter, cond_thresh_ratio=ratio, seed=7)
    # slow twin of the pool: one matrix at a time from the same stream, cl-ica's indexing
    rng = as_generator(7)
    conds = []
    for _ in range(n_iter):
        a = rng.uniform(-1, 1, (dim, dim))
        conds.append(np.linalg.cond(a / np.linalg.norm(a, axis=0)))
    assert g.cond_threshold == pytest.approx(sorted(conds)[int(n_iter * ratio)], rel=1e-12)
    assert max(g.cond_numbers) <= g.cond_threshold


def test_same_seed_same_mixing_and_float32_default():
    a = make_mixing_mlp(DIM, n_iter_cond_thresh=200, seed=5)
    b = make_mixing_mlp(DIM, n_iter_cond_thresh=200, seed=5)
    assert a.layers[0].weight.dtype == torch.float32
    for la, lb in zip(a.layers, b.layers):
        torch.testing.assert_close(la.weight, lb.weight, rtol=0, atol=0)
    c = make_mixing_mlp(DIM, n_iter_cond_thresh=200, seed=6)
    assert not torch.equal(a.layers[0].weight, c.layers[0].weight)


def test_bad_input():
    with pytest.raises(ValueError, match="cond_thresh_ratio"):
        make_mixing_mlp(3, cond_thresh_ratio=1.0, seed=0)
    with pytest.raises(ValueError, match="n_layers"):
        make_mixing_mlp(3, n_layers=0, seed=0)
    with pytest.raises(ValueError, match="negative_slope"):
        MixingMLP([np.eye(2)], negative_slope=0.0)
    with pytest.raises(ValueError, match="weights\\[1\\]"):
        MixingMLP([np.eye(2), np.eye(3)])
