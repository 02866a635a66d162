"""kNN estimators: against their O(n^2) twins (1e-12), scikit-learn, the torch path and truth."""
import math

import numpy as np
import pytest
from sklearn.feature_selection import mutual_info_regression
from sklearn.preprocessing import scale

from mitheory.info import entropy_gaussian, entropy_knn, mi_ksg
from mitheory.info._knn import _count_sorted_1d, _entropy_knn_reference, _ksg_mi_reference
from mitheory.info.tasks import TASKS, half_cube

METHODS = ["ksg1", "ksg2"]
METRICS = ["chebyshev", "euclidean"]


def _pair(n, dx, dy, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dx))
    y = x[:, :1] @ np.ones((1, dy)) * 0.8 + rng.standard_normal((n, dy))
    return x, y


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("dx,dy,k", [(1, 1, 3), (2, 3, 4), (3, 1, 1)])
def test_ksg_matches_reference_twin(method, metric, dx, dy, k):
    x, y = _pair(250, dx, dy, seed=dx * 10 + dy)
    fast = mi_ksg(x, y, k=k, method=method, metric=metric, standardize=False).value
    ref = _ksg_mi_reference(x, y, k=k, method=method, metric=metric)
    # identical counts; only the order of the digamma sums may differ
    assert fast == pytest.approx(ref, abs=1e-12)
    # the brute-force torch twin on CPU tensors (the device= path)
    tor = mi_ksg(x, y, k=k, method=method, metric=metric, standardize=False, device="cpu").value
    assert tor == pytest.approx(ref, abs=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_ksg_ties_and_marginal_duplicates_match_reference(method):
    rng = np.random.default_rng(11)
    # lattice data: many ties at the k-th joint distance and in each marginal,
    # but no point with k = 3 other exact copies (checked below)
    x = rng.integers(0, 40, (300, 1)).astype(float)
    y = x + rng.integers(0, 40, (300, 1))
    _, counts = np.unique(np.hstack([x, y]), axis=0, return_counts=True)
    assert counts.max() < 4
    fast = mi_ksg(x, y, k=3, method=method, standardize=False).value
    ref = _ksg_mi_reference(x, y, k=3, method=method, metric="chebyshev")
    assert fast == pytest.approx(ref, abs=1e-12)  # same tie rules, exactly
    assert mi_ksg(x, y, k=3, method=method, standardize=False, device="cpu").value == \
        pytest.approx(ref, abs=1e-12)


def test_sorted_counts_are_exact_under_rounding():
    rng = np.random.default_rng(2)
    v = np.round(rng.standard_normal(2000), 2) + 0.1  # many duplicates; 0.1 makes v+r inexact
    r = np.abs(v - v[rng.integers(0, 2000, 2000)])  # radii equal to actual distances: ties
    r[r == 0] = 0.01  # a strict count needs r > 0 (mi_ksg raises on a zero radius before)
    brute = np.abs(v[:, None] - v[None, :])
    for strict in (True, False):
        ref = ((brute < r[:, None]) if strict else (brute <= r[:, None])).sum(1) - 1
        assert np.array_equal(_count_sorted_1d(v, r, strict), ref)


def _sklearn_preprocessed(x, y, seed):
    """Exactly what mutual_info_regression feeds its KSG: scale (no centring), then 1e-10
    relative noise from RandomState(seed), X's noise drawn first (sklearn 1.9 _estimate_mi)."""
    rs = np.random.RandomState(seed)
    xs = scale(x.reshape(-1, 1), with_mean=False)
    xs += 1e-10 * np.maximum(1, np.mean(np.abs(xs), axis=0)) * rs.standard_normal(xs.shape)
    ys = scale(y, with_mean=False)
    ys += 1e-10 * max(1.0, float(np.mean(np.abs(ys)))) * rs.standard_normal(ys.shape[0])
    return xs[:, 0], ys


@pytest.mark.parametrize("k", [3, 5])
def test_ksg1_matches_sklearn_on_1d(k):
    x, y = _pair(3000, 1, 1, seed=k)
    x, y = x[:, 0], y[:, 0]
    theirs = mutual_info_regression(x[:, None], y, n_neighbors=k, random_state=0)[0]
    xs, ys = _sklearn_preprocessed(x, y, 0)
    ours = mi_ksg(xs, ys, k=k, method="ksg1", metric="chebyshev", standardize=False).value
    # same definition (KSG 1, Chebyshev, strict counts) on the same numbers: rounding only
    assert ours == pytest.approx(theirs, abs=1e-12)


def test_ksg_symmetry_bits_and_clipping():
    x, y = _pair(800, 2, 1, seed=5)
    a, b = mi_ksg(x, y), mi_ksg(y, x)
    assert a.value == pytest.approx(b.value, abs=1e-12)  # I(X;Y) = I(Y;X) by construction
    assert mi_ksg(x, y, unit="bits").value == pytest.approx(a.value / math.log(2), rel=1e-14)
    rng = np.random.default_rng(0)
    pairs = [(rng.standard_normal(200), rng.standard_normal(200)) for _ in range(20)]
    negative = [(a0, b0) for a0, b0 in pairs if mi_ksg(a0, b0).value < 0]
    assert negative, "independent samples should give some negative raw estimates"
    a0, b0 = negative[0]
    raw = mi_ksg(a0, b0)
    clipped = mi_ksg(a0, b0, clip_negative=True)
    assert raw.value < 0 and clipped.value == 0.0  # raw by default, clipped only on request
    assert clipped.details["raw_value"] == raw.value


@pytest.mark.parametrize("name", ["1v1-normal-0.75", "1v1-uniform-margins-0.75",
                                  "1v1-half-cube-0.75", "1v1-wiggly-0.75", "1v1-bimodal-0.75",
                                  "1v1-additive-0.75", "1v1-mixture-X-0.9",
                                  "sphere-vmf-d3-kappa10"])
def test_ksg_against_known_truth(name):
    task = TASKS[name]()
    x, y = task.sample(2000, seed=0)
    est = mi_ksg(x, y).value
    # replicate sd at n = 2000 measured <= 0.026 on these tasks (10 seeds); 0.1 ~ 4 sd
    assert est == pytest.approx(task.mutual_information().value, abs=0.1)


def test_ksg_nearly_invariant_under_monotone_maps():
    x, y = TASKS["1v1-normal-0.75"]().sample(2000, seed=3)
    a = mi_ksg(x, y).value
    b = mi_ksg(half_cube(x), np.tanh(y)).value
    # exact MI is invariant; paired KSG differences at n = 2000 were <= 0.022 over 10 seeds
    assert a == pytest.approx(b, abs=0.05)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("d,k", [(1, 3), (3, 2)])
def test_entropy_knn_matches_reference_and_truth(metric, d, k):
    x = np.random.default_rng(d).standard_normal((300, d))
    ref = _entropy_knn_reference(x, k=k, metric=metric)
    assert entropy_knn(x, k=k, metric=metric).value == pytest.approx(ref, abs=1e-12)
    assert entropy_knn(x, k=k, metric=metric, device="cpu").value == pytest.approx(ref, abs=1e-12)
    big = np.random.default_rng(7).standard_normal((4000, d))
    # sd of the estimate at n = 4000 is ~0.02 per dimension; 0.1 ~ 4-5 sd
    assert entropy_knn(big, metric=metric).value == pytest.approx(
        entropy_gaussian(np.eye(d)).value, abs=0.1)


def test_duplicates_raise_unless_jittered():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((100, 2))
    x[:5] = x[0]  # five copies of one point: k = 3 neighbours at distance 0
    y = rng.standard_normal((100, 1))
    y[:5] = y[0]
    with pytest.raises(ValueError, match="exact duplicates"):
        mi_ksg(x, y)
    with pytest.raises(ValueError, match="exact duplicates"):
        entropy_knn(x)
    a = mi_ksg(x, y, jitter=1e-10, seed=1)
    assert a.value == mi_ksg(x, y, jitter=1e-10, seed=1).value  # seeded: reproducible
    assert np.isfinite(entropy_knn(x, jitter=1e-10, seed=1).value)


def test_bad_inputs_name_the_argument():
    x = np.random.default_rng(0).standard_normal((20, 2))
    with pytest.raises(ValueError, match="x contains 1 NaN"):
        mi_ksg(np.where(np.arange(40).reshape(20, 2) == 3, np.nan, x), x)
    with pytest.raises(ValueError, match="same number of samples, got 20 and 19"):
        mi_ksg(x, x[:19])
    with pytest.raises(ValueError, match="x needs at least 6 samples, got 5"):
        mi_ksg(x[:5], x[:5], k=5)
    with pytest.raises(ValueError, match=r"y has zero-variance column\(s\) \[1\]"):
        mi_ksg(x, np.c_[x[:, 0], np.ones(20)])
    with pytest.raises(ValueError, match="method must be one of"):
        mi_ksg(x, x, method="ksg3")
    with pytest.raises(ValueError, match="metric must be one of"):
        entropy_knn(x, metric="manhattan")
