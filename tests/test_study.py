"""The study harness: threshold verdicts, grouping, claim records and the parallel grid."""
import pytest

from mitheory.claims import claim_verdict
from mitheory.study import Threshold, group_rows, mean_sd, parallel_map, threshold_verdict

R2 = Threshold("R^2", supported=(">=", 0.95), refuted=("<", 0.8))
EXCESS = Threshold("excess", supported=("<=", 0.1), refuted=(">", 0.3))


@pytest.mark.parametrize("r2,excess,want", [
    (0.95, 0.1, "supported"),          # both thresholds are inclusive as written
    (0.97, 0.2, "inconclusive"),       # one quantity in its grey zone
    (0.79, 0.0, "not supported"),      # one refuting quantity is enough
    (0.96, 0.31, "not supported"),
    (0.8, 0.3, "inconclusive"),        # exactly on the refuting side's boundary: not refuted
])


def test_threshold_verdict_decides_as_its_criterion_says(r2, excess, want):
    v = threshold_verdict("C3", {"R^2": r2, "excess": excess}, [R2, EXCESS], subject="ER")
    assert v["verdict"] == want
    assert v["criterion"] == ("ER: supported when R^2 >= 0.95 and excess <= 0.1; not supported "
                              "when R^2 < 0.8 or excess > 0.3; inconclusive otherwise")
    assert v["evidence"] == {"R^2": r2, "excess": excess}


def test_threshold_verdict_states_the_plateau_of_each_curve():
    v = threshold_verdict("C3", {"R^2": 0.93, "excess": 0.05}, [R2, EXCESS], subject="ER",
                          curves={"R^2": ([100, 200, 400], [0.6, 0.85, 0.93]),
                                  "excess": ([100, 200, 400], [0.2, 0.055, 0.05])},
                          notes="two seeds")
    assert v["evidence"]["plateau"] == {
        "R^2": "still rising at 400 steps (last change +0.080)",
        "excess": "plateaued at 400 steps (last change -0.005)"}
    assert v["notes"] == ("R^2 still rising at 400 steps (last change +0.080); excess plateaued "
                          "at 400 steps (last change -0.005). two seeds")
    with pytest.raises(ValueError, match="curves names no rule"):
        threshold_verdict("C3", {"R^2": 0.9}, [R2], subject="ER", curves={"other": ([1], [0.1])})


def test_threshold_verdict_rejects_bad_rules_and_values():
    with pytest.raises(ValueError, match="rules"):
        threshold_verdict("C2", {}, [], subject="x")
    with pytest.raises(ValueError, match="no entry"):
        threshold_verdict("C2", {"other": 1.0}, [R2], subject="x")
    with pytest.raises(ValueError, match="finite"):
        threshold_verdict("C2", {"R^2": float("nan")}, [R2], subject="x")
    with pytest.raises(ValueError, match="operator"):
        Threshold("q", supported=("=>", 1.0), refuted=("<", 0.0))
    with pytest.raises(ValueError, match="claim must be one of"):
        threshold_verdict("C99", {"R^2": 1.0}, [R2], subject="x")


def test_claim_verdict_record_and_errors():
    rec = claim_verdict("C1", "inconclusive", evidence={"a": 1}, criterion="rule", n_seeds=2)
    assert rec == {"claim": "C1", "verdict": "inconclusive", "criterion": "rule",
                   "protocol": "toolkit", "n_seeds": 2, "evidence": {"a": 1}, "notes": ""}
    with pytest.raises(ValueError, match="verdict must be one of"):
        claim_verdict("C1", "maybe", evidence={}, criterion="")
    with pytest.raises(ValueError, match="protocol"):
        claim_verdict("C1", "supported", evidence={}, criterion="", protocol="guess")


def test_group_rows_keeps_first_appearance_order():
    rows = [{"s": "b", "o": 1}, {"s": "a", "o": 1}, {"s": "b", "o": 2}]
    g = group_rows(rows, "s")
    assert list(g) == [("b",), ("a",)] and g[("b",)] == [rows[0], rows[2]]
    assert list(group_rows(rows, "s", "o")) == [("b", 1), ("a", 1), ("b", 2)]
    with pytest.raises(ValueError, match="no field"):
        group_rows(rows, "missing")
    assert mean_sd([1.0, 3.0]) == (2.0, 1.0)  # population sd of {1, 3}


def _cell(i, j):
    from mitheory.study import as_generator

    return float(as_generator((i, j)).standard_normal())


def test_parallel_map_is_identical_whatever_the_number_of_workers():
    args = [(i, j) for i in range(3) for j in range(2)]
    assert parallel_map(_cell, args, workers=1) == parallel_map(_cell, args, workers=2)
    with pytest.raises(ValueError, match="workers"):
        parallel_map(_cell, args, workers=0)


def test_decide_prefers_supported_then_refuted():
    from mitheory.study import decide
    assert [decide(s, r) for s, r in ((True, True), (True, False), (False, True),
                                      (False, False))] == [
        "supported", "supported", "not supported", "inconclusive"]


