import numpy as np
import pytest
from scipy import stats as sps

from mitheory.stats import (checkpoint_mean_se, family_vote, holm_adjust, paired_reference_tests,
                            relative_trend_status)


def _curves(seed=0):
    rng = np.random.default_rng(seed)
    ref = rng.normal(size=(5, 3)) + 10.0
    return {"ref": {"q": ref, "r": ref + 0.1 * rng.normal(size=(5, 3))},
            "b": {"q": rng.normal(size=(5, 3)), "r": ref + 0.1 * rng.normal(size=(5, 3))}}


def test_tests_are_scipy_ttest_rel_with_holm_per_summary():
    c, steps = _curves(), [0, 2, 4]
    tests = paired_reference_tests(c, "ref", steps, alpha=0.05)
    assert [(t["other"], t["estimator"], t["summary"]) for t in tests] == [
        ("b", q, s) for q in ("q", "r") for s in ("final", "auc")]
    p = {}
    for t in tests:
        a, b = c["ref"][t["estimator"]], c["b"][t["estimator"]]
        if t["summary"] == "final":
            fa, fb = a[:, -1], b[:, -1]
        else:  # trapezoid by hand: (h0 + 2 h1 + h2) / 2 * step 2, over the last step 4
            fa, fb = ((x[:, 0] + 2 * x[:, 1] + x[:, 2]) * 2 / 2 / 4 for x in (a, b))
        ref = sps.ttest_rel(fa, fb)
        assert t["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)  # same closed form
        p.setdefault(t["summary"], []).append(t["p_value"])
    for s, ps in p.items():  # Holm within each summary's family
        got = [t["p_holm"] for t in tests if t["summary"] == s]
        assert got == pytest.approx(list(holm_adjust(ps)), rel=1e-12)
    q_final = tests[0]  # ref is shifted by +10 (sd ~1.4 of a difference): t ~ 15
    assert q_final["outcome"] == "higher" and q_final["mean_difference"] > 0


def test_nan_gives_an_undetermined_test_outside_holm():
    c = _curves()
    c["b"]["q"][0, -1] = np.nan
    tests = paired_reference_tests(c, "ref", [1, 2, 3])
    bad = [t for t in tests if t["estimator"] == "q"]
    assert all(t["outcome"] == "undetermined" and "error" in t for t in bad)


def test_family_vote_on_a_hand_table():
    fam = {"one": ("a",), "two": ("b", "c"), "three": ("d",)}

    def table(outcome):
        return [{"other": o, "estimator": q, "summary": s, "outcome": outcome(o, q)}
                for o in ("x", "y") for q in "abcd" for s in ("final", "auc")]

    v = family_vote(table(lambda o, q: "higher" if o == "x" or q == "a" else "no difference"),
                    fam)
    assert v["majority"] == 2 and v["per_opponent"]["x"]["n_higher"] == 3
    assert v["per_opponent"]["y"]["families"] == {"one": "higher",
                                                  "two": "mixed or not significant",
                                                  "three": "mixed or not significant"}
    assert v["verdict"] == "inconclusive"  # 1 < 2 families higher against y, none lower
    # "two" says higher only if both b and c are: c alone is not enough
    v = family_vote(table(lambda o, q: "higher" if o == "x" or q in "ac" else "lower"), fam)
    assert v["per_opponent"]["y"]["families"]["two"] == "mixed or not significant"
    assert v["verdict"] == "inconclusive"  # against y: one higher, one lower (d), one mixed
    v = family_vote(table(lambda o, q: "higher" if o == "x" else "lower"), fam)
    assert v["verdict"] == "not supported"
    v = family_vote(table(lambda o, q: "higher" if q != "d" else "no difference"), fam)
    assert v["verdict"] == "supported"


def test_checkpoint_mean_se_ignores_nan_and_matches_numpy():
    c = np.array([[1.0, 2.0, np.nan], [3.0, np.nan, np.nan], [5.0, 4.0, np.nan]])
    out = checkpoint_mean_se(c)
    assert out["mean"] == [3.0, 3.0, None] and out["n_failed"] == 4
    assert out["se"][0] == pytest.approx(np.std([1, 3, 5], ddof=1) / np.sqrt(3), rel=1e-12)
    assert out["se"][1] == pytest.approx(np.std([2, 4], ddof=1) / np.sqrt(2), rel=1e-12)
    assert out["se"][2] is None


def test_relative_trend_is_trend_status_at_a_tolerance_of_the_last_value():
    assert relative_trend_status([5.0, 1.0, 1.019]) == "plateaued"  # |0.019| <= 0.02 * 1.019
    assert relative_trend_status([1.0, 1.03]) == "still rising"  # 0.03 > 0.0206
    assert relative_trend_status([-1.0, -1.1], rel_tol=0.05) == "still falling"
    assert relative_trend_status([1.0]) == "one checkpoint only"


def test_compare_with_reference_is_its_parts_with_the_stated_trend():
    from mitheory.stats import compare_with_reference

    c, steps, fam = _curves(), [0, 2, 4], {"f": ("q",), "g": ("r",)}
    c["b"]["r"][:, -1] = np.nan  # a failed last checkpoint: no trend for that quantity
    out = compare_with_reference(c, "ref", steps, fam, alpha=0.05)
    tests = paired_reference_tests(c, "ref", steps, alpha=0.05)
    assert out["tests"] == tests  # the same rows as calling the parts by hand
    assert {k: out[k] for k in ("per_opponent", "majority", "verdict")} == family_vote(tests, fam)
    for m in c:
        for q in c[m]:
            assert out["summary"][m][q] == checkpoint_mean_se(c[m][q])
    # trend of the last two checkpoint means, relative tolerance 2%; left out where one is None
    assert set(out["trend"]["b"]) == {"q"}
    for m, q in (("ref", "q"), ("ref", "r"), ("b", "q")):
        assert out["trend"][m][q] == relative_trend_status(out["summary"][m][q]["mean"][-2:])
    with pytest.raises(ValueError, match="rel_tol"):
        compare_with_reference(c, "ref", steps, fam, rel_tol=-0.1)


def test_family_vote_criterion_names_the_families_majority_and_opponents():
    from mitheory.stats import family_vote_criterion

    fam = {"logdet": ("logdet",), "pairwise": ("kl", "bh"), "knn": ("knn",)}
    text = family_vote_criterion("v", ["v", "s", "b"], fam, n_trials=5, alpha=0.01, on=" on x")
    assert text.startswith("v vs each of ['s', 'b'] on x: a family (logdet; pairwise = kl and "
                           "bh; knn) says higher")
    # majority of 3 families is 2, as family_vote decides
    assert ">= 2 of 3 families say higher" in text and ">= 2 say lower" in text
    assert "across 5 trials" in text and "p < 0.01" in text
    with pytest.raises(ValueError, match="methods"):
        family_vote_criterion("v", ["v"], fam, n_trials=5, alpha=0.05)


def test_family_vote_table_is_one_row_per_opponent():
    from mitheory.stats import family_vote_table

    vote = family_vote(paired_reference_tests(_curves(), "ref", [0, 2, 4]),
                       {"f": ("q",), "g": ("r",)})
    rows = family_vote_table(vote["per_opponent"])
    p = vote["per_opponent"]["b"]
    assert rows == [{"vs": "b", **p["families"], "families higher": p["n_higher"]}]
    with pytest.raises(ValueError, match="per_opponent"):
        family_vote_table({})
