"""mi_after_maps: each row is the three estimators on the mapped view; linear maps leave the
second-order estimates unchanged exactly."""
import numpy as np
import pytest

from mitheory.generative import sample_correlated_pairs
from mitheory.info import mi_after_maps, mi_gaussian_plugin, mi_ksg, mi_logdet

A = np.array([[2.0, 1.0], [0.5, -1.5]])  # invertible (det -3.5)


@pytest.fixture(scope="module")
def pair():
    return sample_correlated_pairs(300, 2, rho=0.7, seed=0)


def test_rows_are_the_estimators_on_the_mapped_view(pair):
    x, y = pair
    rows = mi_after_maps(x, y, {"identity": lambda v: v, "exp": np.exp}, k=3, seed=7)
    assert [r["map"] for r in rows] == ["identity", "exp"]
    for r, fy in zip(rows, (y, np.exp(y))):
        # the same calls made directly: bitwise equal (KSG gets the same int seed)
        assert r["gaussian"] == mi_gaussian_plugin(x, fy).value
        assert r["logdet"] == mi_logdet(x, fy).value
        assert r["ksg"] == mi_ksg(x, fy, k=3, seed=7).value


def test_second_order_estimates_are_invariant_under_linear_maps(pair):
    x, y = pair
    ident, lin = mi_after_maps(x, y, {"identity": lambda v: v, "linear": lambda v: v @ A.T})
    # log det(A S A^T) = log det S + 2 log|det A| cancels: float64 round-off only
    assert lin["gaussian"] == pytest.approx(ident["gaussian"], abs=1e-10)
    # KSG standardises each column but not their mixtures: it moves, within its noise
    assert lin["ksg"] != ident["ksg"]


def test_bad_input_names_the_argument(pair):
    x, y = pair
    with pytest.raises(ValueError, match="maps"):
        mi_after_maps(x, y, {})
    with pytest.raises(TypeError, match="maps"):
        mi_after_maps(x, y, {"f": 3.0})
    with pytest.raises(ValueError, match="y"):
        mi_after_maps(x, y[:10], {"identity": lambda v: v})
