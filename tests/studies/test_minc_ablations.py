"""minc_ablations: the ablation grid, the seed summary and each C14 rule from its evidence."""
import numpy as np
import pytest

from studies import minc_ablations as ma


@pytest.fixture(scope="module")
def res():
    return ma.run(ma.QUICK)  # BLAS is single-threaded for the whole session (conftest)


def test_grid_has_every_ablation_on_the_first_process(res):
    q = ma.QUICK
    labels = {r["label"] for r in res["summary"] if r["process"] == q.processes[0]}
    want = ({f"fmi alpha={a:g}" for a in q.alphas} | {f"minc gha ema={d:g}" for d in q.ema_decays}
            | {"minc full ema=0.8", "spectral"})
    assert labels == want


def test_summary_is_mean_and_sd_over_seeds(res):
    for row in res["summary"]:
        key = (row["process"], row["label"])
        sel = [r for r in res["runs"] if (r["process"], r["label"]) == key]
        assert row["n_seeds"] == len(sel) == ma.QUICK.n_seeds
        for k in ("content_r2_kernel", "effective_rank"):  # same floats, same order: exact
            assert (row[k], row[k + "_sd"]) == (np.mean([r[k] for r in sel]),
                                                np.std([r[k] for r in sel]))


def test_each_verdict_follows_its_rule_from_its_evidence(res):
    q, claims = ma.QUICK, {c["notes"]: c for c in res["claims"]}
    assert len(claims) == 4 and {c["claim"] for c in claims.values()} == {"C14"}
    ev = claims["part: collapse without GHA"]["evidence"]
    full, gha = ev["erank_full"] <= q.collapse_erank, ev["erank_gha"] <= q.collapse_erank
    assert claims["part: collapse without GHA"]["verdict"] == (
        "supported" if full and not gha else "not supported" if not full else "inconclusive")
    get = {(r["process"], r["label"]): r for r in res["summary"]}
    for note, prefix in (("part: best alpha = 2", "fmi alpha="),
                         ("part: best auxiliary EMA = 0.8", "minc gha ema=")):
        rows = [r for k, r in get.items() if k[1].startswith(prefix)]
        best = max(rows, key=lambda r: r["content_r2_kernel"])
        assert claims[note]["evidence"]["best"] == best["label"]
    ev = claims["part: MINC improves on spectral contrastive"]["evidence"]
    for p in q.processes:
        minc, spectral = get[(p, "minc gha ema=0.8")], get[(p, "spectral")]
        d = minc["content_r2_kernel"] - spectral["content_r2_kernel"]
        assert ev["minc_minus_spectral_r2_kernel"][p] == d  # same floats: exact
        assert ev["tolerance"][p] >= 0.02  # the floor below which no difference is called


def test_a_subset_of_the_sweep_trains_the_grids_cells(res):
    # seeded by names: alpha = 3 alone (2nd alpha of the quick grid) is the same cell
    from dataclasses import replace
    alone = ma.run(replace(ma.QUICK, alphas=(3.0,)))["runs"]
    pick = [[r for r in runs if r["label"] == "fmi alpha=3"] for runs in (alone, res["runs"])]
    assert len(pick[0]) == len(pick[1]) == 1
    drop = {"wall_time_s"}  # the one field that is a timing
    assert {k: v for k, v in pick[0][0].items() if k not in drop} == {
        k: v for k, v in pick[1][0].items() if k not in drop}
