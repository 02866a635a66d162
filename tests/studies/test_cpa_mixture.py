"""studies.cpa_mixture: Monte Carlo against the exact TV bound, entropy bound ordering, region
counts against the hyperplane-arrangement limits, and the C6 verdict against its criterion."""
import math

import numpy as np
import pytest
import torch

from studies import cpa_mixture as cm


@pytest.fixture(scope="module")
def res():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(12345)  # any global torch state: run() seeds its own fork of it
        return cm.run(cm.QUICK)


def test_exit_probability_is_below_the_tv_bound(res):
    n = cm.QUICK.n_exit_samples * cm.QUICK.n_prototypes
    for rows in res["sweeps"].values():
        for r in rows:
            # the MC exit probability estimates a quantity <= the exact TV bound; 4 binomial SEs
            assert r["exit_mc"] <= r["tv_bound"] + 4 * np.sqrt(0.25 / n) + 1e-12
            if r["tv_bound"] == 0:
                assert r["exit_mc"] == 0
        assert rows[0]["tv_bound"] < rows[-1]["tv_bound"]  # more noise, more exits


def test_entropy_bounds_are_ordered_below_the_gaussian_maximum(res):
    # bounds are None where a component is degenerate (QUICK's trained net has a rank-deficient
    # A_n: entropy -inf); the random net has them at every scale
    rows = [r for rows in res["sweeps"].values() for r in rows
            if r["tv_bound"] < cm.EXACT_TV and r["h_lower_bhatt_nats"] is not None]
    assert {r["network"] for r in rows} >= {"random"}
    for r in rows:
        lo, hi, gauss = r["h_lower_bhatt_nats"], r["h_upper_kl_nats"], r["h_gauss_mc_nats"]
        assert lo <= hi + 1e-9  # Bhattacharyya lower <= KL upper (float round-off)
        # H(mixture) <= H(Gaussian of the same covariance); the Gaussian value is a plug-in
        # from n_samples = 300 draws in 3-D (its error is well below 0.1 nats)
        assert lo <= gauss + 0.1


def test_depth_one_region_counts_respect_the_arrangement_limits(res):
    one = [r for r in res["regions"] if r["depth"] == 1]
    assert [r["width"] for r in one] == list(cm.QUICK.region_widths)
    for r in one:
        w = r["width"]
        # w hyperplanes: a segment crosses each at most once, so it meets <= w + 1 regions
        assert r["regions_per_segment_max"] <= w + 1
        # w lines cut a plane into at most 1 + w + w (w - 1) / 2 regions
        assert r["regions_in_slice"] <= 1 + w + math.comb(w, 2)


def test_c6_verdict_follows_its_criterion(res):
    (claim,) = res["claims"]
    exact_everywhere, agree = True, True
    for name, rows in res["sweeps"].items():
        exact = [r for r in rows if r["tv_bound"] < cm.EXACT_TV]
        ev = claim["evidence"][name]
        assert ev["n_scales_exact_regime"] == len(exact)
        exact_everywhere &= bool(exact)
        ok = all(r["p_whitened"] >= cm.ALPHA / len(exact) and r["mean_err_se"] < cm.MEAN_SE
                 for r in exact)
        early = [r["sigma"] for r in rows if r["p_whitened"] < cm.ALPHA and r["exit_mc"] < cm.EXIT]
        assert ev["exact_regime_agrees"] == ok and ev["rejections_with_exit_below_1pct"] == early
        agree &= ok and not early
    want = ("inconclusive" if not exact_everywhere else "supported" if agree else
            "not supported")
    assert claim["verdict"] == want
    for v in (cm.EXACT_TV, cm.ALPHA, cm.MEAN_SE):
        assert f"{v:g}" in claim["criterion"]
