import json

import numpy as np
import pytest
from scipy import stats

from mitheory import train as tr
from mitheory.stats import family_vote
from studies import entropy_during_training as edt


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    edt.main(["--quick", "--out", str(out)])
    return json.loads((out / "entropy_during_training.json").read_text()), out


def test_files_and_structure(written):
    res, out = written
    for ext in ("png", "pdf", "md"):
        assert (out / f"entropy_during_training.{ext}").stat().st_size > 0
    q = edt.QUICK
    assert res["protocol"] == "reconstructed" and res["claims"][0]["protocol"] == "reconstructed"
    assert res["steps"] == [0, 2, 4]  # step 0 (initialisation) + n_checkpoints evenly spaced
    assert sorted((r["method"], r["trial"]) for r in res["runs"]) == sorted(
        (m, t) for m in q.methods for t in range(q.n_trials))
    for r in res["runs"]:
        assert [h["step"] for h in r["history"]] == res["steps"]
        assert all(np.isfinite(v) for _, v in r["train"]["losses"])
        for f in edt.FOOTINGS:
            assert set(edt.ESTIMATORS) <= set(r["history"][-1][f])
    for f in edt.FOOTINGS:  # every estimator of every footing summarised over the trials
        for m in q.methods:
            assert set(res["summary"][f][m]) == set(edt.ESTIMATORS)
    assert res["claims"][0]["n_seeds"] == q.n_trials
    assert res["claims"][0]["verdict"] in ("supported", "not supported", "inconclusive")


def test_projector_entropies_recomputed(written):
    # the stored numbers are the library estimators on the stored footing: recompute one
    res, _ = written
    h = res["runs"][0]["history"][-1]["projector/isotropic"]
    assert all(np.isfinite(h[e]) for e in edt.ESTIMATORS)
    assert h["bhattacharyya_lower"] <= h["kl_upper"]  # Kolchinsky-Tracey bound ordering


def test_comparisons_reproduce_scipy(written):
    res, _ = written
    q, steps = edt.QUICK, res["steps"]
    comp = res["comparisons"][q.verdict_footing]
    other = q.methods[1]
    curves = tr.history_curves(res["runs"], q.verdict_footing, edt.ESTIMATORS)
    for t in comp["tests"]:
        if "error" in t:
            continue
        a, b = curves[q.reference][t["estimator"]], curves[other][t["estimator"]]
        if t["summary"] == "final":
            fa, fb = a[:, -1], b[:, -1]
        else:
            fa, fb = (np.trapezoid(c, steps, axis=1) / steps[-1] for c in (a, b))
        ref = stats.ttest_rel(fa, fb)
        # same closed form as scipy: agreement to rounding
        assert t["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
        assert t["statistic"] == pytest.approx(ref.statistic, rel=1e-9)
    claim = res["claims"][0]
    assert claim["verdict"] == comp["verdict"]
    assert claim["evidence"]["verdict_by_footing"][q.verdict_footing] == comp["verdict"]


def test_verdict_is_the_family_vote_of_the_stored_tests(written):
    # the claim is decided by a majority (2 of 3) of estimator families against every opponent
    res, _ = written
    q = edt.QUICK
    comp = res["comparisons"][q.verdict_footing]
    vote = family_vote(comp["tests"], edt.FAMILIES)
    assert vote["majority"] == 2 and vote["verdict"] == res["claims"][0]["verdict"]
    assert vote["per_opponent"] == res["claims"][0]["evidence"]["per_opponent"]


def _fake_cifar10(root, n=40):
    import pickle

    rng = np.random.default_rng(0)
    root.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(root / name, "wb") as fh:
            pickle.dump({b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                         b"labels": list(rng.integers(0, 10, n))}, fh)


@pytest.mark.slow
def test_dataset_paths(tmp_path):
    # the --dataset path (paper scale) runs end to end on a tiny fake CIFAR-10 and ImageFolder
    from PIL import Image

    _fake_cifar10(tmp_path / "cifar")
    for c in ("a", "b"):
        (tmp_path / "folder" / c).mkdir(parents=True)
        for i in range(40):
            arr = np.random.default_rng(i).integers(0, 256, (36, 40, 3), dtype=np.uint8)
            Image.fromarray(arr).save(tmp_path / "folder" / c / f"{i}.png")
    for ds in (f"cifar10:{tmp_path / 'cifar'}", f"imagefolder:{tmp_path / 'folder'}"):
        cfg = edt.replace(edt.QUICK, dataset=ds, augment="vicreg", n_eval=30)
        cell = edt.train_cell(cfg, "vicreg", 0)
        assert [h["step"] for h in cell["history"]] == [0, 2, 4]
        assert np.isfinite(cell["history"][-1]["projector/isotropic"]["logdet"])
    with pytest.raises(ValueError, match="augment"):
        edt.train_cell(edt.replace(edt.QUICK, dataset=f"cifar10:{tmp_path / 'cifar'}"),
                       "vicreg", 0)
    with pytest.raises(ValueError, match="dataset"):
        edt.train_cell(edt.replace(edt.QUICK, dataset="mnist:/x"), "vicreg", 0)
