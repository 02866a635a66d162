import numpy as np
import pytest

from mitheory._validate import (check_covariance, check_option, check_samples,
                                check_same_length)


def test_check_samples_nan_and_count():
    with pytest.raises(ValueError, match="x contains 1 NaN"):
        check_samples([[1.0], [np.nan]], "x")
    with pytest.raises(ValueError, match="y needs at least 6 samples, got 3"):
        check_samples(np.zeros((3, 2)), "y", min_samples=6)
    assert check_samples(np.arange(4.0)).shape == (4, 1)


def test_check_covariance_not_pd():
    with pytest.raises(ValueError, match="cov is not positive definite"):
        check_covariance([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="symmetric"):
        check_covariance([[1.0, 0.5], [0.0, 1.0]])


def test_same_length_and_option():
    with pytest.raises(ValueError, match="same number of samples, got 3 and 4"):
        check_same_length(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="method must be one of"):
        check_option("foo", "method", ("a", "b"))


def test_check_finite_tensor_by_its_sum_and_the_entrywise_fallback():
    import torch

    from mitheory._validate import check_finite_tensor

    big = torch.full((4,), 3e38)  # every entry finite, the float32 sum overflows to inf
    check_finite_tensor(big, "z")  # the fallback looks at the entries: no error
    check_finite_tensor(torch.zeros(0, 3), "z")  # empty: nothing to be non-finite
    check_finite_tensor(torch.ones(3, dtype=torch.int64), "z")
    for bad in (float("nan"), float("inf"), -float("inf")):
        z = torch.ones(5, 2)
        z[3, 1] = bad
        with pytest.raises(ValueError, match="z is not finite"):
            check_finite_tensor(z, "z")
    pair = torch.tensor([float("inf"), -float("inf")])  # sums to NaN; both entries non-finite
    with pytest.raises(ValueError, match="w is not finite"):
        check_finite_tensor(pair, "w")
