"""studies.bound_tightness: QUICK run structure, truth = tasks' closed forms, C1 evidence, files."""
import json
import math

import pytest

from mitheory.claims import VERDICTS
from mitheory.info.tasks import TASKS
from studies import bound_tightness as bt

ESTIMATORS = {"ksg1", "ksg2", "gaussian_logdet", "infonce", "nwj", "mine", "er_linear", "er_mlp"}


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bound_tightness")
    return bt.main(["--quick", "--out", str(out)]), out


def _has_exact_entropy_y(name):
    try:
        return TASKS[name]().entropy("y").kind == "exact"
    except NotImplementedError:
        return False


def test_rows_cover_every_task_estimator_and_size(quick):
    res, _ = quick
    cfg = bt.QUICK
    keys = {(r["task"], r["estimator"], r["n"]) for r in res["rows"]}
    assert keys == {(t, e, n) for t in cfg.tasks for e in ESTIMATORS for n in cfg.sizes}
    for r in res["rows"]:
        v = r["values_nats"]
        assert len(v) == cfg.n_repeats
        mean = sum(v) / len(v)
        # bias and RMSE are the replicate mean's error and the root mean squared error
        assert r["bias_nats"] == pytest.approx(mean - r["true_mi_nats"], abs=1e-12)
        rmse = math.sqrt(sum((u - r["true_mi_nats"]) ** 2 for u in v) / len(v))
        assert r["rmse_nats"] == pytest.approx(rmse, rel=1e-12)
        assert r["rmse_nats"] >= abs(r["bias_nats"]) - 1e-12  # RMSE^2 = bias^2 + variance


def test_truth_values_are_the_tasks_mutual_information(quick):
    res, _ = quick
    for name, truth in res["truth"].items():
        # the same closed form (or the task's fixed-seed Monte Carlo) evaluated again
        assert truth["value"] == TASKS[name]().mutual_information().value
    for r in res["rows"]:
        assert r["true_mi_nats"] == res["truth"][r["task"]]["value"]


def test_er_kind_follows_whether_h_y_is_exact(quick):
    res, _ = quick
    for r in res["rows"]:
        if r["estimator"].startswith("er_"):
            exact = _has_exact_entropy_y(r["task"])
            assert r["kind"] == ("lower_bound" if exact else "estimate"), r["task"]
        elif r["estimator"] in ("infonce", "nwj", "mine"):
            assert r["kind"] == "lower_bound"


def test_c1_verdict_with_evidence(quick):
    res, _ = quick
    (c1,) = res["claims"]
    assert c1["claim"] == "C1" and c1["verdict"] in VERDICTS and c1["criterion"]
    ev = c1["evidence"]
    exact_tasks = {t for t in bt.QUICK.tasks if _has_exact_entropy_y(t)}
    assert {b["task"] for b in ev["bound_checks"]} == exact_tasks
    assert [d["task"] for d in ev["decoder_comparison"]] == list(bt.QUICK.tasks)
    for d in ev["decoder_comparison"]:
        assert d["improvement_nats"] == pytest.approx(d["gap_linear_nats"] - d["gap_mlp_nats"])
        assert math.isfinite(d["slack_nats"]) and d["slack_nats"] > 0
    if ev["violations"]:
        assert c1["verdict"] == "not supported"


def test_main_writes_json_figure_and_tables(quick):
    _, out = quick
    for ext in ("json", "png", "pdf", "md", "csv"):
        assert (out / f"bound_tightness.{ext}").stat().st_size > 0
    saved = json.loads((out / "bound_tightness.json").read_text())
    assert saved["claims"][0]["claim"] == "C1"
    assert saved["meta"]["config"]["sizes"] == list(bt.QUICK.sizes)
