import json
from dataclasses import replace

import pytest

from studies import latent_identifiability as li


@pytest.fixture(scope="module")
def quick_results():
    return li.run(li.QUICK)


def test_grid_trains_er_in_the_latents_geometry(quick_results):
    cfg, runs = li.QUICK, quick_results["runs"]
    cells = {(r["setting"], r["objective"]) for r in runs}
    # every setting x objective except the Euclidean ER on the spherical latent
    want = {(s, o) for s in cfg.settings for o in cfg.objectives
            if not (o == "er_gaussian" and s == "sphere_vmf")}
    assert cells == want and len(runs) == len(want) * cfg.n_seeds
    # sphere/box train zimmermann_steps_factor times longer (rounded), the others cfg.steps
    assert all(r["train"]["steps"] == round(cfg.steps * (cfg.zimmermann_steps_factor
                                                         if r["setting"] == "sphere_vmf" else 1))
               for r in runs)
    assert {r["train"]["steps"] for r in runs} == {60, 90}  # quick: 60 steps, x 1.5 on sphere
    cs = [r for r in runs if r["setting"].startswith("cs_")]
    # style of cs_p1.0 is independent of content: predicting it from the true content gives
    # R^2 ~ 0 (sampling sd ~ 1/sqrt(n_eval) = 0.05 at n_eval = 400)
    assert cs and all(abs(r["style_from_content"]["linear"]) < 0.15 for r in cs)


def test_verdicts_follow_their_rules_from_the_evidence(quick_results):
    claims = {c["claim"]: c for c in quick_results["claims"]}
    c2, c3 = claims["C2"], claims["C3"]
    assert c2["verdict"] == li.C2_RULE.decide(c2["evidence"][li.C2_RULE.name])
    assert c3["evidence"]["objective"] == "er_gaussian"  # the Euclidean form on c/s latents
    decided = [r.decide(c3["evidence"][r.name]) for r in li.C3_RULES]
    want = ("supported" if all(d == "supported" for d in decided) else
            "not supported" if "not supported" in decided else "inconclusive")
    assert c3["verdict"] == want
    # the evidence is the summary's own numbers: min over the c/s rows of er_gaussian
    rows = [r for r in quick_results["summary"] if r["objective"] == "er_gaussian"
            and r["setting"].startswith("cs_")]
    assert c3["evidence"]["min_content_r2_kernel"] == min(r["content_r2_kernel"] for r in rows)
    assert quick_results["protocol"] == "reconstructed"


def test_same_seed_same_numbers(quick_results):
    # every cell is seeded by its names: a rerun reproduces the numbers exactly (CPU)
    again = li.run(li.QUICK)
    a = [r["content"]["linear"] for r in quick_results["runs"]]
    b = [r["content"]["linear"] for r in again["runs"]]
    assert a == b


def test_a_subset_of_the_grid_draws_the_grids_cells(quick_results):
    # seeds follow names, not positions: cs_p1.0 x er alone (setting 2nd and objective 2nd in
    # the quick grid, 1st here) has the same process, training and evaluation (CPU: exact)
    alone = li.run(replace(li.QUICK, settings=("cs_p1.0",), objectives=("er",)))["runs"]
    full = [r for r in quick_results["runs"]
            if (r["setting"], r["objective"]) == ("cs_p1.0", "er")]
    assert len(alone) == len(full) == 1
    assert alone[0]["content"] == full[0]["content"]
    # the baseline is computed by the first objective, er here and infonce in the grid: the
    # process's evaluation stream makes it the same
    assert alone[0]["style_from_content"] == full[0]["style_from_content"]
    assert alone[0]["train"]["losses"] == full[0]["train"]["losses"]


def test_main_quick_writes_files(tmp_path):
    li.main(["--quick", "--out", str(tmp_path), "--settings", "cs_p0.75", "--objectives",
             "vicreg"])
    data = json.loads((tmp_path / "latent_identifiability.json").read_text())
    assert data["meta"]["config"]["settings"] == ["cs_p0.75"]
    for ext in ("png", "pdf", "md", "csv"):
        assert (tmp_path / f"latent_identifiability.{ext}").stat().st_size > 0


def test_unknown_setting_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="cs_p0.5"):
        li.main(["--quick", "--out", str(tmp_path), "--settings", "cs_p0.5"])


def test_every_cell_has_a_budget_curve_and_every_verdict_its_plateau(quick_results):
    from mitheory.stats import log_checkpoints, plateau_status
    cfg = li.QUICK
    for r in quick_results["runs"]:
        assert [c["step"] for c in r["curve"]] == log_checkpoints(r["train"]["steps"],
                                                                  cfg.n_checkpoints)
        assert r["curve"][-1]["content"] == r["content"]  # the last point is the final number
    for row in quick_results["summary"]:
        c = row["curve"]
        assert row["plateau"] == plateau_status(c["step"], c["content_r2_kernel"])["text"]
    for claim in quick_results["claims"]:
        plateau = claim["evidence"]["plateau"]
        assert set(plateau) == {r.name for r in (li.C3_RULES if claim["claim"] == "C3"
                                                 else (li.C2_RULE,))}
        # C2 is on the sphere (zimmermann_steps_factor x steps), C3 on the content/style settings
        n = round(cfg.steps * cfg.zimmermann_steps_factor) if claim["claim"] == "C2" else cfg.steps
        assert all(f"at {n} steps" in t for t in plateau.values())
        assert claim["notes"].startswith(next(iter(plateau)))


def test_step_budgets_per_setting_and_objective():
    cfg = replace(li.Config(), dependent_infonce_steps_factor=3.0)
    steps = {(o, s): cfg.train_config(o, s).steps for o in ("infonce", "er")
             for s in ("sphere_vmf", "cs_p1.0", "cs_stat", "cs_stat_causal")}
    base = cfg.steps
    assert steps["infonce", "sphere_vmf"] == steps["er", "sphere_vmf"] == round(
        base * cfg.zimmermann_steps_factor)
    # only InfoNCE on the dependent settings gets the dependent factor
    for s in ("cs_stat", "cs_stat_causal"):
        assert steps["infonce", s] == round(base * cfg.dependent_infonce_steps_factor)
        assert steps["er", s] == base
    assert steps["infonce", "cs_p1.0"] == base
    # paper scale: 100k steps on every content/style cell, whatever the objective
    assert {li.PAPER.train_config(o, s).steps for o in ("infonce", "er")
            for s in ("cs_p1.0", "cs_stat")} == {100_000}
