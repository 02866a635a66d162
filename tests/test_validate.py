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
