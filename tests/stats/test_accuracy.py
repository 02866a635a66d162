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


def test_replicate_mean_se_takes_the_larger_spread_over_sqrt_r():
    from mitheory.stats import replicate_mean_se
    # max(0.3, 0.6) / sqrt(4) = 0.3 (exact in binary up to one rounding)
    assert replicate_mean_se(0.3, 0.6, 4) == pytest.approx(0.3, rel=1e-15)
    assert replicate_mean_se(0.8, 0.2, 16) == pytest.approx(0.2, rel=1e-15)
    # NaN (one replicate / no Monte Carlo SE) counts as absent
    assert replicate_mean_se(math.nan, 0.5, 1) == 0.5
    assert replicate_mean_se(math.nan, math.nan, 3) == 0.0
    with pytest.raises(ValueError, match="sd"):
        replicate_mean_se(-0.1, 0.2, 3)
    with pytest.raises(ValueError, match="n_replicates"):
        replicate_mean_se(0.1, 0.2, 0)


def test_estimate_accuracy_is_replicate_accuracy_of_the_values_in_their_unit():
    from mitheory._types import InfoValue
    from mitheory.stats import estimate_accuracy
    vals = [InfoValue(v, kind="lower_bound", details={"se_nats": s})
            for v, s in ((1.0, 0.3), (2.0, 0.4), (4.0, 0.0))]
    got = estimate_accuracy(vals, 2.0)
    want = replicate_accuracy([1.0, 2.0, 4.0], 2.0, se=[0.3, 0.4, 0.0])
    # the same computation on the same floats: bitwise equal
    assert got == {"kind": "lower_bound", **{f"{k}_nats": v for k, v in want.items()},
                   "values_nats": [1.0, 2.0, 4.0]}
    # a value without a reported SE leaves the Monte Carlo SE undefined (NaN)
    assert math.isnan(estimate_accuracy([InfoValue(1.0), InfoValue(2.0)], 1.5)["mc_se_nats"])
    with pytest.raises(ValueError, match="kind"):
        estimate_accuracy([InfoValue(1.0), InfoValue(1.0, kind="exact")], 1.0)
    with pytest.raises(TypeError, match="InfoValue"):
        estimate_accuracy([1.0], 1.0)
