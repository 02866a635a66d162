"""Energy distance, MMD and the permutation test against loop twins and scipy; degenerate input."""
import itertools

import numpy as np
import pytest
from scipy import stats

from mitheory.stats import energy_distance, median_bandwidth, mmd_rbf, two_sample_test


def _samples(seed, n=25, m=30, dim=3, shift=0.0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, dim)), rng.standard_normal((m, dim)) + shift


def _energy_loops(x, y):
    d = np.linalg.norm
    xy = np.mean([d(a - b) for a in x for b in y])
    xx = np.mean([d(a - b) for a, b in itertools.permutations(x, 2)])
    yy = np.mean([d(a - b) for a, b in itertools.permutations(y, 2)])
    return 2 * xy - xx - yy


def _mmd_loops(x, y, bw):
    def k(a, b):
        return np.exp(-np.sum((a - b) ** 2) / (2 * bw**2))

    xx = np.mean([k(a, b) for a, b in itertools.permutations(x, 2)])
    yy = np.mean([k(a, b) for a, b in itertools.permutations(y, 2)])
    return xx + yy - 2 * np.mean([k(a, b) for a in x for b in y])


def test_energy_distance_matches_loops():
    x, y = _samples(0, shift=0.5)
    assert energy_distance(x, y) == pytest.approx(_energy_loops(x, y), rel=1e-12)  # round-off


def test_energy_distance_1d_matches_scipy():
    """scipy's statistic is sqrt(2 E|X-Y| - V_xx - V_yy) with plug-in (V) within-sample
    means; ours uses unbiased (U) means, U = n/(n-1) V, so ours = scipy^2 - V_xx/(n-1) - ..."""
    x, y = _samples(1, n=40, m=35, dim=1, shift=0.3)
    v_xx = np.abs(x - x.T).mean()
    v_yy = np.abs(y - y.T).mean()
    expected = stats.energy_distance(x[:, 0], y[:, 0]) ** 2 - v_xx / 39 - v_yy / 34
    assert energy_distance(x, y) == pytest.approx(expected, rel=1e-10)  # float round-off


def test_mmd_matches_loops_and_median_bandwidth():
    x, y = _samples(2, shift=0.5)
    pooled = np.concatenate([x, y])
    dists = [np.linalg.norm(a - b) for a, b in itertools.combinations(pooled, 2)]
    # torch's median of an even count is the lower middle value, not the average; the same
    # float64 distances computed two ways: round-off only
    assert median_bandwidth(x, y) == pytest.approx(np.sort(dists)[(len(dists) - 1) // 2],
                                                   rel=1e-12)
    for bw in (None, 0.7):
        ref_bw = median_bandwidth(x, y) if bw is None else bw
        # loop twin: exp of the same float64 distances, summed in another order; round-off
        assert mmd_rbf(x, y, bandwidth=bw) == pytest.approx(_mmd_loops(x, y, ref_bw), rel=1e-10)


@pytest.mark.parametrize("statistic", ["energy", "mmd"])
def test_permutation_test_statistic_and_power(statistic):
    x, y = _samples(3, n=150, m=150, dim=2, shift=1.0)
    res = two_sample_test(x, y, statistic=statistic, n_permutations=99, seed=0)
    fn = energy_distance if statistic == "energy" else mmd_rbf
    assert res.statistic == pytest.approx(fn(x, y), rel=1e-12)  # same matrix: round-off
    # a one-sd mean shift with n = 150 per side: no permutation comes near (p at its minimum)
    assert res.p_value == pytest.approx(1 / 100)  # 1 / (1 + 99) exactly, up to float division


def test_permutation_test_null_is_calibrated():
    """Under H0 the p-value is uniform: over 40 independent pairs about 5% fall below 0.05."""
    ps = [two_sample_test(*_samples(100 + s, n=40, m=40), n_permutations=49, seed=s).p_value
          for s in range(40)]
    # Binomial(40, 0.05): P(count >= 7) = 0.014
    assert sum(p < 0.05 for p in ps) < 7
    assert 0.3 < np.mean(ps) < 0.7  # mean of 40 U(0,1): sd 0.046, so +-4 sd


def test_bad_samples():
    with pytest.raises(ValueError, match="same dimension"):
        energy_distance(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="at least 2"):
        mmd_rbf(np.zeros((1, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="statistic"):
        two_sample_test(np.zeros((3, 2)), np.ones((3, 2)), statistic="ks")


def test_median_bandwidth_zero_raises_naming_bandwidth():
    # identical constant samples: every pairwise distance is 0, so the median heuristic has no
    # scale (it used to give exp(-0/0) = NaN and a p-value of 0.02)
    x = np.ones((20, 3))
    with pytest.raises(ValueError, match="bandwidth"):
        mmd_rbf(x, x.copy())
    with pytest.raises(ValueError, match="bandwidth"):
        two_sample_test(x, x.copy(), statistic="mmd", n_permutations=49, seed=0)
    # mostly tied rows: more than half of the pooled pairs at distance 0, median 0 too
    y = np.zeros((20, 2))
    y[:2] = [[1.0, 0.0], [0.0, 1.0]]
    assert median_bandwidth(y[:10], y[10:]) == 0.0
    with pytest.raises(ValueError, match="bandwidth"):
        mmd_rbf(y[:10], y[10:])


def test_explicit_bandwidth_on_degenerate_and_general_input():
    x = np.ones((20, 3))
    # all kernel values are exactly 1: the unbiased MMD^2 is exactly 0 and no permutation
    # exceeds it, so the p-value is 1
    assert mmd_rbf(x, x.copy(), bandwidth=1.0) == 0.0
    res = two_sample_test(x, x.copy(), statistic="mmd", n_permutations=49, bandwidth=1.0, seed=0)
    assert res.statistic == 0.0 and res.p_value == 1.0
    a, b = _samples(7, n=30, m=30, shift=0.5)
    res = two_sample_test(a, b, statistic="mmd", n_permutations=49, bandwidth=0.7, seed=0)
    # the same float64 computation on the same matrix: round-off only
    assert res.statistic == pytest.approx(mmd_rbf(a, b, bandwidth=0.7), rel=1e-12)
    with pytest.raises(ValueError, match="bandwidth"):
        two_sample_test(a, b, statistic="energy", bandwidth=0.7)
    with pytest.raises(ValueError, match="bandwidth"):
        two_sample_test(a, b, statistic="mmd", bandwidth=-1.0)
