"""Kernel ridge by eigendecomposition against scikit-learn's GridSearchCV(KernelRidge)."""
import numpy as np
import pytest
from sklearn.kernel_ridge import KernelRidge
from sklearn.model_selection import GridSearchCV, KFold

from mitheory.stats import r2_identifiability, r2_identifiability_blocks
from mitheory.stats._identifiability import DEFAULT_ALPHAS, DEFAULT_GAMMAS
from mitheory.stats._kernel_ridge import kernel_ridge_cv


def _data(seed, n=240, dim_h=4, dim_z=3):
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((n, dim_h))
    z = np.tanh(h[:, :dim_z] * 1.5) + 0.1 * rng.standard_normal((n, dim_z))
    return h[: n // 2], z[: n // 2], h[n // 2:], z[n // 2:]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shuffle", [False, True])
def test_same_choice_and_predictions_as_sklearn(seed, shuffle):
    hf, zf, he, _ = _data(seed)
    folds = KFold(3, shuffle=shuffle, random_state=seed if shuffle else None)
    grid = {"alpha": list(DEFAULT_ALPHAS), "gamma": list(DEFAULT_GAMMAS)}
    ref = GridSearchCV(KernelRidge(kernel="rbf"), grid, cv=folds, n_jobs=1).fit(hf, zf)
    ours = kernel_ridge_cv(hf, [zf], he, alphas=grid["alpha"], gammas=grid["gamma"],
                           folds=list(folds.split(hf)))[0]
    assert (ours["alpha"], ours["gamma"]) == (ref.best_params_["alpha"],
                                              ref.best_params_["gamma"])
    # the same LAPACK calls in the same order: equal to the last bit on one machine; 1e-12
    # leaves room for a BLAS that blocks the products differently
    assert ours["cv_r2"] == pytest.approx(ref.best_score_, rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(ours["pred"], ref.predict(he), rtol=1e-12, atol=1e-14)


def test_blocks_equal_separate_calls():
    hf, zf, he, ze = _data(3)
    blocks = {"a": (zf[:, :1], ze[:, :1]), "b": (zf[:, 1:], ze[:, 1:])}
    for method in ("linear", "kernel"):
        together = r2_identifiability_blocks(hf, he, blocks, method=method, seed=5)
        for k, (f, e) in blocks.items():
            alone = r2_identifiability(hf, f, he, e, method=method, seed=5)
            assert together[k] == alone  # the same arithmetic on the same folds: bit-identical
    with pytest.raises(ValueError, match="targets"):
        r2_identifiability_blocks(hf, he, {}, method="kernel")


@pytest.mark.parametrize("case", ["random", "constant_column", "perfect_column", "one_output"])
def test_fold_score_equals_sklearn_r2(case):
    from sklearn.metrics import r2_score

    from mitheory.stats._kernel_ridge import _r2

    rng = np.random.default_rng(11)
    y, pred = rng.standard_normal((50, 3)), rng.standard_normal((50, 3))
    if case == "constant_column":  # sklearn's force_finite: 0 where y is constant, pred is not
        y[:, 1] = 2.0
    elif case == "perfect_column":  # and 1 where the prediction is exact
        pred[:, 2] = y[:, 2]
    elif case == "one_output":
        y, pred = y[:, :1], pred[:, :1]
    assert _r2(y, pred) == r2_score(y, pred)  # the same operations: bit-identical
