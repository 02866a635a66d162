import json

import numpy as np
import pytest

from mitheory.study import threshold_verdict
from studies import image_identifiability as ii

CONTENT, STYLE = ("pos_x", "pos_y", "scale"), ("rotation", "object_hue", "background_hue",
                                               "texture")


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    ii.main(["--quick", "--out", str(out)])
    return json.loads((out / "image_identifiability.json").read_text()), out


def test_files_and_structure(written):
    res, out = written
    for ext in ("png", "pdf", "md"):
        assert (out / f"image_identifiability.{ext}").stat().st_size > 0
    assert res["protocol"] == "reconstructed" and res["checkpoints"] == [2, 4]
    assert [r["objective"] for r in res["runs"]] == list(ii.QUICK.objectives)
    for r in res["runs"]:
        assert [h["step"] for h in r["history"]] == [2, 4]
        assert all(np.isfinite(v) for _, v in r["train"]["losses"])
        assert set(r["history"][-1]["r2"]) == set(CONTENT + STYLE)
        assert set(r["projector_output"]["r2"]) == set(CONTENT + STYLE)
    # 200 eval images of 10 uniform classes: the majority class holds ~0.1 (0.2 is > 4 sd off)
    assert 0.1 <= res["random_encoder"]["probe"]["chance"] < 0.2


def test_verdicts_are_recomputed_from_the_numbers(written):
    res, _ = written
    base = res["style_from_content"]
    for r, claim in zip(res["runs"], res["claims"]):
        last = r["history"][-1]["r2"]
        values = {"min_content_r2_kernel": min(last[n]["kernel"] for n in CONTENT),
                  "max_style_excess_over_content_prediction": max(
                      last[n]["kernel"] - base[n]["kernel"] for n in STYLE)}
        again = threshold_verdict("C3", values, ii.C3_RULES, subject=f"{r['objective']} on "
                                  "rendered images", protocol="reconstructed")
        assert claim["verdict"] == again["verdict"]
        for k, v in values.items():
            assert claim["evidence"][k] == pytest.approx(v, abs=1e-12)  # the same arithmetic
        h = [x["min_content_r2_kernel"] for x in r["history"]]
        want = ("plateaued" if abs(h[-1] - h[-2]) <= 0.01 else
                "still rising" if h[-1] > h[-2] else "still falling")
        assert r["trend"]["min_content_r2_kernel"] == want and want in claim["notes"]
        assert claim["evidence"]["random_encoder_probe_accuracy"] == \
            res["random_encoder"]["probe"]["accuracy"]
