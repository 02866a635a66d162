"""Identifiability metrics: linear / kernel R^2 and MCC."""
import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score

from mitheory.stats import mcc, r2_identifiability, r2_kernel, r2_linear


@pytest.fixture(scope="module")
def gauss():
    return np.random.default_rng(0).standard_normal((2000, 4))


def test_r2_one_for_invertible_linear_map(gauss):
    a = np.random.default_rng(1).standard_normal((4, 4)) + 4 * np.eye(4)
    h = gauss @ a + 3.0
    out = r2_identifiability(h[:1000], gauss[:1000], h[1000:], gauss[1000:])
    # exact linear relation: only float64 round-off remains
    assert out["r2"] == pytest.approx(1.0, abs=1e-10)
    np.testing.assert_allclose(out["r2_per_dim"], 1.0, atol=1e-10)
    assert out["method"] == "linear" and out["n_fit"] == 1000 and out["n_eval"] == 1000
    assert r2_linear(h, gauss, seed=3) == pytest.approx(1.0, abs=1e-10)


def test_r2_linear_matches_sklearn_without_scaling(gauss):
    # standardisation must not change the linear R^2 (affine invariance); oracle: plain sklearn
    rng = np.random.default_rng(2)
    h = np.tanh(gauss @ rng.standard_normal((4, 3))) + 0.3 * rng.standard_normal((2000, 3))
    ref = r2_score(gauss[1000:], LinearRegression().fit(h[:1000], gauss[:1000]).predict(h[1000:]))
    assert r2_linear(h, gauss) == pytest.approx(ref, abs=1e-10)  # float64 round-off


def test_r2_and_mcc_near_zero_for_independent_data(gauss):
    n = len(gauss)
    h = np.random.default_rng(4).standard_normal((n, 4))
    # null: out-of-sample R^2 ~ -p/n_fit with sampling sd ~ 1/sqrt(n_eval); 5 sd
    assert abs(r2_linear(h, gauss)) < 5 / np.sqrt(n / 2)
    # null: each |r| has sd 1/sqrt(n); the matched mean is <= the max of 16 of them (< 5 sd)
    assert mcc(h, gauss) < 5 / np.sqrt(n)


def test_r2_linear_matches_population_value():
    # z ~ U(-1, 1), h = exp(2 z) per coordinate: population linear R^2 = corr(z, e^{2z})^2
    # (closed form below); independent coordinates add nothing.
    rng = np.random.default_rng(5)
    n = 4000
    z = rng.uniform(-1, 1, (n, 2))
    e2 = np.e**2
    cov = (e2 / 4 + 3 / (4 * e2)) / 2  # E[z e^{2z}]
    var_h = (e2**2 - e2**-2) / 8 - ((e2 - 1 / e2) / 4) ** 2
    rho2 = cov**2 / (var_h / 3)
    # sampling sd of an R^2 estimate at n/2 eval points is O(1/sqrt(n)); 5/sqrt(n/2)
    assert r2_linear(np.exp(2 * z), z) == pytest.approx(rho2, abs=5 / np.sqrt(n / 2))


def test_kernel_r2_recovers_smooth_nonlinear_inverse():
    rng = np.random.default_rng(6)
    z = rng.uniform(-1, 1, (900, 2))
    h = np.exp(2 * z)
    lin = r2_linear(h, z)
    out = r2_identifiability(h[:450], z[:450], h[450:], z[450:], method="kernel")
    # property: the inverse log(h)/2 is smooth, so RBF ridge recovers >= 95 % of the variance,
    # far above the linear ceiling rho^2 ~ 0.80
    assert out["r2"] > 0.95 and out["r2"] > lin + 0.1
    assert out["alpha"] in (1.0, 0.1, 0.01, 0.001)
    assert out["gamma"] == pytest.approx(np.logspace(-2, 2, 4)[np.argmin(
        np.abs(np.logspace(-2, 2, 4) - out["gamma"]))])
    assert r2_kernel(h, z, max_fit_samples=300, seed=0) > 0.95


