import json
import pickle

import numpy as np
import pytest

from mitheory.stats import pairwise_distances_vs_noise
from mitheory.study import threshold_verdict
from mitheory import train as tr
from studies import normality_vs_noise as nv

Q = nv.QUICK


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    nv.main(["--quick", "--out", str(out)])
    return json.loads((out / "normality_vs_noise.json").read_text()), out


def test_files_and_structure(written):
    res, out = written
    for ext in ("png", "pdf"):
        assert (out / f"normality_vs_noise.{ext}").stat().st_size > 0
    assert res["protocol"] == "reconstructed" and res["decisive_test"] == Q.methods[0]
    assert [(r["objective"], r["trial"]) for r in res["runs"]] == [
        (o, t) for o in Q.objectives for t in range(Q.n_trials)]
    for r in res["runs"]:
        assert [row["s"] for row in r["sweep"]] == list(Q.noise_scales)
        assert list(r["exit_small_scales"]) == [str(s) for s in Q.exit_scales]
        assert [h["step"] for h in r["history"]] == res["checkpoints"]
        for row in r["sweep"]:
            assert len(row["tests"]) == len(row["exit"]) == Q.n_prototypes
            assert all(0 <= e <= 1 for e in row["exit"])
            for t in row["tests"]:
                assert set(t) == set(Q.methods)
                assert all(0 <= v["p_value"] <= 1 and v["dim"] == Q.test_dim
                           and v["reject"] == (v["p_value"] <= Q.alpha) for v in t.values())
            for m in Q.methods:  # the pass fraction is the share of prototypes not rejected
                assert row[f"pass_{m}"] == np.mean([not t[m]["reject"] for t in row["tests"]])
            # the noise norm s sqrt(D) of a 3 x 32 x 32 image
            assert row["noise_norm"] == pytest.approx(row["s"] * np.sqrt(3072), rel=1e-12)
        assert np.isfinite(r["sweep"][0]["float32_error_over_output_sd"])
    assert 0 < res["knn_chance"] <= 1
    d = res["distances"]
    assert list(d) == ["world", "digits"]
    assert (d["world"]["dim"], d["digits"]["dim"]) == (3072, 64)
    for v in d.values():
        fr = [v["fraction_apart"][str(s)] for s in Q.noise_scales]
        assert fr == sorted(fr, reverse=True)  # a larger noise norm separates fewer pairs
        q = list(v["quantiles"].values())
        assert q == sorted(q) and q[0] > 0


def test_verdicts_are_recomputed_from_the_numbers(written):
    res, _ = written
    key = f"pass_{Q.methods[0]}"
    for name, claim in zip(Q.objectives, res["claims"]):
        runs = [r for r in res["runs"] if r["objective"] == name]
        passed = np.mean([[row[key] for row in r["sweep"]] for r in runs], axis=0)
        fail = [i for i, p in enumerate(passed) if p < 0.75] + [len(passed)]
        s_gauss = Q.noise_scales[max(fail[0] - 1, 0)]
        values = {"pass_small_noise": passed[0], "pass_drop": passed[0] - passed[-1],
                  "pairs_apart_at_s_gauss": res["distances"]["world"]["fraction_apart"][
                      str(s_gauss)]}
        again = threshold_verdict("C7", values, nv.C7_RULES, subject="x",
                                  protocol="reconstructed")
        assert claim["verdict"] == again["verdict"] and claim["claim"] == "C7"
        assert claim["evidence"]["s_gauss"] == s_gauss
        for k, v in values.items():
            assert claim["evidence"][k] == pytest.approx(v, abs=1e-12)  # the same arithmetic
        for k in ("loss", "knn_accuracy"):
            assert claim["evidence"]["trend"][k] == sorted({r["trend"][k] for r in runs})


def test_distances_of_a_user_cifar_folder(tmp_path):
    # a fake CIFAR-10 layout: 6 pickles of 4 uint8 images; two images differ in one pixel by 255
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(4, 3072), dtype=np.uint8)
        with open(tmp_path / name, "wb") as fh:
            pickle.dump({b"data": data, b"labels": [0, 1, 2, 3]}, fh)
    x, y = tr.sample_images(f"cifar10:{tmp_path}", 10, seed=0)
    assert x.shape == (10, 3, 32, 32) and float(x.max()) <= 1.0 and len(y) == 10
    two = x[:2].clone()
    two[1] = two[0]
    two[1, 0, 0, 0] = 1.0 - two[0, 0, 0, 0]
    d = pairwise_distances_vs_noise(two, (0.1,))
    gap = abs(1.0 - 2 * float(two[0, 0, 0, 0]))  # the one pixel difference
    assert d["quantiles"]["0.5"] == pytest.approx(gap, rel=1e-6)  # float32 pixels
    assert d["fraction_apart"]["0.1"] == float(gap > 2 * 0.1 * np.sqrt(3072))


@pytest.mark.parametrize("spec", ["mnist", "cifar10:", "imagefolder"])
def test_unknown_dataset_raises(spec):
    with pytest.raises(ValueError, match="dataset must be"):
        tr.sample_images(spec, 4, seed=0)


def test_training_on_a_dataset_needs_one():
    with pytest.raises(ValueError, match="train_on"):
        nv.run(nv.replace(Q, train_on="dataset"))
