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
