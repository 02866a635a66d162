"""Effective rank of a representation's covariance spectrum (Roy & Vetterli 2007)."""
import numpy as np
import pytest

from mitheory import stats


def test_effective_rank_isotropic_rank_one_and_closed_form():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((4000, 8))
    # sample eigenvalues of an isotropic 8-dim covariance at n=4000 spread by ~sqrt(8/4000)
    # ~ 4.5%: the entropy loss is second order, well under 1% of dim
    assert stats.effective_rank(z) == pytest.approx(8.0, rel=0.01)
    rank1 = rng.standard_normal((500, 1)) @ rng.standard_normal((1, 8))
    assert stats.effective_rank(rank1) == pytest.approx(1.0, abs=1e-6)  # eigh round-off only
    # closed form on a known spectrum (1, 1, 2): p = (1/4, 1/4, 1/2)
    w = rng.standard_normal((3000, 3))
    w = (w - w.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(w, rowvar=False))).T
    z3 = w * np.sqrt([1.0, 1.0, 2.0])
    p = np.array([0.25, 0.25, 0.5])
    assert stats.effective_rank(z3) == pytest.approx(np.exp(-(p * np.log(p)).sum()), rel=1e-9)
    with pytest.raises(ValueError, match="zero covariance"):
        stats.effective_rank(np.ones((10, 3)))


def test_off_diagonal_ratio_closed_form_batch_and_input_types():
    import torch

    a, b, c = 2.0, 0.5, -0.7
    # two off-diagonal entries c: sqrt(2 c^2 / (a^2 + b^2 + 2 c^2)) (float64 round-off)
    want = np.sqrt(2 * c * c / (a * a + b * b + 2 * c * c))
    m = np.array([[a, c], [c, b]])
    assert stats.off_diagonal_ratio(m) == pytest.approx(want, rel=1e-14)
    batch = torch.as_tensor(np.stack([m, np.diag([a, b]), np.ones((2, 2))]))
    got = stats.off_diagonal_ratio(batch)
    # same matrix through torch: identical; diagonal: exactly 0; all-ones: sqrt(2/4)
    assert got.shape == (3,) and got[0] == stats.off_diagonal_ratio(m) and got[1] == 0.0
    assert got[2] == pytest.approx(np.sqrt(0.5), rel=1e-15)
    with pytest.raises(ValueError, match="all-zero"):
        stats.off_diagonal_ratio(np.zeros((2, 2)))
