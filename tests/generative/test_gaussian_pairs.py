"""sample_correlated_pairs: the law it states (moments within sampling error) and determinism."""
import numpy as np
import pytest

from mitheory.generative import sample_correlated_pairs

N, RHO = 20000, 0.8


def test_moments_are_those_of_the_stated_law():
    x, y = sample_correlated_pairs(N, 3, rho=RHO, seed=1)
    c = np.corrcoef(np.hstack([x, y]), rowvar=False)
    # sd of a sample correlation r: (1 - r^2) / sqrt(n); 5 sd over 15 entries (0.007 at r=0)
    se = lambda r: (1 - r**2) / np.sqrt(N)  # noqa: E731
    for i in range(3):
        assert c[i, 3 + i] == pytest.approx(RHO, abs=5 * se(RHO))  # matching coordinates
        for j in range(3):
            if j != i:  # no other dependence
                assert abs(c[i, 3 + j]) < 5 * se(0) and abs(c[i, j]) < 5 * se(0)
    # unit variances: the sample variance's sd is sqrt(2 / n) = 0.01; 5 sd
    assert np.var(x, axis=0) == pytest.approx(np.ones(3), abs=5 * np.sqrt(2 / N))
    assert np.var(y, axis=0) == pytest.approx(np.ones(3), abs=5 * np.sqrt(2 / N))


def test_stream_is_x_first_then_the_noise():
    x, y = sample_correlated_pairs(50, 2, rho=0.3, seed=4)
    rng = np.random.default_rng(4)
    x2 = rng.standard_normal((50, 2))
    y2 = 0.3 * x2 + np.sqrt(1 - 0.09) * rng.standard_normal((50, 2))
    assert np.array_equal(x, x2) and np.array_equal(y, y2)  # same seed, same numbers


@pytest.mark.parametrize("kw,name", [({"rho": 1.0}, "rho"), ({"rho": np.nan}, "rho"),
                                     ({"n": 0}, "n"), ({"dim": 0}, "dim")])
def test_bad_input_names_the_argument(kw, name):
    args = {"n": 10, "dim": 2, "rho": 0.5, **kw}
    with pytest.raises(ValueError, match=name):
        sample_correlated_pairs(args["n"], args["dim"], rho=args["rho"], seed=0)