@pytest.mark.parametrize("values,tol,want", [
    ([0.3, 0.1], 0.05, "supported"),
    ([0.3, 0.04], 0.05, "inconclusive"),        # one value inside its tolerance band
    ([-0.3, -0.1], [0.05, 0.2], "inconclusive"),  # per-value tolerances: -0.1 > -0.2
    ([-0.3, -0.1], 0.05, "not supported"),
    ([0.0], 0.0, "inconclusive"),               # strict inequalities on both sides
    ([], 0.0, "inconclusive"),
])


def test_agreement_needs_every_value_on_one_side(values, tol, want):
    from mitheory.study import agreement
    assert agreement(values, tol) == want


def test_agreement_rejects_mismatched_and_nan_input():
    from mitheory.study import agreement
    with pytest.raises(ValueError, match="tol"):
        agreement([1.0, 2.0], [0.1])
    with pytest.raises(ValueError, match="finite"):
        agreement([float("nan")])


def test_best_of_sweep_calls_a_margin_only_beyond_the_larger_sd():
    from mitheory.study import best_of_sweep
    rows = [{"v": 0.5, "sd": 0.01}, {"v": 0.8, "sd": 0.05}, {"v": 0.7, "sd": 0.02}]
    b = best_of_sweep(rows, "v", sd_key="sd", min_margin=0.02)
    # best 0.8, runner-up 0.7: margin 0.1 > max(0.05, 0.02); float subtraction to 1e-12
    assert b["best"] is rows[1] and b["sd"] == 0.05 and b["called"]
    assert b["margin"] == pytest.approx(0.1, abs=1e-12)
    assert not best_of_sweep(rows, "v", sd_key="sd", min_margin=0.2)["called"]
    one = best_of_sweep(rows[:1], "v")
    assert one["best"] is rows[0] and not one["called"] and one["margin"] != one["margin"]
    with pytest.raises(ValueError, match="rows"):
        best_of_sweep([], "v")


def test_summarise_groups_is_mean_sd_per_group():
    from mitheory.study import summarise_groups
    rows = [{"g": "a", "v": 1.0, "w": None}, {"g": "b", "v": 5.0, "w": 2.0},
            {"g": "a", "v": 3.0, "w": 4.0}]
    out = summarise_groups(rows, ["g"], {"v": lambda r: r["v"], "w": lambda r: r["w"]},
                           count="n")
    # population sd of {1, 3} is 1; the row whose getter gives None is left out of w's mean
    assert out[0] == {"g": "a", "n": 2, "v": 2.0, "v_sd": 1.0, "w": 4.0, "w_sd": 0.0}
    assert out[1] == {"g": "b", "n": 1, "v": 5.0, "v_sd": 0.0, "w": 2.0, "w_sd": 0.0}
    assert summarise_groups(rows, ["g"], ["v"])[1] == {"g": "b", "v": 5.0, "v_sd": 0.0}


def test_changes_from_baseline_pairs_rows_by_position():
    from mitheory.study import changes_from_baseline
    rows = [{"c": "ctl", "v": 1.0, "t": 9}, {"c": "ctl", "v": 2.0, "t": 9},
            {"c": "x", "v": 1.5, "t": 9}, {"c": "x", "v": 1.0, "t": 9}]
    ctl, x = changes_from_baseline(rows, "c", "ctl", ["v"], carry=("t",))
    # the baseline against itself: no change
    assert ctl == {"c": "ctl", "t": 9, "v": 1.5, "v_change_mean": 0.0, "v_change_maxabs": 0.0}
    # paired differences 1.5 - 1.0 = 0.5 and 1.0 - 2.0 = -1.0 (exact in binary)
    assert x == {"c": "x", "t": 9, "v": 1.25, "v_change_mean": -0.25, "v_change_maxabs": 1.0}
    with pytest.raises(ValueError, match="baseline|no row"):
        changes_from_baseline(rows, "c", "none", ["v"])
    with pytest.raises(ValueError, match="paired"):
        changes_from_baseline(rows[:3], "c", "ctl", ["v"])


def test_torch_seeded_seeds_a_fork_of_the_global_rng():
    import torch

    from mitheory.study import torch_seeded
    torch.manual_seed(123)
    outside = torch.rand(3)  # the draw the caller's stream gives next, after re-seeding
    torch.manual_seed(123)
    with torch_seeded(7):
        inside = torch.rand(3)
    after = torch.rand(3)
    torch.manual_seed(7)
    assert torch.equal(inside, torch.rand(3))  # the block sees manual_seed(seed)
    assert torch.equal(after, outside)  # the caller's state is restored afterwards


