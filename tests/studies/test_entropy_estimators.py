"""entropy_estimators: the checkpoint tracks, the exact latent MI, and the C12 / C1 rules."""
import numpy as np
import pytest
from scipy import special

from mitheory.study import cached_process
from studies import entropy_estimators as ee


@pytest.fixture(scope="module")
def res():
    return ee.run(ee.QUICK)  # BLAS is single-threaded for the whole session (conftest)


def test_every_cell_tracks_every_checkpoint(res):
    q = ee.QUICK
    assert len(res["runs"]) == len(q.settings) * q.n_seeds * len(q.objectives)
    for r in res["runs"]:
        assert [t["steps"] for t in r["track"]] == list(q.checkpoints)
        for t in r["track"]:  # nan only together: a collapsed residual has no decoder density
            assert np.isfinite(t["er_bound"]) == np.isfinite(t["er_bound_se"])


def test_true_latent_mi_is_the_vmf_closed_form(res):
    proc = cached_process("sphere_vmf", (ee.QUICK.seed, 0, 0))  # the study's replicate 0
    d, k = proc.dim_z, proc.kappa
    # independent twin: log area(S^{d-1}) - H(vMF), H(vMF) = -log C_d(k) - k A_d(k) (Mardia &
    # Jupp 9.3.4), written with scipy's scaled Bessel functions
    nu = d / 2 - 1
    log_c = nu * np.log(k) - (d / 2) * np.log(2 * np.pi) - (np.log(special.ive(nu, k)) + k)
    a = special.ive(d / 2, k) / special.ive(nu, k)
    want = (np.log(2) + (d / 2) * np.log(np.pi) - special.gammaln(d / 2)) - (-log_c - k * a)
    for r in res["runs"]:  # two float64 routes to the same number: round-off only
        assert r["true_latent_mi"] == pytest.approx(want, rel=1e-9)


def test_summary_is_the_mean_over_replicates(res):
    for row in res["summary"]:
        rs = [r for r in res["runs"] if (r["setting"], r["objective"]) ==
              (row["setting"], row["objective"])]
        assert row["probe_accuracy"] == pytest.approx(np.mean([r["probe_accuracy"] for r in rs]))
        assert row["er_bound_final"] == pytest.approx(
            np.mean([r["track"][-1]["er_bound"] for r in rs]), nan_ok=True)


def test_verdicts_follow_the_rules_from_their_own_evidence(res):
    claims = {c["claim"]: c for c in res["claims"]}
    assert set(claims) == {"C12", "C1"}
    # C12, as the claim reads: the best entropy variant beats VICReg's probe by > 0.02
    acc = claims["C12"]["evidence"]["probe_accuracy"]
    best = max(a for o, a in acc.items() if o != "vicreg")
    want = ("supported" if best > acc["vicreg"] + 0.02 else "not supported"
            if best < acc["vicreg"] - 0.02 else "inconclusive")
    assert claims["C12"]["verdict"] == want
    # C1: count the exceedances (> 2 SE above the exact latent MI) again from the tracks
    pts = [(t["er_bound"], t["er_bound_se"], r["true_latent_mi"]) for r in res["runs"]
           for t in r["track"] if np.isfinite(t["er_bound"])]
    above = sum(e - 2 * se > m for e, se, m in pts)
    assert claims["C1"]["evidence"]["n_above_truth_2se"] == above
    assert claims["C1"]["verdict"] == ("supported" if above == 0 else "inconclusive")


def test_a_subset_of_the_objectives_trains_the_grids_cells(res):
    # seeded by names: vicreg_logdet alone (2nd objective of the quick grid) is the same cell
    from dataclasses import replace
    alone = ee.run(replace(ee.QUICK, objectives=("vicreg_logdet",)))["runs"]
    full = [r for r in res["runs"] if r["objective"] == "vicreg_logdet"]
    assert len(alone) == len(full) == 1
    assert alone[0]["track"] == full[0]["track"]
    assert alone[0]["probe_accuracy"] == full[0]["probe_accuracy"]
