"""studies.bound_tightness: the truths against closed forms, the row statistics, the kind of
each ER value, the C1 verdict recomputed from the rows, and the written files."""
import json
import math

import numpy as np
import pytest

from mitheory.info.tasks import TASKS
from studies import bound_tightness as bt


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bound_tightness")
    return bt.main(["--quick", "--out", str(out)]), out


def _has_exact_entropy_y(name):
    try:
        return TASKS[name]().entropy("y").kind == "exact"
    except NotImplementedError:
        return False


def test_truths_match_closed_forms(quick):
    res, _ = quick
    truth = {t: v["value"] for t, v in res["truth"].items()}
    # 2v2 dense Gaussian, every correlation 0.5: det of each 2x2 block 3/4, of the joint
    # 2.5 * 0.5^3; I = 1/2 log(det S_x det S_y / det S) = 1/2 log 1.8 (float64 round-off)
    assert truth["2v2-normal-dense"] == pytest.approx(0.5 * math.log(1.8), rel=1e-12)
    # uniform X on S^2, Y | X ~ vMF(X, k): I = log(k / sinh k) + k coth k - 1
    k = 10.0
    want = math.log(k / math.sinh(k)) + k / math.tanh(k) - 1
    assert truth["sphere-vmf-d3-kappa10"] == pytest.approx(want, rel=1e-12)
    for r in res["rows"]:
        assert r["true_mi_nats"] == truth[r["task"]]


def test_rows_cover_every_task_estimator_and_size(quick):
    res, _ = quick
    cfg = bt.QUICK
    keys = {(r["task"], r["estimator"], r["n"]) for r in res["rows"]}
    assert keys == {(t, e, n) for t in cfg.tasks for e in bt.ESTIMATORS for n in cfg.sizes}
    for r in res["rows"]:
        v = np.array(r["values_nats"])
        assert len(v) == cfg.n_repeats
        # bias and RMSE are the replicate mean's error and the root mean squared error
        assert r["bias_nats"] == pytest.approx(v.mean() - r["true_mi_nats"], abs=1e-12)
        assert r["rmse_nats"] == pytest.approx(
            math.sqrt(np.mean((v - r["true_mi_nats"]) ** 2)), rel=1e-12)
        assert r["sd_nats"] == pytest.approx(np.std(v, ddof=1), rel=1e-12)


def test_er_kind_follows_whether_h_y_is_exact(quick):
    res, _ = quick
    for r in res["rows"]:
        if r["estimator"].startswith("er_"):
            exact = _has_exact_entropy_y(r["task"])
            assert r["kind"] == ("lower_bound" if exact else "estimate"), r["task"]
        elif r["estimator"] in ("infonce", "nwj", "mine"):
            assert r["kind"] == "lower_bound"


def test_c1_verdict_follows_its_criterion(quick):
    res, _ = quick
    (c1,) = res["claims"]
    cfg, rows = bt.QUICK, {(r["task"], r["estimator"], r["n"]): r for r in res["rows"]}

    def se(r):  # SE of a replicate mean: the larger of the replicate sd and the MC SE
        sd = np.std(r["values_nats"], ddof=1)
        mc = r["mc_se_nats"] if math.isfinite(r["mc_se_nats"]) else 0.0
        return max(sd, mc) / math.sqrt(cfg.n_repeats)

    broken = [k for k, r in rows.items() if k[1].startswith("er_") and r["kind"] == "lower_bound"
              and r["mean_nats"] > r["true_mi_nats"] + bt.SLACK_SE * se(r)]
    n, worse, better = max(cfg.sizes), 0, 0
    for t, d in zip(cfg.tasks, c1["evidence"]["decoder_comparison"]):
        lin, mlp = rows[(t, "er_linear", n)], rows[(t, "er_mlp", n)]
        slack = bt.SLACK_SE * math.hypot(se(lin), se(mlp))
        assert d["task"] == t and d["slack_nats"] == pytest.approx(slack, rel=1e-12)
        diff = mlp["mean_nats"] - lin["mean_nats"]
        assert d["improvement_nats"] == pytest.approx(diff, rel=1e-12)
        worse, better = worse + (diff < -slack), better + (diff > slack)
    assert len(c1["evidence"]["violations"]) == len(broken)
    want = "not supported" if broken or worse else "supported" if better else "inconclusive"
    assert c1["verdict"] == want
    exact_tasks = {t for t in cfg.tasks if _has_exact_entropy_y(t)}
    assert {b["task"] for b in c1["evidence"]["bound_checks"]} == exact_tasks


def test_main_writes_json_figure_and_tables(quick):
    _, out = quick
    for ext in ("json", "png", "pdf", "md", "csv"):
        assert (out / f"bound_tightness.{ext}").stat().st_size > 0
    saved = json.loads((out / "bound_tightness.json").read_text())
    assert saved["claims"][0]["claim"] == "C1"
    assert saved["meta"]["config"]["sizes"] == list(bt.QUICK.sizes)


def test_one_task_alone_draws_the_grids_samples(quick):
    # seeded by the task's name and size: the last quick task run alone gives its rows exactly
    from dataclasses import replace
    name = bt.QUICK.tasks[-1]
    alone = bt.run(replace(bt.QUICK, tasks=(name,)))["rows"]
    grid = [r for r in quick[0]["rows"] if r["task"] == name]
    assert alone and len(alone) == len(grid)
    for a, g in zip(alone, grid):  # equal, NaN (no MC standard error) matching NaN
        assert a.keys() == g.keys()
        assert all(a[k] == g[k] or (a[k] != a[k] and g[k] != g[k]) for k in a), a["estimator"]