def test_mcc_one_for_permuted_rescaled_flipped_copy(gauss):
    perm = [2, 0, 3, 1]
    h = gauss[:, perm] * np.array([-3.0, 0.5, 2.0, -0.1]) + 7.0
    value, assignment, corr = mcc(h, gauss, return_details=True)
    assert value == pytest.approx(1.0, abs=1e-12)  # exact up to float64 round-off
    # z column perm[j] is h column j
    assert {(int(zc), int(hc)) for zc, hc in assignment} == {(p, j) for j, p in enumerate(perm)}
    assert corr.shape == (4, 4)
    # oracle: scipy's Pearson r for one entry
    assert corr[2, 0] == pytest.approx(stats.pearsonr(gauss[:, 2], h[:, 0])[0], abs=1e-12)


def test_mcc_rectangular_matches_brute_force(gauss):
    # slow twin: all injective assignments of 3 z columns to 4 h columns
    from itertools import permutations

    rng = np.random.default_rng(7)
    h = gauss @ rng.standard_normal((4, 4)) + rng.standard_normal((2000, 4))
    z = gauss[:, :3]
    corr = np.corrcoef(z, h, rowvar=False)[:3, 3:]
    best = max(np.mean([abs(corr[i, p[i]]) for i in range(3)]) for p in permutations(range(4), 3))
    assert mcc(h, z) == pytest.approx(best, abs=1e-12)


def test_bad_input(gauss):
    h = gauss.copy()
    with pytest.raises(ValueError, match="same number of samples"):
        r2_identifiability(h[:100], gauss[:99], h[100:200], gauss[100:200])
    h_nan = h.copy()
    h_nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        r2_linear(h_nan, gauss)
    with pytest.raises(ValueError, match="NaN"):
        mcc(h_nan, gauss)
    with pytest.raises(ValueError, match="at least 6 samples"):
        r2_identifiability(h[:5], gauss[:5], h[5:10], gauss[5:10], method="kernel")
    with pytest.raises(ValueError, match="at least 6 samples"):
        r2_identifiability(h[:5], gauss[:5], h[5:10], gauss[5:10], method="linear")
    with pytest.raises(ValueError, match="method"):
        r2_identifiability(h[:50], gauss[:50], h[50:], gauss[50:], method="poly")
    with pytest.raises(ValueError, match="columns"):
        r2_identifiability(h[:50], gauss[:50], h[50:, :3], gauss[50:])
    with pytest.raises(ValueError, match="zero-variance"):
        mcc(gauss[:10, :2], np.ones((10, 2)))
    z_const = gauss[:100].copy()
    z_const[:, 0] = 1.0
    with pytest.raises(ValueError, match="zero-variance"):
        r2_linear(h[:100], z_const)
    with pytest.raises(ValueError, match="train_fraction"):
        r2_linear(h, gauss, train_fraction=1.0)
    with pytest.raises(ValueError, match="alphas"):
        r2_identifiability(h[:50], gauss[:50], h[50:100], gauss[50:100], method="kernel",
                           alphas=())


def test_collapsed_representation_scores_zero_not_error(gauss):
    # convention: a constant h column has correlation 0 with every latent
    h = gauss[:, :3].copy()
    h[:, 1] = 2.5
    value, assignment, corr = mcc(h, gauss[:, :3], return_details=True)
    np.testing.assert_array_equal(corr[:, 1], 0.0)
    assert value == pytest.approx(2 / 3, abs=1e-12)  # two exact matches, one dead unit
    assert mcc(np.ones((50, 2)), gauss[:50, :2]) == 0.0
    # linear R^2 from a fully collapsed h: prediction is the fit mean; null value 0 +- ~1/sqrt(n)
    assert abs(r2_linear(np.ones((2000, 2)), gauss)) < 5 / np.sqrt(1000)
