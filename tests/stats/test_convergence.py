"""The plateau rule on budget curves: synthetic curves with a known status."""
import numpy as np
import pytest

from mitheory import stats


@pytest.mark.parametrize("steps, status", [
    # saturating curve 1 - exp(-s/500): at 3000 steps the last change (1500 -> 3000) is
    # exp(-3) - exp(-6) = 0.0473 > 0.01, still rising; at 12000 it is ~exp(-12) < 0.01
    ([375, 750, 1500, 3000], "still rising"),
    ([3000, 6000, 12000], "plateaued"),
])
def test_saturating_curve(steps, status):
    values = [1 - np.exp(-s / 500) for s in steps]
    out = stats.plateau_status(steps, values)
    assert out["status"] == status
    assert out["at_steps"] == steps[-1]
    assert out["last_change"] == pytest.approx(values[-1] - values[-2])
    assert out["text"].startswith(f"{status} at {steps[-1]} steps")


def test_falling_and_single_and_boundary():
    assert stats.plateau_status([10, 20], [0.9, 0.8])["status"] == "still falling"
    one = stats.plateau_status([10], [0.9])
    assert one["status"] == "one checkpoint only" and one["last_change"] is None
    # the rule is inclusive: a change of exactly tol (0.25 - 0.0 in binary is exact) plateaus
    assert stats.plateau_status([1, 2], [0.0, 0.25], tol=0.25)["status"] == "plateaued"
    assert stats.plateau_status([1, 2], [0.0, 0.25], tol=0.125)["status"] == "still rising"


def test_log_checkpoints():
    assert stats.log_checkpoints(3000, 4) == [375, 750, 1500, 3000]
    assert stats.log_checkpoints(3, 4) == [1, 2, 3]  # duplicates of round(3/8)=round(3/4)=1 drop
    assert stats.log_checkpoints(100, 1) == [100]


@pytest.mark.parametrize("kwargs, match", [
    ({"steps": [1, 2], "values": [0.1]}, "same length"),
    ({"steps": [], "values": []}, "at least one"),
    ({"steps": [2, 1], "values": [0.1, 0.2]}, "strictly increasing"),
    ({"steps": [1.5, 2], "values": [0.1, 0.2]}, "integers"),
    ({"steps": [1, 2], "values": [0.1, float("nan")]}, "values"),
    ({"steps": [1, 2], "values": [0.1, 0.2], "tol": -1}, "tol"),
])
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        stats.plateau_status(**kwargs)


def test_even_checkpoints_end_at_the_budget_and_are_evenly_spaced():
    from mitheory.stats import even_checkpoints

    # round(steps k / n) by hand: 200/3 = 66.7 -> 67, 133.3 -> 133, 200
    assert even_checkpoints(200, 3) == [67, 133, 200]
    assert even_checkpoints(4, 2) == [2, 4]
    assert even_checkpoints(2, 5) == [0, 1, 2]  # more checkpoints than steps: duplicates dropped


def test_interval_means_equal_a_direct_loop():
    from mitheory.stats import interval_means

    rng = np.random.default_rng(0)
    steps, values = np.arange(0, 100, 5), rng.normal(size=20)
    bounds = [0, 33, 67, 100]
    # an independent implementation: python loop over the logged values
    want = [float(np.mean([v for s, v in zip(steps, values) if lo <= s < hi]))
            for lo, hi in zip(bounds, bounds[1:])]
    assert interval_means(steps, values, bounds) == want  # same values, same order: exact
    assert np.isnan(interval_means([0, 1], [1.0, 2.0], [5, 6])[0])  # empty interval
