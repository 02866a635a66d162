import numpy as np
import pytest
from scipy import stats as sps

from mitheory.stats import (correlations_with, fit_linear_probe, probe_gaps_and_bounds,
                            stratified_prefix)


def test_stratified_prefix_takes_the_first_of_each_class_and_nests():
    y = np.array([1, 0, 1, 0, 2, 2, 1])
    assert stratified_prefix(y, 3, 1).tolist() == [1, 0, 4]
    assert stratified_prefix(y, 3, 2).tolist() == [1, 3, 0, 2, 4, 5]
    with pytest.raises(ValueError, match="fewer than 3"):
        stratified_prefix(y, 3, 3)


def test_gap_is_test_minus_train_cross_entropy_of_the_probe_fitted_by_hand():
    rng = np.random.default_rng(0)
    y_pool, y_test = np.repeat([0, 1], 20), np.repeat([0, 1], 15)
    h_pool = rng.normal(size=(40, 3)) + y_pool[:, None]
    h_test = rng.normal(size=(30, 3)) + y_test[:, None]
    a = rng.normal(size=(25, 3))
    rows = probe_gaps_and_bounds(h_pool, y_pool, h_test, y_test, a, a + 0.1, n_classes=2,
                                 label_budgets=(5, 10), n_mc=4, seed=(1, 2))
    for r, b in zip(rows, (5, 10)):
        i = stratified_prefix(y_pool, 2, b)
        probe = fit_linear_probe(h_pool[i], y_pool[i], n_classes=2)  # the same fit, by hand
        assert r["n"] == 2 * b
        assert r["train_ce"] == pytest.approx(probe.cross_entropy(h_pool[i], y_pool[i]),
                                              abs=1e-12)  # deterministic fit
        assert r["gap"] == pytest.approx(r["test_ce"] - r["train_ce"], abs=1e-12)
        assert set(r["bounds"]) == {"ssl_vicreg", "rademacher", "pac_bayes"}
        assert 0 <= r["test_accuracy"] <= 1
    again = probe_gaps_and_bounds(h_pool, y_pool, h_test, y_test, a, a + 0.1, n_classes=2,
                                  label_budgets=(5, 10), n_mc=4, seed=(1, 2))
    assert again == rows  # same seed, same numbers


def test_correlations_with_match_scipy():
    rng = np.random.default_rng(1)
    y = rng.normal(size=30)
    xs = {"a": y + rng.normal(size=30), "b": rng.normal(size=30)}
    out = correlations_with(xs, y, n_boot=50, seed=0)
    for k, x in xs.items():
        assert out[k]["pearson"]["r"] == pytest.approx(sps.pearsonr(x, y)[0], abs=1e-12)
        assert out[k]["spearman"]["r"] == pytest.approx(sps.spearmanr(x, y)[0], abs=1e-12)
    with pytest.raises(ValueError, match="xs and methods"):
        correlations_with({}, y)


def _points(gaps, bounds):
    return [{"gap": g, "bounds": {name: {"gap_bound": v[i]} for name, v in bounds.items()}}
            for i, g in enumerate(gaps)]


def test_bounds_vs_gap_ranks_the_reference_against_the_best_rival():
    from scipy import stats as sps

    from mitheory.stats import bounds_vs_gap

    rng = np.random.default_rng(0)
    gap = rng.normal(size=30)
    b = {"ref": gap + 0.1 * rng.normal(size=30) + 5, "a": rng.normal(size=30),
         "b": -gap + 3}  # b is perfectly anti-correlated and always above the gap by 3 - 2 gap
    out = bounds_vs_gap(_points(gap, b), ["ref", "a", "b"], reference="ref", n_boot=50, seed=0)
    r = {k: sps.pearsonr(v, gap)[0] for k, v in b.items()}  # an independent implementation
    assert out["rival_r"] == pytest.approx({"a": r["a"], "b": r["b"]}, abs=1e-12)
    assert out["best_rival"] == ("a" if r["a"] > r["b"] else "b")
    assert out["r"] == pytest.approx(r["ref"], abs=1e-12)  # float64 rounding
    assert out["r_minus_best"] == pytest.approx(r["ref"] - r[out["best_rival"]], abs=1e-12)
    assert out["ci_low_minus_best"] == pytest.approx(
        out["correlations"]["ref"]["pearson"]["ci_low"] - r[out["best_rival"]], abs=1e-12)
    assert out["spearman_r"]["b"] == pytest.approx(-1.0, abs=1e-12)  # monotone decreasing
    frac = {k: np.mean(v >= gap) for k, v in b.items()}
    assert out["fraction_bound_above_gap"] == pytest.approx(frac, abs=0)  # counts: exact
    with pytest.raises(ValueError, match="reference 'c'"):
        bounds_vs_gap(_points(gap, b), ["ref", "a"], reference="c")
    with pytest.raises(ValueError, match="points"):
        bounds_vs_gap([{"gap": 1.0, "bounds": {}}], ["ref", "a"], reference="ref")
