import numpy as np
import pytest
import torch
from scipy.spatial.distance import pdist

from mitheory.stats import largest_passing_scale, pairwise_distances_vs_noise


def test_distances_match_scipy_and_count_pairs_beyond_twice_the_noise_norm():
    x = torch.rand(30, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    d = pdist(x.reshape(30, -1).double().numpy())  # an independent implementation
    out = pairwise_distances_vs_noise(x, (0.01, 0.2))
    assert out["dim"] == 48 and out["n_images"] == 30
    for q, v in out["quantiles"].items():
        assert v == pytest.approx(np.quantile(d, float(q)), rel=1e-12)  # float64 rounding
    for s in (0.01, 0.2):
        assert out["fraction_apart"][str(s)] == np.mean(d > 2 * s * np.sqrt(48))
    assert len(out["rms_pixel_distance"]) == len(d)  # 435 distances < max_kept: all kept


def test_two_images_one_pixel_apart():
    x = np.zeros((2, 1, 2, 2))
    x[1, 0, 0, 0] = 1.0  # distance exactly 1 in D = 4
    out = pairwise_distances_vs_noise(x, (0.2, 0.3))
    # 2 s sqrt(D) = 0.8 (< 1: apart) and 1.2 (> 1: not apart)
    assert out["fraction_apart"] == {"0.2": 1.0, "0.3": 0.0}
    assert out["rms_pixel_distance"] == [0.5]


def test_largest_passing_scale_is_the_last_scale_before_the_first_failure():
    assert largest_passing_scale((1, 2, 3, 4), (1.0, 0.8, 0.5, 0.9), min_pass=0.75) == 2
    assert largest_passing_scale((1, 2, 3), (1.0, 1.0, 1.0), min_pass=0.75) == 3
    assert largest_passing_scale((1, 2), (0.2, 1.0), min_pass=0.75) == 1  # even the first fails


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="x must hold at least 2"):
        pairwise_distances_vs_noise(np.zeros((1, 4)), (0.1,))
    with pytest.raises(ValueError, match="noise_scales"):
        pairwise_distances_vs_noise(np.zeros((3, 4)), (0.0,))
    with pytest.raises(ValueError, match="ascending"):
        largest_passing_scale((2, 1), (1.0, 1.0), min_pass=0.5)


def _sweep(passes, exits, scales=(0.01, 0.1, 1.0)):
    return [{"s": s, "pass_hz": p, "exit": e} for s, p, e in zip(scales, passes, exits)]


def test_pool_noise_sweeps_averages_runs_scale_by_scale():
    from mitheory.stats import pool_noise_sweeps

    a = _sweep([1.0, 0.8, 0.2], [[0.0, 0.0], [0.5, 0.0], [1.0, 1.0]])
    b = _sweep([0.5, 1.0, 0.0], [[0.0, 0.5], [0.5, 1.0], [1.0, 0.0]])
    out = pool_noise_sweeps([a, b], "hz", min_pass=0.75)
    # hand-computed means: pass (0.75, 0.9, 0.1); exit over 2 runs x 2 prototypes
    assert out["pass_fraction_by_scale"] == pytest.approx({"0.01": 0.75, "0.1": 0.9, "1.0": 0.1},
                                                          abs=1e-15)  # float rounding
    assert out["exit_probability_by_scale"] == pytest.approx(
        {"0.01": 0.125, "0.1": 0.5, "1.0": 0.75}, abs=1e-15)
    assert out["s_gauss"] == 0.1 and out["test"] == "hz"  # 0.75, 0.9 pass; 0.1 fails
    assert out["pass_small_noise"] == pytest.approx(0.75, abs=1e-15)
    assert out["pass_drop"] == pytest.approx(0.65, abs=1e-15)
    one = pool_noise_sweeps([a], "hz", min_pass=0.9)  # a single run is its own pool
    assert one["pass_fraction_by_scale"] == {"0.01": 1.0, "0.1": 0.8, "1.0": 0.2}
    assert one["s_gauss"] == 0.01


def test_pool_noise_sweeps_rejects_mismatched_sweeps():
    from mitheory.stats import pool_noise_sweeps

    a = _sweep([1.0, 1.0, 1.0], [[0.0]] * 3)
    with pytest.raises(ValueError, match="same noise scales"):
        pool_noise_sweeps([a, _sweep([1.0] * 3, [[0.0]] * 3, scales=(1, 2, 3))], "hz",
                          min_pass=0.5)
    with pytest.raises(ValueError, match="test 'mardia'"):
        pool_noise_sweeps([a], "mardia", min_pass=0.5)
    with pytest.raises(ValueError, match="sweeps"):
        pool_noise_sweeps([], "hz", min_pass=0.5)
