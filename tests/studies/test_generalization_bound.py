import json
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image
from scipy import stats as sps

from mitheory.study import threshold_verdict
from studies import generalization_bound as gb


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    gb.main(["--quick", "--out", str(out)])
    return json.loads((out / "generalization_bound.json").read_text()), out


def test_files_and_structure(written):
    res, out = written
    for ext in ("png", "pdf", "md"):
        assert (out / f"generalization_bound.{ext}").stat().st_size > 0
    q = gb.QUICK
    assert res["protocol"] == "reconstructed" and res["checkpoints"] == [2, 4]
    assert len(res["points"]) == len(q.methods) * q.n_checkpoints * len(q.label_budgets)
    assert res["paper_pearson_r"] == 0.9633
    for p in res["points"]:
        assert p["n"] == p["per_class"] * res["n_classes"]
        # the gap is test minus train cross-entropy of the same probe (same arithmetic)
        assert p["gap"] == pytest.approx(p["test_ce"] - p["train_ce"], abs=1e-12)
        for b in gb.BOUNDS:
            bd = p["bounds"][b]
            assert bd["total"] == pytest.approx(sum(bd["terms"].values()), abs=1e-9)
            # every bound's empirical term is the probe's training loss
            assert bd["empirical_loss"] == pytest.approx(p["train_ce"], abs=1e-9)
        assert p["bounds"]["ssl_vicreg"]["reconstructed"]
        assert set(p["bounds"]["ssl_vicreg"]["terms"]) == {"empirical_loss", "invariance",
                                                           "complexity", "concentration"}


def test_correlations_and_verdict_are_recomputed_from_the_points(written):
    res, _ = written
    gap = [p["gap"] for p in res["points"]]
    for b in gb.BOUNDS:
        x = [p["bounds"][b]["gap_bound"] for p in res["points"]]
        c = res["correlations"][b]
        r, pval = sps.pearsonr(x, gap)
        assert c["pearson"]["r"] == pytest.approx(r, abs=1e-10)  # float64 rounding
        assert c["pearson"]["p_value"] == pytest.approx(pval, rel=1e-8)
        assert c["spearman"]["r"] == pytest.approx(sps.spearmanr(x, gap)[0], abs=1e-10)
        assert c["pearson"]["ci_low"] <= c["pearson"]["r"] <= c["pearson"]["ci_high"]
        assert res["fraction_bound_above_gap"][b] == np.mean(np.array(x) >= np.array(gap))
    corr = res["correlations"]
    sup = {b: corr[b]["pearson"]["r"] for b in gb.BOUNDS[1:]}
    best = max(sup.values())
    ssl = corr["ssl_vicreg"]["pearson"]
    values = {"r_ssl": ssl["r"], "ci_low_ssl": ssl["ci_low"], "r_ssl_minus_best": ssl["r"] - best,
              "ci_low_ssl_minus_best": ssl["ci_low"] - best}
    claim = res["claims"][0]
    again = threshold_verdict("C11", values, gb.C11_RULES, subject="x", protocol="reconstructed")
    assert claim["claim"] == "C11" and claim["verdict"] == again["verdict"]
    for k, v in values.items():
        assert claim["evidence"][k] == pytest.approx(v, abs=1e-12)  # the same arithmetic
    for r in res["runs"]:
        h = [x["test_accuracy_largest_budget"] for x in r["history"]]
        want = ("plateaued" if abs(h[-1] - h[-2]) <= 0.01 else
                "still rising" if h[-1] > h[-2] else "still falling")
        assert r["trend"] == want and f"{r['method']} {want}" in claim["notes"]


def test_imagefolder_dataset_runs(tmp_path):
    rng = np.random.default_rng(0)
    for c in range(3):  # 3 classes x 30 images whose mean colour differs by class
        (tmp_path / f"class{c}").mkdir()
        for i in range(30):
            px = np.clip(rng.normal(60 + 70 * c, 30, size=(32, 32, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(px).save(tmp_path / f"class{c}" / f"{i}.png")
    cfg = replace(gb.QUICK, dataset=f"imagefolder:{tmp_path}", n_unlabelled=40, n_boot=50)
    res = gb.run(cfg)
    assert res["n_classes"] == 3 and len(res["points"]) == 2 * 3
    assert all(np.isfinite(p["gap"]) for p in res["points"])


def test_unknown_dataset_raises():
    with pytest.raises(ValueError, match="dataset"):
        gb.run(replace(gb.QUICK, dataset="mnist:/x"))
