"""The three cpa studies: quick runs produce consistent numbers, verdicts and outputs."""
import json

import numpy as np
import pytest
import torch

from studies import cpa_mixture, diagonal_optimum, gmm_collapse


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Small tensors: one thread is several times faster on a busy 2-core machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def mixture_results():
    return cpa_mixture.run(cpa_mixture.QUICK)


def test_cpa_mixture_quick(mixture_results):
    res = mixture_results
    (claim,) = res["claims"]
    assert claim["claim"] == "C6" and claim["verdict"] in ("supported", "not supported",
                                                           "inconclusive")
    for name, rows in res["sweeps"].items():
        for r in rows:
            n = cpa_mixture.QUICK.n_exit_samples * cpa_mixture.QUICK.n_prototypes
            # the MC exit probability estimates a quantity <= the exact TV bound; 4 binomial SEs
            assert r["exit_mc"] <= r["tv_bound"] + 4 * np.sqrt(0.25 / n) + 1e-12
            if r["tv_bound"] == 0:
                assert r["exit_mc"] == 0
        sig = [r["sigma"] for r in rows]
        assert sig == sorted(sig)
        tv = [r["tv_bound"] for r in rows]
        assert tv[0] < tv[-1]  # more noise, more exits (property)
    regions = res["regions"]
    assert {r["depth"] for r in regions} == set(cpa_mixture.QUICK.region_depths)
    for r in regions:
        assert r["regions_per_segment_mean"] >= 1 and r["boundary_distance_min"] > 0


def test_diagonal_optimum_quick():
    res = diagonal_optimum.run(diagonal_optimum.QUICK)
    assert res["protocol"] == "reconstructed"
    assert res["claims"][0]["protocol"] == "reconstructed"
    for r in res["runs"]:
        assert r["gap_final_nats"] >= -1e-9  # Hadamard: gap >= 0 up to float round-off
        if r["objective"] in ("entropy", "vicreg"):
            assert r["dist_final"] < r["dist_init"]
    control = [r["dist_final"] for r in res["runs"] if r["objective"] == "spectrum"]
    assert min(control) > 0.05  # rotation-invariant objective: no pull towards diagonal


def test_gmm_collapse_quick_main(tmp_path):
    gmm_collapse.main(["--quick", "--out", str(tmp_path)])
    data = json.loads((tmp_path / "gmm_collapse.json").read_text())
    assert data["protocol"] == "reconstructed"
    assert {"png", "pdf", "md", "csv"} <= {p.suffix[1:] for p in tmp_path.iterdir()}
    final = {s["setting"]: s for s in data["summary"]}
    # trainable inputs: certified entropy drop below the fixed-input fit (bounds, not estimates)
    assert final["trainable_inputs"]["h_upper_final"] < final["fixed_inputs"]["h_lower_final"]
    lo, hi = data["h_data_bounds_nats"]
    assert lo <= hi
