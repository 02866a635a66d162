"""Linear probe and downstream labels: oracle near 1, noise near chance, independent twin."""
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from mitheory.stats import downstream_labels, linear_probe_accuracy


def _data(n, seed):
    return np.random.default_rng(seed).standard_normal((n, 5))


def test_labels_deterministic_and_argmax():
    z = _data(50, 0)
    y = downstream_labels(z, n_classes=3, seed=7)
    w = np.random.default_rng(7).standard_normal((5, 3))  # same generator stream as as_generator(7)
    np.testing.assert_array_equal(y, np.argmax(z @ w, 1))
    np.testing.assert_array_equal(y, downstream_labels(z, n_classes=3, seed=7))


def test_oracle_near_one_noise_near_chance():
    zf, ze = _data(1500, 1), _data(1500, 2)
    yf, ye = (downstream_labels(z, n_classes=4, seed=0) for z in (zf, ze))
    oracle = linear_probe_accuracy(zf, yf, ze, ye)
    # labels are linear in z: only points near the argmax boundaries are missed (~3% at n=1500)
    assert oracle["accuracy"] > 0.93
    noise = linear_probe_accuracy(_data(1500, 3), yf, _data(1500, 4), ye)
    # independent features: accuracy ~ majority-class rate; 0.05 ~ 4 binomial SE at n=1500
    assert noise["accuracy"] < noise["chance"] + 0.05
    assert 0.25 <= noise["chance"] <= 1.0


def test_matches_sklearn_twin():
    zf, ze = _data(300, 5), _data(300, 6)
    yf, ye = (downstream_labels(z, seed=1) for z in (zf, ze))
    mu, sd = zf.mean(0), zf.std(0)
    clf = LogisticRegression(max_iter=2000).fit((zf - mu) / sd, yf)
    want = np.mean(clf.predict((ze - mu) / sd) == ye)
    assert linear_probe_accuracy(zf, yf, ze, ye)["accuracy"] == pytest.approx(want, abs=1e-12)


def test_bad_input():
    z = _data(20, 0)
    with pytest.raises(ValueError, match="two classes"):
        linear_probe_accuracy(z, np.zeros(20), z, np.zeros(20))
    with pytest.raises(ValueError, match="same number"):
        linear_probe_accuracy(z, np.zeros(19), z, np.zeros(20))
    with pytest.raises(ValueError, match="NaN"):
        downstream_labels(np.full((3, 2), np.nan))
