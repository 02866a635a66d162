"""studies.cpa_mixture: the quick run produces consistent numbers, verdicts and outputs."""
import numpy as np
import pytest
import torch

from studies import cpa_mixture


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
