"""studies.gmm_collapse: the data's entropy bounds and the GMM log-likelihood against closed
forms, the C10 verdict against its own thresholds, and the written files."""
import json
import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal

from studies import gmm_collapse as gc


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("gmm_collapse")
    return gc.main(["--quick", "--out", str(out)]), out


def test_data_entropy_bounds_match_the_separated_mixture_closed_form(quick):
    res, _ = quick
    s2 = gc.QUICK.cluster_sd**2
    # 4 equal components, each N(c, s^2 I_2): H -> log 4 + log(2 pi e s^2) once they separate
    want = math.log(4) + math.log(2 * math.pi * math.e * s2)
    lo, hi = res["h_data_bounds_nats"]
    # centres 10 sd apart: the pairwise overlap terms are ~exp(-3^2 / (8 s^2)) = 4e-6
    assert lo <= hi and lo == pytest.approx(want, abs=1e-4) and hi == pytest.approx(want, abs=1e-4)


def test_loglik_is_the_mean_gmm_log_density():
    g = np.random.default_rng(0)
    x0, mu0 = torch.as_tensor(g.normal(size=(50, 2))), torch.as_tensor(g.normal(size=(3, 2)))
    first = gc.fit(x0, mu0, False, replace(gc.QUICK, n_steps=1, record_every=1))[0]  # step 0
    var = float(x0.std()) ** 2  # the fit starts at s = the data's sd
    dens = np.mean([multivariate_normal(m, var * np.eye(2)).pdf(x0.numpy()) for m in mu0.numpy()],
                   axis=0)
    # scipy's density against the library's logsumexp form: float64 round-off
    assert first["loglik_nats"] == pytest.approx(np.log(dens).mean(), rel=1e-12)
    assert first["s"] == pytest.approx(math.sqrt(var), rel=1e-12)


def test_c10_verdict_follows_its_thresholds(quick):
    res, _ = quick
    (claim,) = res["claims"]
    h_lo = res["h_data_bounds_nats"][0]
    drops = {s: [h_lo - r["h_upper_final_nats"] for r in res["summary"] if r["setting"] == s]
             for s in gc.SETTINGS}
    values = {gc.C10_RULES[0].name: min(drops["trainable_inputs"]),
              gc.C10_RULES[1].name: max(drops["fixed_inputs"])}
    decided = {r.decide(values[r.name]) for r in gc.C10_RULES}
    want = ("supported" if decided == {"supported"} else
            "not supported" if "not supported" in decided else "inconclusive")
    assert claim["verdict"] == want
    assert {k: claim["evidence"][k] for k in values} == values
    for r in res["summary"]:
        assert r["collapsed"] == (h_lo - r["h_upper_final_nats"] >= gc.COLLAPSE_NATS)


def test_trainable_inputs_end_below_the_fixed_input_fit(quick):
    res, _ = quick
    final = {s["setting"]: s for s in res["summary"]}
    # bounds, not estimates: the collapsed fit's upper bound is below the other's lower bound
    assert final["trainable_inputs"]["h_upper_final_nats"] < final["fixed_inputs"][
        "h_lower_final_nats"]


def test_main_writes_json_figure_and_table(quick):
    _, out = quick
    saved = json.loads((out / "gmm_collapse.json").read_text())
    assert saved["protocol"] == "reconstructed" and saved["meta"]["config"]["n_seeds"] == 1
    for ext in ("png", "pdf", "md", "csv"):
        assert (out / f"gmm_collapse.{ext}").stat().st_size > 0
