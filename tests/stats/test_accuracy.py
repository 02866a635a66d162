"""Accuracy of replicate estimates against a known truth."""
import math

import pytest

from mitheory.stats import replicate_accuracy


def test_replicate_accuracy_matches_hand_computed_values():
    # values 1, 2, 4 around truth 2: mean 7/3, sd sqrt(((−4/3)²+(−1/3)²+(5/3)²)/2) = sqrt(7/3),
    # bias 1/3, rmse sqrt((1+0+4)/3); se 0.3, 0.4, 0 -> rms sqrt(0.25/3); float64 to 1e-12
    acc = replicate_accuracy([1.0, 2.0, 4.0], 2.0, se=[0.3, 0.4, 0.0])
    assert acc["mean"] == pytest.approx(7 / 3, abs=1e-12)
    assert acc["sd"] == pytest.approx(math.sqrt(7 / 3), abs=1e-12)
    assert acc["bias"] == pytest.approx(1 / 3, abs=1e-12)
    assert acc["rmse"] == pytest.approx(math.sqrt(5 / 3), abs=1e-12)
    assert acc["mc_se"] == pytest.approx(math.sqrt(0.25 / 3), abs=1e-12)


def test_replicate_accuracy_marks_what_one_replicate_or_missing_se_cannot_give():
    acc = replicate_accuracy([1.5], 1.0, se=[None])
    assert math.isnan(acc["sd"]) and math.isnan(acc["mc_se"])
    assert acc["rmse"] == acc["bias"] == 0.5  # one replicate: |error| = bias, exactly
    with pytest.raises(ValueError, match="se"):
        replicate_accuracy([1.0, 2.0], 1.0, se=[0.1])
