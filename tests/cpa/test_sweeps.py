"""The CPA sweeps against the single measurements they repeat, the region-count limits of a
one-layer network, and the prototype classifier against what training must achieve."""
import math

import numpy as np
import pytest
import torch

from mitheory.cpa import (cpa_mlp, fit_prototype_classifier, output_law_check, output_law_sweep,
                          region_statistics, region_statistics_grid, regions_in_slice)
from mitheory.study import spawn

PROTOS = np.random.default_rng(0).standard_normal((4, 3))
LAW = {"n_samples": 80, "n_test": 40, "n_permutations": 10, "n_exit_samples": 40}


def test_output_law_sweep_rows_are_the_checks_at_each_scale():
    net = cpa_mlp([3, 8, 2], seed=0)
    rows = output_law_sweep(net, PROTOS, [1e-3, 0.5], **LAW, seed=3)
    for r, sd, ss in zip(rows, [1e-3, 0.5], spawn(3, 2)):
        c = output_law_check(net, PROTOS, sd**2, **LAW, seed=ss)
        t = c.test_whitened
        # the same seeded check: bitwise equal
        assert r["sigma"] == sd and r["tv_bound"] == c.tv_bound and r["exit_mc"] == c.exit_mc
        assert r["p_whitened"] == t.p_value and r["p_raw"] == c.test_raw.p_value
        assert r["z_whitened"] == (t.statistic - t.null_mean) / t.null_sd
        assert r["mean_err_se"] == c.mean_z_max and r["cov_rel_err"] == c.cov_rel_max
        assert r["h_upper_kl_nats"] == c.entropy_bounds["kl_upper"].value
    # the union bound on leaving a region grows with the noise scale
    assert rows[0]["tv_bound"] < rows[1]["tv_bound"]


def test_region_grid_rows_are_the_statistics_of_each_network():
    rows = region_statistics_grid(PROTOS, dim_out=2, widths=(4, 10), depths=(1, 2),
                                  resolution=16, seed=5)
    assert [(r["depth"], r["width"]) for r in rows] == [(1, 4), (1, 10), (2, 4), (2, 10)]
    for r in rows:
        # each width's seed is the same at every depth
        s = spawn(5, 2)[(4, 10).index(r["width"])]
        net = cpa_mlp([3, *[r["width"]] * r["depth"], 2], seed=s)
        plane = regions_in_slice(net, PROTOS[0], PROTOS[1] - PROTOS[0], PROTOS[2] - PROTOS[0],
                                 resolution=16)
        assert r == {"depth": r["depth"], "width": r["width"],
                     **region_statistics(net, PROTOS), "regions_in_slice": plane.n_regions}
        if r["depth"] == 1:  # w hyperplanes: at most 1 + w + w (w - 1) / 2 regions in a plane
            assert r["regions_in_slice"] <= 1 + r["width"] + math.comb(r["width"], 2)


def _trained(seed):
    torch.manual_seed(0)  # the head's default init
    net, head = cpa_mlp([3, 16, 2], seed=1), torch.nn.Linear(2, 2)
    losses = fit_prototype_classifier(net, head, PROTOS[:2] * 3, steps=150, noise_sd=0.3,
                                      lr=1e-2, seed=seed)
    return net, head, losses


def test_classifier_separates_well_separated_prototypes():
    net, head, losses = _trained(seed=2)
    assert not net.training and len(losses) == 150
    # prototypes 3 x N(0, I) apart, noise sd 0.3: the Bayes error is ~0, so the trained
    # classifier must label fresh noisy copies almost perfectly (>= 95% of 400)
    g = torch.Generator().manual_seed(9)
    x = torch.as_tensor(PROTOS[:2] * 3).float()
    labels = torch.arange(2).repeat(200)
    with torch.no_grad():
        pred = head(net(x[labels] + 0.3 * torch.randn(400, 3, generator=g))).argmax(1)
    assert (pred == labels).float().mean() >= 0.95
    _, _, again = _trained(seed=2)
    assert again == losses  # same seed and init, same numbers


def test_bad_input_names_the_argument():
    net = cpa_mlp([3, 8, 2], seed=0)
    with pytest.raises(ValueError, match="noise_sds"):
        output_law_sweep(net, PROTOS, [], **LAW)
    with pytest.raises(ValueError, match="noise_sds"):
        output_law_sweep(net, PROTOS, [0.1, -1.0], **LAW)
    with pytest.raises(ValueError, match="prototypes"):
        region_statistics_grid(PROTOS[:2], dim_out=2, widths=(4,), depths=(1,))
    with pytest.raises(ValueError, match="widths"):
        region_statistics_grid(PROTOS, dim_out=2, widths=(), depths=(1,))
    with pytest.raises(TypeError, match="head"):
        fit_prototype_classifier(net, 3.0, PROTOS, steps=1)