def test_cached_process_is_built_once_and_is_make_process_at_int_seed():
    from mitheory.generative import make_process
    from mitheory.study import cached_process, int_seed

    proc = cached_process("cs_p1.0", (7, 0))
    assert cached_process("cs_p1.0", (7, 0)) is proc  # the cache: the same object
    ref = make_process("cs_p1.0", seed=int_seed((7, 0)))
    a, b = proc.sample_pairs(16, seed=0), ref.sample_pairs(16, seed=0)
    assert bool((a.x == b.x).all()) and bool((a.x_tilde == b.x_tilde).all())  # same: exact
    sharp = cached_process("sphere_vmf", (7, 0), kappa=25.0)  # options reach make_process
    assert sharp.kappa == 25.0 and cached_process("sphere_vmf", (7, 0)).kappa != 25.0


def test_sweep_verdict_follows_best_of_sweep_and_writes_its_criterion():
    from mitheory.study import sweep_verdict

    rows = [{"label": "a=1", "r2": 0.50, "r2_sd": 0.01}, {"label": "a=2", "r2": 0.60,
                                                           "r2_sd": 0.02}]
    win = sweep_verdict("C14", rows, "r2", "a=2", sd_key="r2_sd", min_margin=0.05,
                        subject="best a")
    # margin 0.1 > max(sd 0.02, floor 0.05): called, and the target is best
    assert win["verdict"] == "supported" and win["evidence"]["best"] == "a=2"
    assert win["evidence"]["r2"] == {"a=1": 0.5, "a=2": 0.6}
    assert "max(seed sd, 0.05)" in win["criterion"] and win["criterion"].startswith("best a:")
    assert sweep_verdict("C14", rows, "r2", "a=1", subject="s")["verdict"] == "not supported"
    close = [dict(rows[0], r2=0.58), rows[1]]  # margin 0.02 <= floor 0.05: not called
    assert sweep_verdict("C14", close, "r2", "a=2", min_margin=0.05,
                         subject="s")["verdict"] == "inconclusive"


def test_every_verdict_needs_every_point_and_nan_meets_neither_side():
    from mitheory.study import every_verdict

    def v(values):
        return every_verdict("C14", values, ("<", 1), (">=", 1), quantity="ratio",
                             over="batch size")["verdict"]

    assert v({8: 0.5, 16: 0.9}) == "supported"
    assert v({8: 1.0, 16: float("inf")}) == "not supported"  # >= 1 at both, inf included
    assert v({8: 0.5, 16: 1.5}) == "inconclusive"
    assert v({8: float("nan"), 16: float("nan")}) == "inconclusive"
    assert v({}) == "inconclusive"
    c = every_verdict("C14", {1: 0.5}, ("<", 1), (">=", 1), quantity="ratio", over="size")
    assert c["criterion"] == ("ratio < 1 at every size: supported; >= 1 at every one: not "
                              "supported; else inconclusive")
    with pytest.raises(ValueError, match="operator"):
        every_verdict("C14", {1: 0.5}, ("<<", 1), (">=", 1), quantity="q", over="x")


def test_summarise_fits_means_curves_and_plateau():
    from mitheory.study import summarise_fits

    def run(rep, c, s):
        ev = {"content": {"linear": c, "kernel": c}, "style": {"linear": s, "kernel": s}}
        return {"setting": "x", "objective": "m", "replicate": rep, "mcc": c, **ev,
                "curve": [{"step": 10, **ev}, {"step": 20, **ev}]}

    (row,) = summarise_fits([run(0, 0.8, 0.1), run(1, 0.9, 0.3)])
    assert row["content_r2_kernel"] == pytest.approx(0.85)  # mean of 0.8, 0.9
    assert row["content_r2_kernel_sd"] == pytest.approx(0.05)  # np.std, ddof 0
    assert row["style_r2_linear"] == pytest.approx(0.2) and "mcc_sd" not in row
    assert "style_from_content_r2_kernel" in row and row["style_from_content_r2_kernel"] != \
        row["style_from_content_r2_kernel"]  # NaN: no run has that block
    assert row["curve"]["step"] == [10, 20]
    assert row["curve"]["content_r2_kernel"] == pytest.approx([0.85, 0.85])
    assert row["plateau"].startswith("plateaued at 20 steps")  # equal checkpoints


def test_share_style_baseline_copies_within_each_process_only():
    from mitheory.study import share_style_baseline

    runs = [{"setting": "a", "replicate": 0, "style": {}, "style_from_content": {"kernel": 0.1}},
            {"setting": "a", "replicate": 0, "style": {}},
            {"setting": "a", "replicate": 1, "style": {}, "style_from_content": {"kernel": 0.7}},
            {"setting": "a", "replicate": 1, "style": {}},
            {"setting": "b", "replicate": 0}]  # no style block: left as it is
    share_style_baseline(runs)
    assert [r.get("style_from_content") for r in runs] == [
        {"kernel": 0.1}, {"kernel": 0.1}, {"kernel": 0.7}, {"kernel": 0.7}, None]
    with pytest.raises(ValueError, match="'setting': 'c'"):
        share_style_baseline([{"setting": "c", "replicate": 0, "style": {}}])
